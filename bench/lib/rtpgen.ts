// Driver for bench/lib/rtpgen.c, the phone-side RTP load of bench/relay.ts:
// compiles it once per source version (gcc, which better-sqlite3's build
// needs anyway), writes the packets each phone plays, runs one step.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const SOURCE = join(fileURLToPath(new URL('.', import.meta.url)), 'rtpgen.c');

/** Path of the compiled generator; builds it when the source changed. Throws with gcc's output when it cannot. */
export function buildRtpgen(): string {
  const src = readFileSync(SOURCE);
  const dir = join(tmpdir(), 'switchboard-bench');
  mkdirSync(dir, { recursive: true });
  const bin = join(dir, `rtpgen-${createHash('sha256').update(src).digest('hex').slice(0, 12)}`);
  if (existsSync(bin)) return bin;
  const r = spawnSync('gcc', ['-O2', '-Wall', '-o', bin, SOURCE], { encoding: 'utf8' });
  if (r.error !== undefined || r.status !== 0) {
    throw new Error(`cannot build bench/lib/rtpgen.c (needs gcc): ${r.error?.message ?? r.stderr}`);
  }
  return bin;
}

/** Writes packets in rtpgen's file format (2-byte length, bytes). */
export function writePacketFile(path: string, packets: readonly Buffer[]): void {
  const parts: Buffer[] = [];
  for (const p of packets) {
    const len = Buffer.alloc(2);
    len.writeUInt16BE(p.length);
    parts.push(len, p);
  }
  writeFileSync(path, Buffer.concat(parts));
}

export interface GenResult {
  calls: number;
  /** Packets the generator could not hand to the kernel (counted in sent, so they show as loss). */
  sendFailed: number;
  sent: number;
  received: number;
  duplicatesOrStray: number;
  strayUnknown: number;
  streamsWithLoss: number;
  p50Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
  jitterMeanUs: number;
  jitterMaxUs: number;
  /** CPU the generator used over the step. */
  cpuSec: number;
  wallSec: number;
}

export interface GenOptions {
  bin: string;
  aFile: string;
  bFile: string;
  seconds: number;
  socks: number;
  drainMs: number;
  /** Prefix such as ['taskset', '-c', '1'] to pin the generator. */
  pin: string[];
}

/**
 * Starts the generator and returns its phone ports at once; `run(calls)`
 * then gives it the relay ports (call i: phone A = aPorts[i % n], phone B =
 * bPorts[i % n]) and resolves with its figures after seconds + drain.
 */
export async function startGen(o: GenOptions): Promise<{
  aPorts: number[];
  bPorts: number[];
  pid: number;
  run(calls: readonly { a: number; b: number }[]): Promise<GenResult>;
  kill(): void;
}> {
  const args = ['--a', o.aFile, '--b', o.bFile, '--seconds', String(o.seconds), '--socks', String(o.socks), '--drain-ms', String(o.drainMs)];
  const cmd = [...o.pin, o.bin, ...args];
  const child = spawn(cmd[0]!, cmd.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const it = lines[Symbol.asyncIterator]();
  const limit = setTimeout(() => child.kill('SIGKILL'), (o.seconds + 120) * 1000);
  const next = async (what: string): Promise<string> => {
    const r = await it.next();
    if (r.done === true) throw new Error(`rtpgen exited before ${what}`);
    return r.value;
  };
  const first = await next('printing its ports');
  const ports = first.split(' ').slice(1).map(Number);
  if (ports.length !== 2 * o.socks || ports.some((p) => !(p > 0))) throw new Error(`rtpgen: unexpected first line '${first}'`);
  return {
    aPorts: ports.slice(0, o.socks),
    bPorts: ports.slice(o.socks),
    pid: child.pid ?? -1,
    async run(calls) {
      try {
        child.stdin.write(calls.map((c) => `call ${c.a} ${c.b}\n`).join('') + 'go\n');
        const json = await next('its results');
        return JSON.parse(json) as GenResult;
      } finally {
        clearTimeout(limit);
        lines.close();
      }
    },
    kill() {
      clearTimeout(limit);
      child.kill('SIGKILL');
    },
  };
}

/** Host-wide UDP error counters (/proc/net/snmp): where loopback packets get dropped. null off Linux. */
export function udpErrors(): { rcvbuf: number; sndbuf: number; inErrors: number } | null {
  try {
    const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
    const names = (lines[0] ?? '').split(/\s+/);
    const vals = (lines[1] ?? '').split(/\s+/).map(Number);
    const get = (n: string): number => vals[names.indexOf(n)] ?? NaN;
    const r = { rcvbuf: get('RcvbufErrors'), sndbuf: get('SndbufErrors'), inErrors: get('InErrors') };
    return Object.values(r).every(Number.isFinite) ? r : null;
  } catch {
    return null;
  }
}
