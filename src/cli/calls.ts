// `switchboard calls`: the call log from the stored call detail records.
import type { Command } from 'commander';
import type { Cdr, CdrQuery } from '../store/types.ts';
import { CliError, DATA_DIR_OPTION, STORE_OPTION, print, withStore } from './common.ts';
import { integer } from './options.ts';

const KINDS = ['placed', 'received', 'missed'] as const;

/** Talk time in whole seconds; 0 for calls nobody answered. */
function durationSec(c: Cdr): number {
  return c.answeredAt === null ? 0 : Math.max(0, Math.round((c.endedAt - c.answeredAt) / 1000));
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function callView(c: Cdr) {
  return {
    time: iso(c.startedAt),
    direction: c.direction,
    caller: c.caller,
    callerName: c.callerName,
    callerExtension: c.callerExtension,
    callee: c.callee,
    calleeExtension: c.calleeExtension,
    trunk: c.trunk,
    disposition: c.disposition,
    status: c.status,
    durationSec: durationSec(c),
    codec: c.codec,
    answeredAt: iso(c.answeredAt),
    endedAt: iso(c.endedAt),
    callRef: c.callRef,
    legs: c.legs,
  };
}

function callLine(c: Cdr): string {
  return [
    iso(c.startedAt), c.direction, `${c.caller} -> ${c.callee}`, c.disposition, `${durationSec(c)}s`, c.codec ?? '-',
  ].join('\t');
}

export function registerCallsCommand(program: Command): void {
  program
    .command('calls')
    .description('list call records, newest first')
    .option('--ext <extension>', 'only calls this extension placed or received')
    .option('--kind <placed|received|missed>', 'only calls of this kind (placed by, answered by, or missed by the user)')
    .option('--limit <n>', 'at most this many calls, 1-1000 (default 100)')
    .option('--json', 'print JSON')
    .option(...DATA_DIR_OPTION)
    .option(...STORE_OPTION)
    .action(async (o: { ext?: string; kind?: string; limit?: string; json?: boolean; dataDir?: string; store?: string }) => {
      if (o.kind !== undefined && !(KINDS as readonly string[]).includes(o.kind)) {
        throw new CliError(`--kind: must be placed, received or missed, not ${JSON.stringify(o.kind)}`);
      }
      const query: CdrQuery = {
        extension: o.ext,
        kind: o.kind as CdrQuery['kind'],
        limit: integer('--limit', o.limit, 1, 1000) ?? 100,
      };
      const calls = await withStore(o, async (s) => await s.cdrs.list(query));
      if (o.json) print(JSON.stringify(calls.map(callView)));
      else for (const c of calls) print(callLine(c));
    });
}
