// How many connections this process can hold: every TCP/TLS connection, HTTPS
// client, control-socket client, relay socket and database file takes a file
// descriptor, and when the process runs out, accept() fails for all of them at
// once. So the connection caps are cut from the open-file limit, with a
// reserve for everything that is not a SIP connection, instead of being fixed
// numbers the limit may sit below.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface FileLimit {
  soft: number;
  hard: number;
  /** How the soft limit was raised at start, when it was. */
  raised?: string;
}

/** What a budget is cut for when the limit cannot be read: a default systemd service's soft limit. */
const FALLBACK_LIMIT = 1_024;
/** Above this an "unlimited" hard limit is not taken literally (the kernel's nr_open default). */
const UNLIMITED = 1_048_576;

/**
 * The process's open-file limit (RLIMIT_NOFILE), with the soft limit raised
 * to the hard one first where it is below. Node raises it itself at start
 * (its platform init, on Linux and macOS); `prlimit` (util-linux) on our own
 * pid is the fallback when that did not happen. Workers of a cluster inherit
 * what their supervisor has.
 */
export function openFileLimit(): FileLimit {
  const first = readLimit();
  if (first === undefined) return { soft: FALLBACK_LIMIT, hard: FALLBACK_LIMIT };
  if (first.soft >= first.hard || first.hard >= UNLIMITED) return first;
  const r = spawnSync('prlimit', ['--pid', String(process.pid), `--nofile=${first.hard}:${first.hard}`], { encoding: 'utf8', timeout: 5_000 });
  if (r.status !== 0) return first;
  const after = readLimit() ?? first;
  return after.soft > first.soft ? { ...after, raised: `prlimit, from ${first.soft}` } : first;
}

function readLimit(): FileLimit | undefined {
  try {
    // "Max open files            1024                 524288               files"
    const line = readFileSync('/proc/self/limits', 'latin1').split('\n').find((l) => l.startsWith('Max open files'));
    const m = line === undefined ? null : /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/.exec(line);
    if (m) return { soft: count(m[1]!), hard: count(m[2]!) };
  } catch {
    // not Linux: ask a shell, which inherits our limits
  }
  const sh = (flag: string) => spawnSync('sh', ['-c', `ulimit ${flag}`], { encoding: 'utf8', timeout: 5_000 }).stdout?.trim() ?? '';
  const soft = sh('-Sn');
  const hard = sh('-Hn');
  if (!/^(\d+|unlimited)$/.test(soft) || !/^(\d+|unlimited)$/.test(hard)) return undefined;
  return { soft: count(soft), hard: count(hard) };
}

function count(s: string): number {
  return s === 'unlimited' ? UNLIMITED : Math.min(UNLIMITED, Number(s));
}

export interface ConnectionCaps {
  /** The soft open-file limit the caps were cut from. */
  fileLimit: number;
  /** TCP and TLS SIP connections together, inbound and outbound. */
  sipConnections: number;
  /** Inbound SIP connections from one address. */
  sipPerSource: number;
  /** Connections the management HTTPS server holds at once. */
  httpConnections: number;
  /** Descriptors left for the rest: database, logs, listeners, control socket, relay sockets. */
  reserve: number;
}

/** Descriptors the process holds whatever the load: database and journal, logs, listeners, event loop, worker link, certificates being read. */
const FIXED_RESERVE = 96;

/**
 * Cuts the caps from the limit: a fixed reserve, a 32nd for HTTPS (16 to
 * 1,024), a quarter for relayed media (each relayed call holds RTP and RTCP
 * sockets on both sides), the rest for SIP; one address may hold an eighth of
 * the SIP budget. Configured caps apply when they are lower.
 * E.g. 1,024 files: 640 SIP connections, 80 per address, 32 HTTPS.
 */
export function connectionCaps(fileLimit: number, configured: { maxConnections?: number; maxConnectionsPerSource?: number } = {}): ConnectionCaps {
  const httpConnections = clamp(Math.floor(fileLimit / 32), 16, 1_024);
  const media = Math.floor(fileLimit / 4);
  const derived = Math.max(16, fileLimit - FIXED_RESERVE - httpConnections - media);
  const sipConnections = Math.min(derived, configured.maxConnections ?? derived);
  const sipPerSource = Math.min(sipConnections, configured.maxConnectionsPerSource ?? Math.max(4, Math.floor(sipConnections / 8)));
  return { fileLimit, sipConnections, sipPerSource, httpConnections, reserve: fileLimit - sipConnections - httpConnections };
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, n));
}
