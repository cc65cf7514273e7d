// `switchboard park list`: the calls waiting in park slots of the running
// server (read over its control socket, like `status`).
import type { Command } from 'commander';
import type { StatusSnapshot } from '../pbx/status/status.ts';
import { DATA_DIR_OPTION, print, resolveDataDir } from './common.ts';
import { queryStatus } from './status.ts';

/** One line per slot: slot, parked party, who parked it, since when. */
export function formatParked(parked: StatusSnapshot['parked'], now: number): string[] {
  if (parked.length === 0) return ['no parked calls'];
  return parked.map((p) => {
    const who = p.party.name ? `${p.party.number} "${p.party.name}"` : p.party.number;
    const since = new Date(p.since).toISOString().replace('T', ' ').slice(0, 19);
    return `slot ${p.slot} ${who} parked-by=${p.parkedBy ?? '-'} since=${since} (${Math.max(0, Math.round((now - p.since) / 1000))} s) call=${p.call}`;
  });
}

export function registerParkCommands(program: Command): void {
  const park = program.command('park').description('parked calls (park with *37*S#, unpark with *38*S#)');
  park
    .command('list')
    .description('list the calls waiting in park slots')
    .option(...DATA_DIR_OPTION)
    .option('--json', 'print JSON')
    .action(async (opts: { dataDir?: string; json?: boolean }) => {
      const status = await queryStatus(resolveDataDir(opts.dataDir));
      print(opts.json ? JSON.stringify(status.parked, null, 2) : formatParked(status.parked, status.at).join('\n'));
    });
}
