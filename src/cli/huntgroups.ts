// `switchboard huntgroup ...` and `switchboard shortcode ...`. The running
// server polls the revisions of both tables and reloads them when they move.
import { Option, type Command } from 'commander';
import { HUNT_NO_ANSWER_SEC_RANGE, HUNT_STRATEGIES, type HuntGroup, type HuntGroupPatch } from '../model/hunt-group.ts';
import { SHORT_CODE_FEATURES, type ShortCode } from '../model/short-code.ts';
import { CliError, DATA_DIR_OPTION, STORE_OPTION, print, withStore } from './common.ts';
import { asOptions, storeAsOptions, integer } from './options.ts';

const HUNT_OPTION_OF: Record<string, string> = {
  number: '--number', name: '--name', strategy: '--strategy', members: '--members', noAnswerSec: '--no-answer-sec',
  overflow: '--overflow', extension: '--login/--logout',
};
const CODE_OPTION_OF: Record<string, string> = { code: '--code', feature: '--feature', value: '--value', position: '--position' };

interface HuntOptions {
  number: string;
  newNumber?: string;
  name?: string;
  strategy?: string;
  members?: string;
  noAnswerSec?: string;
  overflow?: string;
  login?: string;
  logout?: string;
  json?: boolean;
  dataDir?: string; store?: string;
}

function noAnswerSecOption(): Option {
  const [min, max] = HUNT_NO_ANSWER_SEC_RANGE;
  const o = new Option('--no-answer-sec <seconds>', `seconds each member rings, ${min}-${max} (default 15)`);
  // Commander would read "--no-" as the negation of "--answer-sec"; this is a value option.
  o.negate = false;
  return o;
}

const list = (v: string | undefined) => (v === undefined ? undefined : v.trim() === '' ? [] : v.split(',').map((x) => x.trim()));
const orOff = (v: string | undefined) => (v === undefined ? undefined : ['off', 'none'].includes(v.toLowerCase()) ? null : v);

function groupPatch(o: HuntOptions): HuntGroupPatch {
  const patch: HuntGroupPatch = {
    number: o.newNumber,
    name: o.name,
    strategy: o.strategy as HuntGroupPatch['strategy'],
    members: list(o.members),
    noAnswerSec: integer('--no-answer-sec', o.noAnswerSec, ...HUNT_NO_ANSWER_SEC_RANGE),
    overflow: orOff(o.overflow),
  };
  for (const k of Object.keys(patch) as (keyof HuntGroupPatch)[]) if (patch[k] === undefined) delete patch[k];
  return patch;
}

function groupLine(g: HuntGroup): string {
  const members = g.members.map((m) => (m.loggedIn ? m.extension : `${m.extension}(out)`)).join(',') || '-';
  return [g.number, g.name, g.strategy, `members=${members}`, `no-answer=${g.noAnswerSec}s`, `overflow=${g.overflow ?? '-'}`].join('\t');
}

function codeLine(c: ShortCode): string {
  return [c.code, c.feature, c.value ?? ''].join('\t').trimEnd();
}

