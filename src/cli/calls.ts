// `switchboard calls list`: the call log from the stored call detail records,
// with the filters of GET /api/calls, as lines, JSON or CSV.
import type { Command } from 'commander';
import { z } from 'zod';
import type { Cdr, CdrQuery } from '../store/types.ts';
import { callFilterShape, callsCsv, callsToCsv, cdrQueryOf } from '../model/call-log.ts';
import { statusWords, talkSeconds } from '../model/call-words.ts';
import { CliError, DATA_DIR_OPTION, STORE_OPTION, print, withStore } from './common.ts';
import { integer } from './options.ts';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function callView(c: Cdr) {
  return {
    id: c.id,
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
    reason: c.reason,
    statusText: statusWords(c.status, c.reason),
    durationSec: talkSeconds(c),
    codec: c.codec,
    answeredAt: iso(c.answeredAt),
    endedAt: iso(c.endedAt),
    callRef: c.callRef,
    legs: c.legs,
    media: c.media,
  };
}

function callLine(c: Cdr): string {
  return [
    iso(c.startedAt), c.direction, `${c.caller} -> ${c.callee}`, c.disposition, `${talkSeconds(c)}s`, c.codec ?? '-',
    statusWords(c.status, c.reason),
  ].join('\t');
}

/** CLI option of each filter. */
const OPTION: Record<keyof typeof callFilterShape, string> = {
  extension: '--ext', kind: '--kind', since: '--since', until: '--until', direction: '--direction',
  disposition: '--disposition', status: '--status', trunk: '--trunk', search: '--search',
};
const filterSchema = z.object(callFilterShape).strict();

interface ListOptions {
  ext?: string; kind?: string; since?: string; until?: string; direction?: string; disposition?: string; status?: string;
  trunk?: string; search?: string; limit?: string; offset?: string; json?: boolean; csv?: boolean; dataDir?: string; store?: string;
}

/** The filters as the API validates them; a bad one is refused naming its option. */
function queryOf(o: ListOptions): CdrQuery {
  const r = filterSchema.safeParse({
    extension: o.ext, kind: o.kind, since: o.since, until: o.until, direction: o.direction, disposition: o.disposition,
    status: o.status, trunk: o.trunk, search: o.search,
  });
  if (!r.success) {
    throw new CliError(r.error.issues.map((i) => `${OPTION[i.path[0] as keyof typeof OPTION] ?? String(i.path[0])}: ${i.message}`).join('; '));
  }
  return cdrQueryOf(r.data);
}

function list(cmd: Command): Command {
  return cmd
    .description('list call records, newest first (every call attempt past authentication, refused ones included)')
    .option('--ext <extension>', 'only calls this extension placed or received')
    .option('--kind <placed|received|missed>', 'with --ext: calls it placed, answered, or missed')
    .option('--since <time>', 'calls that started at or after this time (2026-12-07T08:00Z, a date, or epoch ms)')
    .option('--until <time>', 'calls that started before this time')
    .option('--direction <internal|inbound|outbound>', 'only calls in this direction')
    .option('--disposition <answered|no-answer|busy|cancelled|rejected|failed>', 'only calls that ended this way (rejected = refused)')
    .option('--status <code>', 'only calls whose caller got this final SIP status (e.g. 403, 408)')
    .option('--trunk <name>', 'only calls over this trunk')
    .option('--search <text>', "part of the caller's or callee's number or the caller's name")
    .option('--limit <n>', 'at most this many calls, 1-1000 (default 100; --csv: every call unless given)')
    .option('--offset <n>', 'skip this many calls first')
    .option('--json', 'print JSON')
    .option('--csv', 'print CSV (the columns of GET /api/calls.csv)')
    .option(...DATA_DIR_OPTION)
    .option(...STORE_OPTION)
    .action(async (o: ListOptions) => {
      if (o.json && o.csv) throw new CliError('--json and --csv: choose one');
      const query = queryOf(o);
      const limit = integer('--limit', o.limit, 1, 1000);
      const offset = integer('--offset', o.offset, 0, 1_000_000_000);
      if (o.csv && limit === undefined && offset === undefined) {
        await withStore(o, async (s) => {
          for await (const piece of callsCsv(s.cdrs, query)) process.stdout.write(piece);
        });
        return;
      }
      const calls = await withStore(o, async (s) => await s.cdrs.list({ ...query, limit: limit ?? 100, offset }));
      if (o.csv) process.stdout.write('\ufeff' + callsToCsv(calls));
      else if (o.json) print(JSON.stringify(calls.map(callView)));
      else for (const c of calls) print(callLine(c));
    });
}

export function registerCallsCommand(program: Command): void {
  const calls = program.command('calls').description('the call log');
  // `switchboard calls` alone lists, as it did before `list` existed.
  list(calls.command('list', { isDefault: true }));
}
