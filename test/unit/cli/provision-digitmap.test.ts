// `switchboard provision digitmap`: its errors and its output (the rules
// files themselves: test/unit/provisioning/dialplan/rules-file.test.ts).
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { CliError } from '../../../src/cli/common.ts';
import { formatDialPlan, parseRulesFile } from '../../../src/cli/provision-digitmap.ts';
import { provisionCommand } from '../../../src/cli/provision.ts';
import { convertDialPlan } from '../../../src/provisioning/dialplan/index.ts';

const LISBON = { name: 'Lisbon 5 digit 2', description: 'Lisbon 8047x & 8063x', pattern: '^((8047[0-9])|(8063[0-9]))$', translation: '+3512131$1', isInternalExtension: true };

describe('rules file', () => {
  it('names the first bad rule after --rules, as a CLI error', () => {
    expect(() => parseRulesFile('[{')).toThrow(CliError);
    expect(() => parseRulesFile('[{"pattern":"^1$","translation":"1"}]')).toThrow('--rules: rule 1: IsInternalExtension must be True or False');
  });
});

describe('output', () => {
  it('prints both maps, each string with its translation, then the errors', () => {
    const plan = convertDialPlan({ rules: [LISBON, { name: 'plus', pattern: '^\\+(\\d*)$', translation: '+$1', isInternalExtension: false }], emergencyDialString: '112' });
    expect(formatDialPlan(plan)).toEqual([
      'dialplan.1.originaldigitmap=^((8047[0-9])|(8063[0-9]))$@+3512131$1@1|^\\+(\\d*)$@+$1@0',
      'dialplan.1.digitmap=8047x|8063x|112',
      'translations:',
      '  8047x  ^((8047[0-9])|(8063[0-9]))$ -> +3512131$1 (internal)  [rule 1 "Lisbon 5 digit 2"]',
      '  8063x  ^((8047[0-9])|(8063[0-9]))$ -> +3512131$1 (internal)  [rule 1 "Lisbon 5 digit 2"]',
      '  112  ^112$ -> 112  [emergency 112]',
      'errors:',
      '  DIALPLANERROR: step 4: rule 2 "plus" (^\\+(\\d*)$) dropped: \\+ has no digit-map form',
    ]);
  });
});

describe('provision command group', () => {
  it('is created once, whichever module asks first', () => {
    const program = new Command('switchboard');
    const a = provisionCommand(program);
    const b = provisionCommand(program);
    expect(b).toBe(a);
    expect(program.commands.filter((c) => c.name() === 'provision')).toHaveLength(1);
  });
});
