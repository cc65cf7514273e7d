// `switchboard provision digitmap --rules FILE [--json]`: the Lync dial plan
// → digit map conversion (SPEC §6) on a file of normalisation rules, to check
// what a handset will get. FILE is a JSON list of rules or Lync's Export-Csv
// output, read by src/provisioning/dialplan/rules-file.ts.
import type { Command } from 'commander';
import { convertDialPlan, type DialPlanResult, type NormalisationRule } from '../provisioning/dialplan/index.ts';
import { parseRulesText, RulesFileError } from '../provisioning/dialplan/rules-file.ts';
import { CliError, print } from './common.ts';
import { readInputFile } from './json-file.ts';
import { provisionCommand } from './provision.ts';

/** The rules of a rules file's text (src/provisioning/dialplan/rules-file.ts); throws a CliError naming the first bad rule. */
export function parseRulesFile(text: string): NormalisationRule[] {
  try {
    return parseRulesText(text);
  } catch (err) {
    if (err instanceof RulesFileError) throw new CliError(`--rules: ${err.message}`);
    throw err;
  }
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
