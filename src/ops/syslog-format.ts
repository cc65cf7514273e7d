// RFC 5424 message formatting, secret redaction and RFC 6587 octet-counting
// framing: pure functions, so the exact bytes are testable with a fixed clock.

/** RFC 5424 §6.2.1 severities of the logger levels we send. */
export const SEVERITY = { error: 3, warn: 4, info: 6, debug: 7 } as const;

/**
 * SD-ID of the element carrying the log call's fields. 32473 is the private
 * enterprise number IANA reserves for examples and documentation (RFC 5612);
 * a collector treats the element as opaque, which is all we need.
 */
export const FIELDS_SD_ID = 'fields@32473';

export interface SyslogRecord {
  facility: number;
  severity: number;
  /** Epoch milliseconds. */
  time: number;
  hostname: string;
  appName: string;
  procId: string;
  /** Already redacted/flattened fields; see toFields. */
  fields: ReadonlyArray<readonly [string, string]>;
  msg: string | undefined;
  msgId?: string;
}

const SECRET_NAME = /(password|passwd|secret|key|ha1|authorization)$/i;
const MAX_DEPTH = 4;
const MAX_KEYS = 32;
const MAX_ARRAY = 20;
const MAX_VALUE_CHARS = 1024;
const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/**
 * A bounded plain copy of a logged value with every secret field written as
 * "***": fields named password/secret/key/ha1/authorization (any case, also
 * as a suffix: registerPassword, privateKey), and { name, value } header pairs
 * whose name is one of those. Errors become { message, code }.
 */
export function redact(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'bigint') return value.toString();
    if (typeof value === 'function' || typeof value === 'symbol') return undefined;
    return value;
  }
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return typeof code === 'string' ? { message: value.message, code } : { message: value.message };
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (Buffer.isBuffer(value)) return `<${value.length} bytes>`;
  if (depth >= MAX_DEPTH) return '[...]';
  if (Array.isArray(value)) {
    const out = value.slice(0, MAX_ARRAY).map((v) => redact(v, depth + 1));
    if (value.length > MAX_ARRAY) out.push(`[${value.length - MAX_ARRAY} more]`);
    return out;
  }
  if (value instanceof Map) return redact(Object.fromEntries([...value].slice(0, MAX_KEYS)), depth);
  const src = value as Record<string, unknown>;
  const headerPair = typeof src.name === 'string' && 'value' in src && isSecretName(src.name);
  const out: Record<string, unknown> = {};
  let n = 0;
  for (const key of Object.keys(src)) {
    if (n++ >= MAX_KEYS) break;
    out[key] = isSecretName(key) || (headerPair && key === 'value') ? '***' : redact(src[key], depth + 1);
  }
  return out;
}

/** The log call's object as SD-PARAM name/value pairs, secrets redacted. */
export function toFields(obj: object): Array<[string, string]> {
  const flat = redact(obj);
  const out: Array<[string, string]> = [];
  if (flat === null || typeof flat !== 'object') return out;
  for (const [key, v] of Object.entries(flat as Record<string, unknown>)) {
    if (v === undefined) continue;
    const name = sdName(key);
    if (name === '') continue;
    let text = typeof v === 'string' ? v : typeof v === 'object' ? safeJson(v) : String(v);
    if (text.length > MAX_VALUE_CHARS) text = text.slice(0, MAX_VALUE_CHARS) + '...';
    out.push([name, text]);
  }
  return out;
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? '';
  } catch {
    return '[unserializable]';
  }
}

/** SD-NAME: 1-32 printable US-ASCII, no '=', SP, ']' or '"' (RFC 5424 §6). */
function sdName(key: string): string {
  return key.replace(/[^!-~]|[=\]"]/g, '_').slice(0, 32);
}

/** PARAM-VALUE escapes '"', '\' and ']' (§6.3.3); control characters become spaces so no line breaks reach a collector. */
function sdValue(v: string): string {
  return v.replace(/[\\"\]]/g, '\\$&').replace(/[\x00-\x1f\x7f]/g, ' ');
}

/** A header field: printable US-ASCII, at most max characters, "-" when empty (NILVALUE). */
export function headerField(s: string | undefined, max: number): string {
  if (s === undefined) return '-';
  const clean = s.replace(/[^!-~]/g, '').slice(0, max);
  return clean === '' ? '-' : clean;
}

/**
 * One RFC 5424 message: PRI VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID
 * STRUCTURED-DATA [SP MSG], at most maxBytes long. Over the limit, MSG is cut
 * first (at a UTF-8 character boundary), then the structured data is dropped.
 */
export function formatSyslog(r: SyslogRecord, maxBytes = 8192): Buffer {
  const pri = r.facility * 8 + r.severity;
  const head =
    `<${pri}>1 ${new Date(r.time).toISOString()} ${headerField(r.hostname, 255)} ` +
    `${headerField(r.appName, 48)} ${headerField(r.procId, 128)} ${headerField(r.msgId, 32)} `;
  let sd = '-';
  if (r.fields.length > 0) {
    sd = `[${FIELDS_SD_ID}`;
    for (const [name, value] of r.fields) sd += ` ${name}="${sdValue(value)}"`;
    sd += ']';
  }
  let headBuf = Buffer.from(head + sd, 'utf8');
  if (headBuf.length > maxBytes) headBuf = Buffer.from(head + '-', 'utf8');
  if (r.msg === undefined || r.msg === '') return truncateUtf8(headBuf, maxBytes);
  const text = r.msg.replace(/[\x00-\x08\x0a-\x1f\x7f]/g, ' ');
  // MSG is UTF-8 with a BOM (§6.4) when it is not plain ASCII; plain ASCII is left as MSG-ANY.
  const ascii = /^[\x00-\x7f]*$/.test(text);
  const parts = [headBuf, Buffer.from(' '), ...(ascii ? [] : [UTF8_BOM]), Buffer.from(text, 'utf8')];
  return truncateUtf8(Buffer.concat(parts), maxBytes);
}

/** Cuts to at most max bytes without splitting a UTF-8 sequence. */
export function truncateUtf8(b: Buffer, max: number): Buffer {
  if (b.length <= max) return b;
  let end = max;
  // Back off over continuation bytes (10xxxxxx) to the start of the cut character.
  while (end > 0 && (b[end]! & 0xc0) === 0x80) end--;
  return b.subarray(0, end);
}

/** RFC 6587 §3.4.1 octet counting: "MSG-LEN SP SYSLOG-MSG", as RFC 5425 also uses over TLS. */
export function octetCounted(message: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${message.length} `, 'ascii'), message]);
}
