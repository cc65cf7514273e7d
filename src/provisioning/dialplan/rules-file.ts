// The registrar's normalisation rules as an administrator has them (SPEC §6):
// a JSON list of rules ({ name?, description?, pattern, translation,
// isInternalExtension }; key case ignored, so ConvertTo-Json output is taken
// too) or a CSV with a header naming Name, Description, Pattern, Translation,
// IsInternalExtension (any order and case; others such as Identity ignored),
// as PowerShell's Export-Csv writes it, `#TYPE` line included. With a
// Priority column (or key) on every rule, rules are taken in priority order,
// as the registrar applies them; otherwise in file order. The CLI
// (`provision digitmap`) and the API (POST /api/provisioning/digitmap) read
// rules through here.
import { parse as parseCsv } from 'csv-parse/sync';
import type { NormalisationRule } from './model.ts';

/** Why a rules text cannot be read; the message names the first bad rule. */
export class RulesFileError extends Error {
  override name = 'RulesFileError';
}

type Row = Record<string, unknown>;

/** The rules of a rules file's text. @throws RulesFileError */
export function parseRulesText(text: string): NormalisationRule[] {
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
    throw new RulesFileError(`not JSON: ${(err as Error).message}`);
  }
  // ConvertTo-Json writes a single rule as an object, not a list of one.
  const list = Array.isArray(value) ? value : [value];
  if (!list.every((r) => typeof r === 'object' && r !== null && !Array.isArray(r))) throw new RulesFileError('a JSON file holds a list of rule objects');
  return list as Row[];
}

function csvRows(text: string): Row[] {
  const lines = text.split(/\r?\n/);
  // Windows PowerShell's Export-Csv starts with `#TYPE <class name>`.
  const data = lines[0]?.startsWith('#TYPE') ? lines.slice(1).join('\n') : text;
  try {
    return parseCsv(data, { columns: true, skip_empty_lines: true, trim: true }) as Row[];
  } catch (err) {
    throw new RulesFileError(`not CSV: ${(err as Error).message}`);
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
      if (required) throw new RulesFileError(`rule ${n} has no ${key}`);
      return undefined;
    }
    if (typeof v !== 'string') throw new RulesFileError(`rule ${n}: ${key} must be text`);
    return v;
  };
  const flag = row.isinternalextension;
  let internal: boolean;
  if (typeof flag === 'boolean') internal = flag;
  else if (typeof flag === 'string' && /^(true|false|1|0)$/i.test(flag)) internal = /^(true|1)$/i.test(flag);
  else throw new RulesFileError(`rule ${n}: IsInternalExtension must be True or False`);
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
