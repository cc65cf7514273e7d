import type { Command } from 'commander';
import type { Config } from '../config/schema.ts';
import { askControlSocket, controlSocketPath, ControlRefusal, ControlSocketTimeout, NoControlSocketError } from '../pbx/status/control-socket.ts';
import type { ControlStatus, WorkerSummary } from '../pbx/status/control-socket.ts';
import type { OverloadStatus, StatusSnapshot } from '../pbx/status/status.ts';
import { CliError, DATA_DIR_OPTION, print, resolveDataDir } from './common.ts';

/** Asks the running server for its live status over the control socket in the data directory. */
export async function queryStatus(dataDir: string, timeoutMs = 5000): Promise<StatusSnapshot> {
  return (await queryControlStatus(dataDir, timeoutMs)).status;
}

/** The live status and, for a cluster, each worker's summary. */
export async function queryControlStatus(dataDir: string, timeoutMs = 5000): Promise<ControlStatus> {
  const answer = await askControl<Partial<ControlStatus>>(dataDir, { op: 'status' }, timeoutMs);
  if (!answer.status) throw new CliError('the server refused the request: no answer', 1);
  return { status: answer.status, workers: answer.workers };
}

/** Nothing answers on the data directory's control socket: no server runs there. */
export class NoServerError extends CliError {}

/** One request over the control socket of the server on dataDir; rejects with the server's error. */
export async function askControl<T>(dataDir: string, request: Record<string, unknown>, timeoutMs = 5000): Promise<T> {
  const path = controlSocketPath(dataDir);
  try {
    return await askControlSocket<T>(path, request, timeoutMs);
  } catch (err) {
    if (err instanceof NoControlSocketError) throw new NoServerError(`no server is running on ${dataDir} (control socket ${path})`, 1);
    if (err instanceof ControlSocketTimeout) throw new CliError(`the server on ${dataDir} did not answer within ${timeoutMs} ms`, 1);
    if (err instanceof ControlRefusal) throw new CliError(err.message, 1);
    throw new CliError(`${(err as Error).message} on ${dataDir} (control socket ${path})`, 1);
  }
}

/** The configuration the server on this data directory runs with (start flags included), or undefined when none runs. */
export async function runningConfig(dataDir: string): Promise<Config | undefined> {
  try {
    return (await askControl<{ config: Config }>(dataDir, { op: 'config' })).config;
  } catch (err) {
    if (err instanceof NoServerError) return undefined;
    throw err;
  }
}

function duration(sec: number): string {
  const h = Math.floor(sec / 3600);
  const m = Math.floor((sec % 3600) / 60);
  const s = sec % 60;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
}

/** One line per extension and per call, each line saying what it is. */
export function formatStatus(s: StatusSnapshot): string[] {
  const lines: string[] = [];
  for (const e of s.extensions) {
    const contacts = e.contacts.map((c) => `${c.transport} ${c.address.includes(':') ? `[${c.address}]` : c.address}:${c.port}${c.userAgent ? ` ua=${JSON.stringify(c.userAgent)}` : ''}`);
    lines.push(`extension ${e.extension} ${e.registered ? 'registered' : 'unregistered'} ${e.state} ${e.mediaStream} ${contacts.join(', ') || '-'}`);
  }
  for (const c of s.calls) {
    const who = `${c.caller} -> ${c.callee}${c.calleeExtension && c.calleeExtension !== c.callee ? ` (${c.calleeExtension})` : ''}`;
    const leg = (name: string, l: StatusSnapshot['calls'][number]['legs']['caller']) =>
      l.packetsIn === null ? '' : ` ${name}=${l.stream} in=${l.packetsIn} out=${l.packetsOut} loss=${l.lossPercent}% jitter=${l.jitterMs}ms`;
    lines.push(`call ${c.ref} ${c.state} ${who} ${duration(c.durationSec)} ${c.codec ?? '-'} ${c.connectionType}${c.held ? ' held' : ''}${c.trunk ? ` trunk=${c.trunk}` : ''}${c.app ? ` app=${c.app}` : ''}${leg('caller', c.legs.caller)}${leg('callee', c.legs.callee)}`);
  }
  for (const t of s.trunks) lines.push(`trunk ${t.trunk} ${t.state}${t.reason ? ` (${t.reason})` : ''}${t.rttMs !== null && t.reachable === 'up' ? ` rtt=${Math.round(t.rttMs)}ms` : ''}`);
  for (const p of s.peers ?? []) {
    lines.push(`peer ${p.uri} ${p.state} node=${p.node ?? '?'}${p.rttMs === null ? '' : ` rtt=${p.rttMs}ms`}${p.reason ? ` (${p.reason})` : ''}`);
  }
  if (s.overload) lines.push(`overload ${formatOverload(s.overload)}`);
  for (const t of s.overload?.trunks ?? []) if (t.reduction > 0 || t.shed > 0) lines.push(`trunk ${t.trunk} asks-reduction=${t.reduction}% shed=${t.shed}`);
  return lines;
}

/** Receive delay, admitted shares and counters on one line (`-` shares when overload control is off). */
function formatOverload(o: OverloadStatus): string {
  const share = (x: number) => (o.enabled ? String(Math.round(x * 1000) / 1000) : '-');
  return `delay=${Math.round(o.receiveDelayMs)}ms admitted=${share(o.admitted)} admitted-unauthenticated=${share(o.admittedUnauthenticated)} refused=${o.refused} dropped=${o.dropped} oc-feedback=${o.ocFeedback}`;
}

/** One line per worker of a cluster. */
export function formatWorkers(workers: readonly WorkerSummary[]): string[] {
  return workers.map((w) => `worker ${w.worker} pid=${w.pid} calls=${w.calls} bindings=${w.bindings} connections=${w.connections} forwarded=${w.forwarded}${w.overload ? ` ${formatOverload(w.overload)}` : ''}`);
}

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description('live status of the running server: registered extensions, active calls, trunk registrations, overload control, links to other nodes')
    .option(...DATA_DIR_OPTION)
    .option('--json', 'print the status as JSON')
    .action(async (opts: { dataDir?: string; json?: boolean }) => {
      const { status, workers } = await queryControlStatus(resolveDataDir(opts.dataDir));
      if (opts.json) print(JSON.stringify(workers ? { ...status, workers } : status, null, 2));
      else for (const line of [...formatStatus(status), ...formatWorkers(workers ?? [])]) print(line);
    });
}
