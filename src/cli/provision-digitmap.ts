// `switchboard provision digitmap --rules FILE [--json]`: the Lync dial plan
// → digit map conversion (SPEC §6) on a file of normalisation rules, to check
// what a handset will get. FILE is either a JSON list of rules
// ({ name?, description?, pattern, translation, isInternalExtension }; key
// case ignored, so ConvertTo-Json output is taken too) or a CSV with a header
// naming Name, Description, Pattern, Translation, IsInternalExtension (any
// order and case; others such as Identity ignored), as PowerShell's
// Export-Csv writes it, `#TYPE` line included. With a Priority column (or
// key) on every rule, rules are taken in priority order, as the registrar
// applies them; otherwise in file order.
import type { Command } from 'commander';
import { parse as parseCsv } from 'csv-parse/sync';
import { convertDialPlan, type DialPlanResult, type NormalisationRule } from '../provisioning/dialplan/index.ts';
import { CliError, print } from './common.ts';
import { readInputFile } from './json-file.ts';
import { provisionCommand } from './provision.ts';

type Row = Record<string, unknown>;

/** The rules of a rules file's text; throws a CliError naming the first bad rule. */
export function parseRulesFile(text: string): NormalisationRule[] {
  const body = text.replace(/^\uFEFF/, '');
  const rows = /^\s*[[{]/.test(body) ? jsonRows(body) : csvRows(body);
  const rules = rows.map((row, i) => toRule(lowerKeys(row), i + 1));
  const priorities = rows.map((row) => lowerKeys(row).priority);
  if (rows.length > 0 && priorities.every((p) => p !== undefined && p !== '' && Number.isFinite(Number(p)))) {
    const order = rules.map((rule, i) => ({ rule, p: Number(priorities[i]), i }));
    order.sort((a, b) => a.p - b.p || a.i - b.i);
    return order.map((o) => o.rule);
  }
  return rules;
}

function jsonRows(text: string): Row[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new CliError(`--rules: not JSON: ${(err as Error).message}`);
  }
  // ConvertTo-Json writes a single rule as an object, not a list of one.
  const list = Array.isArray(value) ? value : [value];
  if (!list.every((r) => typeof r === 'object' && r !== null && !Array.isArray(r))) throw new CliError('--rules: a JSON file holds a list of rule objects');
  return list as Row[];
}

function csvRows(text: string): Row[] {
  const lines = text.split(/\r?\n/);
  // Windows PowerShell's Export-Csv starts with `#TYPE <class name>`.
  const data = lines[0]?.startsWith('#TYPE') ? lines.slice(1).join('\n') : text;
  try {
    return parseCsv(data, { columns: true, skip_empty_lines: true, trim: true }) as Row[];
  } catch (err) {
    throw new CliError(`--rules: not CSV: ${(err as Error).message}`);
  }
}

function lowerKeys(row: Row): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(row)) out[k.toLowerCase()] = v;
  return out;
}

function toRule(row: Row, n: number): NormalisationRule {
  const text = (key: string, required: boolean): string | undefined => {
    const v = row[key.toLowerCase()];
    if (v === undefined || v === null || v === '') {
      if (required) throw new CliError(`--rules: rule ${n} has no ${key}`);
      return undefined;
    }
    if (typeof v !== 'string') throw new CliError(`--rules: rule ${n}: ${key} must be text`);
    return v;
  };
  const flag = row.isinternalextension;
  let internal: boolean;
  if (typeof flag === 'boolean') internal = flag;
  else if (typeof flag === 'string' && /^(true|false|1|0)$/i.test(flag)) internal = /^(true|1)$/i.test(flag);
  else throw new CliError(`--rules: rule ${n}: IsInternalExtension must be True or False`);
  const name = text('Name', false);
  const description = text('Description', false);
  return {
    ...(name !== undefined ? { name } : {}),
    ...(description !== undefined ? { description } : {}),
    pattern: text('Pattern', true) as string,
    translation: text('Translation', false) ?? '',
    isInternalExtension: internal,
  };
}

/** Both maps, the translation of each digit-map string, then the errors. */
export function formatDialPlan(result: DialPlanResult): string[] {
  const lines = [`dialplan.1.originaldigitmap=${result.originalDigitMap}`, `dialplan.1.digitmap=${result.digitMap}`];
  if (result.translations.length > 0) lines.push('translations:');
  for (const t of result.translations) {
    const from = t.origin.kind === 'emergency' ? `emergency ${t.origin.number}` : `rule ${t.origin.index + 1}${t.origin.name ? ` "${t.origin.name}"` : ''}`;
    lines.push(`  ${t.digitMap}  ${t.pattern} -> ${t.translation}${t.internal ? ' (internal)' : ''}  [${from}]`);
  }
  if (result.errors.length > 0) lines.push('errors:', ...result.errors.map((e) => `  ${e}`));
  return lines;
}

export function registerProvisionDigitmapCommand(program: Command): void {
  provisionCommand(program)
    .command('digitmap')
    .description('turn Lync dial-plan normalisation rules into the phone digit map (dialplan.1.digitmap)')
    .requiredOption('--rules <file>', 'JSON list of rules, or CSV with Name,Description,Pattern,Translation,IsInternalExtension')
    .option('--e911-dial-string <number>', 'emergency dial string (dialplan.1.e911dialstring)')
    .option('--e911-dial-mask <numbers>', 'more emergency numbers, separated by ; (dialplan.1.e911dialmask)')
    .option('--json', 'print JSON')
    .action(async (o: { rules: string; e911DialString?: string; e911DialMask?: string; json?: boolean }) => {
      const rules = parseRulesFile(await readInputFile(o.rules, '--rules'));
      const result = convertDialPlan({
        rules,
        ...(o.e911DialString !== undefined ? { emergencyDialString: o.e911DialString } : {}),
        ...(o.e911DialMask !== undefined ? { emergencyDialMask: o.e911DialMask } : {}),
      });
      print(o.json ? JSON.stringify(result, null, 2) : formatDialPlan(result).join('\n'));
    });
}
