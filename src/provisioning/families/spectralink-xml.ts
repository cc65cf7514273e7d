// The 84-Series file format (SPEC §5.7.2): XML whose parameters are
// attributes of grouping elements inside <PHONE_CONFIG>, and the master file
// whose <APPLICATION> lists CONFIG_FILES. One attribute per line, so golden
// files read as a parameter list.
import { ProvisioningRefusal } from '../types.ts';

/** A grouping element: its name is free (the handset reads only the attributes). */
export interface ParamGroup {
  element: string;
  /** Why these values, for the administrator reading the file. */
  comment?: string;
  params: ReadonlyArray<readonly [name: string, value: string]>;
}

const PROLOGUE = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';

/**
 * Escapes an attribute value. Newlines become character references: an XML
 * parser turns a literal newline in an attribute into a space, which would
 * break a PEM certificate.
 */
export function xmlAttr(value: string): string {
  return value.replace(/[&<>"\n\r\t]/g, (c) => ESCAPES[c]!);
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\n': '&#10;', '\r': '&#13;', '\t': '&#9;',
};

/** `--` may not appear inside an XML comment. */
function comment(text: string, indent: string): string {
  return `${indent}<!-- ${text.replace(/--/g, '- -')} -->\n`;
}

/** What XML 1.0 cannot carry even as a reference: C0 controls but tab, CR, LF; lone surrogates; U+FFFE/U+FFFF. */
// eslint-disable-next-line no-control-regex
const NOT_XML = /[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * A configuration file; groups without parameters are left out.
 * @throws ProvisioningRefusal naming (never showing) a value XML cannot carry
 */
export function configFile(header: string, groups: readonly ParamGroup[]): string {
  let out = PROLOGUE + comment(header, '') + '<PHONE_CONFIG>\n';
  for (const g of groups) {
    if (g.params.length === 0) continue;
    if (g.comment !== undefined) out += comment(g.comment, '  ');
    out += `  <${g.element}\n`;
    for (const [name, value] of g.params) {
      if (NOT_XML.test(value)) throw new ProvisioningRefusal(`${name} holds a control character the handset's XML cannot carry: change it`);
      out += `    ${name}="${xmlAttr(value)}"\n`;
    }
    out += '  />\n';
  }
  return out + '</PHONE_CONFIG>\n';
}

/** The master file: the files to load in order, the per-phone one first (§5.7.2). */
export function masterFile(header: string, configFiles: readonly string[]): string {
  return PROLOGUE + comment(header, '')
    + '<APPLICATION\n'
    + '  APP_FILE_PATH=""\n'
    + `  CONFIG_FILES="${xmlAttr(configFiles.join(', '))}"\n`
    + '  MISC_FILES=""\n'
    + '/>\n';
}
