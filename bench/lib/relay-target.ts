// What bench/relay.ts measures: a media relay that sets up calls between
// phone addresses and hands back the ports the phones must send to. The
// built-in relay is one (in a child Node process); rtpengine, the reference
// beside it, is in rtpengine-target.ts.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SrtpSuiteName } from '../../src/media/srtp.ts';
import type { ChildDrops, ChildReply, ChildRequest } from './relay-child.ts';
import { rtpengineDefaultThreadsTarget, rtpengineTarget } from './rtpengine-target.ts';

export type RelayMode = 'rtp' | 'srtp';

export interface SrtpKeys {
  suite: SrtpSuiteName;
  /** base64 */
  key: string;
  /** base64 */
  salt: string;
}

/**
 * A relay's own counters for one step, by name ('relayed' is packets
 * forwarded; anything else above zero is printed as a drop), and for Node
 * relays the event-loop delay while the calls ran.
 */
export type RelayDrops = { [counter: string]: number | undefined; loopP99Ms?: number; loopMaxMs?: number };

export interface RelayTarget {
  readonly name: string;
  /** Root of the relay's process tree, for CPU. */
  readonly pid: number;
  /**
   * Sets up one relayed call per phone pair: phone A at 127.0.0.1:a sends
   * plain RTP ('rtp') or SRTP under `srtp` ('srtp'), phone B plain RTP.
   * Returns, per call, the relay ports A and B send to (and hear from).
   */
  createCalls(phones: readonly { a: number; b: number }[], mode: RelayMode, srtp: SrtpKeys | null): Promise<{ a: number; b: number }[]>;
  /** Tears every call down; the relay's own drop counters when it has them. */
  clearCalls(): Promise<RelayDrops | null>;
  stop(): Promise<void>;
}

export interface TargetOptions {
  portMin: number;
  portMax: number;
  /** e.g. ['taskset', '-c', '0'], or [] not to pin. */
  pin: string[];
  /** Extra node flags for a Node relay, e.g. --cpu-prof. */
  nodeArgs?: string[];
}

const CHILD = join(fileURLToPath(new URL('.', import.meta.url)), 'relay-child.ts');

/** The built-in relay (src/media/relay.ts) in a child Node process. */
export function builtinTarget(o: TargetOptions): Promise<RelayTarget> {
  return nodeChildTarget('builtin', o, {});
}

/**
 * The built-in relay with a given SRTP engine (src/media/srtp-engine.ts, or
 * 'legacy': the code before the engines, bench/lib/srtp-legacy-engine.ts);
 * plain 'builtin' uses the engine the server would pick.
 */
function builtinWithEngine(engine: 'js' | 'legacy'): (o: TargetOptions) => Promise<RelayTarget> {
  return (o) => nodeChildTarget(`builtin-${engine}`, o, { RELAY_SRTP_ENGINE: engine });
}

/**
 * Reference floor: the same child, forwarding with bare dgram sockets and
 * nothing else (no latching, stats, transforms). The gap to 'builtin' is what
 * relay.ts itself costs; what 'floor' cannot hold, no Node relay would.
 */
export function floorTarget(o: TargetOptions): Promise<RelayTarget> {
  return nodeChildTarget('node-floor', o, { RELAY_IMPL: 'floor' });
}

async function nodeChildTarget(name: string, o: TargetOptions, env: Record<string, string>): Promise<RelayTarget> {
  const cmd = [...o.pin, process.execPath, ...(o.nodeArgs ?? []), '--import', 'tsx', CHILD];
  const child: ChildProcess = spawn(cmd[0]!, cmd.slice(1), {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, ...env, RELAY_PORT_MIN: String(o.portMin), RELAY_PORT_MAX: String(o.portMax) },
  });
  const waiting = new Map<number, (r: ChildReply) => void>();
  let nextId = 1;
  child.on('message', (m) => {
    const r = m as ChildReply;
    waiting.get(r.id)?.(r);
    waiting.delete(r.id);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const request = (req: Omit<ChildRequest, 'id'>, timeoutMs = 120_000): Promise<ChildReply> => {
    const id = nextId++;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        waiting.delete(id);
        reject(new Error(`relay child: no answer to ${req.op} in ${timeoutMs} ms`));
      }, timeoutMs);
      waiting.set(id, (r) => {
        clearTimeout(t);
        if (r.ok) resolve(r);
        else reject(new Error(`relay child: ${req.op}: ${r.error}`));
      });
      child.send({ ...req, id });
    });
  };
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('relay child did not start in 30 s')), 30_000);
    waiting.set(0, () => {
      clearTimeout(t);
      resolve();
    });
    child.once('exit', (code) => reject(new Error(`relay child exited with ${code} while starting`)));
  });
  return {
    name,
    pid: child.pid ?? -1,
    async createCalls(phones, mode, srtp) {
      const r = await request({ op: 'create', calls: [...phones], srtp: mode === 'srtp' ? srtp : null } as Omit<ChildRequest, 'id'>);
      return (r as { ends: { a: number; b: number }[] }).ends;
    },
    async clearCalls() {
      const r = await request({ op: 'clear' });
      return { ...(r as { drops: ChildDrops }).drops };
    },
    async stop() {
      await request({ op: 'exit' }, 10_000).catch(() => child.kill('SIGKILL'));
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    },
  };
}

/** taskset prefix pinning to one CPU when there are at least two and taskset exists; [] otherwise. */
export function pinTo(cpu: number, cores: number): string[] {
  if (cores < 2) return [];
  const r = spawnSync('taskset', ['--version'], { encoding: 'utf8' });
  return r.error === undefined && r.status === 0 ? ['taskset', '-c', String(cpu)] : [];
}

export const TARGETS: Record<string, (o: TargetOptions) => Promise<RelayTarget>> = {
  builtin: builtinTarget,
  'builtin-js': builtinWithEngine('js'),
  'builtin-legacy': builtinWithEngine('legacy'),
  'node-floor': floorTarget,
  rtpengine: rtpengineTarget,
  'rtpengine-mt': rtpengineDefaultThreadsTarget,
};
