// Runs SIPp with a scenario from test/interop/sipp/ and reads back what it
// counted: its exit code plus the final row of its statistics file (-stf),
// which is more precise than scraping the screen.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunResult } from './harness.ts';
import { describeRun, freePort, LOOPBACK, REPO_ROOT, requireTool, runTool } from './harness.ts';

export const SIPP_SCENARIOS = join(REPO_ROOT, 'test', 'interop', 'sipp');

export type SippTransport = 'u1' | 'un' | 't1' | 'tn';

export interface SippStats {
  successful: number;
  failed: number;
  created: number;
  /** Seconds between SIPp's start of traffic and its last statistics row. */
  elapsedSec: number;
  /** Every counter of the final row, by SIPp's column name. */
  raw: Record<string, string>;
}

export interface SippRun extends RunResult {
  stats: SippStats | null;
  /** SIPp's unexpected-message log, '' when none. */
  errors: string;
  /** Sent/received messages, only with traceMessages. */
  messages: string;
  /** user+sys CPU seconds SIPp used (from the shell's `times`). */
  cpuSec: number | null;
}

export interface SippOptions {
  scenario: string;
  remoteHost?: string;
  remotePort: number;
  /** Local SIP port (-p); default a free one. A UAS that registered first
   * must listen where its Contact points. */
  localPort?: number;
  transport?: SippTransport;
  /** Written as the -inf file (see users.ts sippUsersCsv). */
  usersCsv?: string;
  /** Digest uri= host part; SIPp prepends "sip:" itself. */
  authUri?: string;
  calls: number;
  rate: number;
  ratePeriodMs?: number;
  maxOpenCalls?: number;
  recvTimeoutMs?: number;
  keys?: Record<string, string>;
  workDir: string;
  timeoutMs: number;
  traceMessages?: boolean;
  extraArgs?: string[];
  onSpawn?: (pid: number) => void;
}

/** Semicolon-separated header + rows; the last row holds the final counters. */
export function parseSippStatFile(text: string): SippStats | null {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines.length < 2) return null;
  const head = (lines[0] ?? '').split(';');
  const last = (lines[lines.length - 1] ?? '').split(';');
  const raw: Record<string, string> = {};
  head.forEach((name, i) => {
    if (name !== '') raw[name] = last[i] ?? '';
  });
  const num = (k: string): number => {
    const v = Number(raw[k]);
    return Number.isFinite(v) ? v : NaN;
  };
  // Time columns look like "2026-01-01\t12:00:00.123456\t1767268800.123456".
  const epoch = (k: string): number => Number((raw[k] ?? '').split('\t').pop());
  return {
    successful: num('SuccessfulCall(C)'),
    failed: num('FailedCall(C)'),
    created: num('OutgoingCall(C)'),
    elapsedSec: epoch('CurrentTime') - epoch('StartTime'),
    raw,
  };
}

/** Soft limit on open files for children of this process (SIPp checks it). */
function openFileLimit(): number {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const n = Number(line?.split(/\s+/)[3]);
    return Number.isFinite(n) && n > 0 ? n : 1024;
  } catch {
    return 1024;
  }
}

/** bash's `times` second line: children's user and system time. */
function parseTimes(stderr: string): number | null {
  const m = /(\d+)m([\d.]+)s (\d+)m([\d.]+)s\s*$/.exec(stderr.trimEnd());
  if (m === null) return null;
  return Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4]);
}

export async function runSipp(o: SippOptions): Promise<SippRun> {
  const sipp = requireTool('sipp');
  const scenario = o.scenario.includes('/') ? o.scenario : join(SIPP_SCENARIOS, o.scenario);
  const tag = `${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
  const statFile = join(o.workDir, `stat-${tag}.csv`);
  const errFile = join(o.workDir, `errors-${tag}.log`);
  const msgFile = join(o.workDir, `messages-${tag}.log`);
  const args = [
    `${o.remoteHost ?? LOOPBACK}:${o.remotePort}`,
    '-sf', scenario,
    '-t', o.transport ?? 'u1',
    '-i', LOOPBACK,
    '-p', String(o.localPort ?? (await freePort())),
    '-m', String(o.calls),
    '-r', String(o.rate),
    '-rp', String(o.ratePeriodMs ?? 1000),
    '-nostdin',
    // SIPp's default 64 KB socket buffer drops bursts of responses on
    // loopback, and each loss costs a 500 ms retransmission.
    '-buff_size', '4194304',
    '-trace_stat', '-stf', statFile,
    '-trace_err', '-error_file', errFile,
  ];
  if (o.usersCsv !== undefined) {
    const csv = join(o.workDir, `users-${tag}.csv`);
    writeFileSync(csv, o.usersCsv);
    args.push('-inf', csv);
  }
  if (o.authUri !== undefined) args.push('-auth_uri', o.authUri);
  if (o.transport === 'tn' || o.transport === 'un') {
    // One socket per call: SIPp refuses to start unless its socket cap (50,000
    // by default) is under the open-files limit; past the cap it reuses sockets.
    args.push('-max_socket', String(Math.max(16, Math.min(o.calls + 64, openFileLimit() - 256))));
  }
  if (o.maxOpenCalls !== undefined) args.push('-l', String(o.maxOpenCalls));
  if (o.recvTimeoutMs !== undefined) args.push('-recv_timeout', String(o.recvTimeoutMs));
  if (o.traceMessages === true) args.push('-trace_msg', '-message_file', msgFile);
  for (const [k, v] of Object.entries(o.keys ?? {})) args.push('-key', k, v);
  args.push(...(o.extraArgs ?? []));
  // bash reports the CPU SIPp used once it has exited; /proc is gone by then.
  const quoted = args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const script = `'${sipp}' ${quoted}; rc=$?; times >&2; exit $rc`;
  const r = await runTool('bash', ['-c', script], { timeoutMs: o.timeoutMs, cwd: o.workDir, onSpawn: o.onSpawn });
  const read = (f: string): string => (existsSync(f) ? readFileSync(f, 'utf8') : '');
  return {
    ...r,
    command: `sipp ${args.join(' ')}`,
    stats: parseSippStatFile(read(statFile)),
    errors: read(errFile),
    messages: read(msgFile),
    cpuSec: parseTimes(r.stderr),
  };
}

/** Known SIPp complaints and what they mean for the server under test. */
const HINTS: Array<[string, string]> = [
  [
    'authentication must use MD5',
    'HINT: SIPp 3.6 answers only the FIRST WWW-Authenticate header and only MD5; ' +
      'the server must list its MD5 challenge first.',
  ],
];

export function describeSipp(r: SippRun): string {
  const s = r.stats;
  const all = `${r.errors}\n${r.stderr}`;
  const hints = HINTS.filter(([needle]) => all.includes(needle)).map(([, hint]) => `${hint}\n`).join('');
  const counts = s === null ? 'no statistics file' : `successful=${s.successful} failed=${s.failed} created=${s.created}`;
  const errs = r.errors === '' ? '' : `\n--- unexpected messages (first 3000 chars) ---\n${r.errors.slice(0, 3000)}`;
  return `${hints}${counts}\n${describeRun(r)}${errs}`;
}