export function registerHuntGroupCommands(program: Command): void {
  const hg = program.command('huntgroup').description('manage hunt groups (a number that rings member extensions in turn or together)');
  const strategies = HUNT_STRATEGIES.join('|');

  hg.command('add').description('add a hunt group')
    .requiredOption('--number <number>', 'dialled number of the group (not a user extension)')
    .requiredOption('--name <name>', 'name of the group')
    .option('--strategy <strategy>', `${strategies} (default sequential)`)
    .option('--members <list>', 'member extensions in hunting order, e.g. 1001,1002')
    .addOption(noAnswerSecOption())
    .option('--overflow <number>', 'group, extension or number for calls nobody answered')
    .option(...DATA_DIR_OPTION)
    .option(...STORE_OPTION)
    .action(async (o: HuntOptions) => {
      const p = groupPatch(o);
      const g = await withStore(o, (s) => storeAsOptions(HUNT_OPTION_OF, async () => await s.huntGroups.add({ ...p, number: o.number, name: o.name ?? '' })));
      print(`added hunt group ${g.number}`);
    });

  hg.command('list').description('list hunt groups (members logged out marked "(out)")')
    .option('--json', 'print JSON')
    .option(...DATA_DIR_OPTION)
    .option(...STORE_OPTION)
    .action(async (o: { json?: boolean; dataDir?: string; store?: string }) => {
      const groups = await withStore(o, async (s) => await s.huntGroups.list());
      if (o.json) print(JSON.stringify(groups));
      else for (const g of groups) print(groupLine(g));
    });

  hg.command('set').description('change a hunt group, or log a member in or out')
    .requiredOption('--number <number>', 'the group to change')
    .option('--new-number <number>', 'renumber the group')
    .option('--name <name>', 'name of the group')
    .option('--strategy <strategy>', strategies)
    .option('--members <list>', 'member extensions in hunting order (members that stay keep their login)')
    .addOption(noAnswerSecOption())
    .option('--overflow <number|off>', 'where unanswered calls go')
    .option('--login <extension>', 'log a member in')
    .option('--logout <extension>', 'log a member out')
    .option(...DATA_DIR_OPTION)
    .option(...STORE_OPTION)
    .action(async (o: HuntOptions) => {
      const patch = groupPatch(o);
      if (Object.keys(patch).length === 0 && !o.login && !o.logout) throw new CliError('huntgroup set: give at least one setting to change (see --help)');
      const g = await withStore(o, (s) => storeAsOptions(HUNT_OPTION_OF, async () => {
        let cur = Object.keys(patch).length > 0 ? await s.huntGroups.update(o.number, patch) : await s.huntGroups.get(o.number);
        if (o.login) cur = await s.huntGroups.setMemberLoggedIn(cur?.number ?? o.number, o.login, true);
        if (o.logout) cur = await s.huntGroups.setMemberLoggedIn(cur?.number ?? o.number, o.logout, false);
        return cur!;
      }));
      print(`updated hunt group ${g.number}`);
    });

  hg.command('remove').description('remove a hunt group')
    .requiredOption('--number <number>', 'the group')
    .option(...DATA_DIR_OPTION)
    .option(...STORE_OPTION)
    .action(async (o: { number: string; dataDir?: string; store?: string }) => {
      await withStore(o, async (s) => await s.huntGroups.remove(o.number));
      print(`removed hunt group ${o.number}`);
    });

  const sc = program.command('shortcode').description('manage short codes (dialled patterns that run a feature, e.g. *07*N#)');

  sc.command('list').description('list short codes in matching order')
    .option('--json', 'print JSON')
    .option(...DATA_DIR_OPTION)
    .option(...STORE_OPTION)
    .action(async (o: { json?: boolean; dataDir?: string; store?: string }) => {
      const codes = await withStore(o, async (s) => await s.shortCodes.list());
      if (o.json) print(JSON.stringify(codes));
      else for (const c of codes) print(codeLine(c));
    });

  sc.command('set').description('add a short code, or change the one with this pattern')
    .requiredOption('--code <pattern>', 'digits, * and #, with N, S or G for dialled digits, e.g. *07*N#')
    .option('--feature <name>', `one of ${Object.keys(SHORT_CODE_FEATURES).join(', ')}`)
    .option('--value <digits|off>', 'fixed parameter for a pattern without N/S/G')
    .option('--position <n>', 'place in the table, 0 first (default: the end)')
    .option(...DATA_DIR_OPTION)
    .option(...STORE_OPTION)
    .action(async (o: { code: string; feature?: string; value?: string; position?: string; dataDir?: string; store?: string }) => {
      const position = integer('--position', o.position, 0, 10_000);
      const value = orOff(o.value);
      const c = await withStore(o, (s) => storeAsOptions(CODE_OPTION_OF, async () => {
        if (await s.shortCodes.get(o.code)) {
          return s.shortCodes.update(o.code, { feature: o.feature as ShortCode['feature'] | undefined, value, position });
        }
        if (!o.feature) throw new CliError('shortcode set: a new code needs --feature');
        return s.shortCodes.add({ code: o.code, feature: o.feature as ShortCode['feature'], value: value ?? null, position });
      }));
      print(`set short code ${c.code} -> ${c.feature}`);
    });

  sc.command('remove').description('remove a short code')
    .requiredOption('--code <pattern>', 'the pattern')
    .option(...DATA_DIR_OPTION)
    .option(...STORE_OPTION)
    .action(async (o: { code: string; dataDir?: string; store?: string }) => {
      await withStore(o, async (s) => await s.shortCodes.remove(o.code));
      print(`removed short code ${o.code}`);
    });
}
