// SIPp as both ends of a call: a "phone" is a SIPp UAS that first registers
// its socket as a user (register_auth.xml with the same -p), then answers on
// it; a caller is a SIPp UAC authenticating as users from an injection CSV.
// Works against any server that registers and routes (Switchboard, Kamailio).
import { readFileSync } from 'node:fs';
import type { SippOptions, SippRun, SippTransport } from '../sipp.ts';
import { describeSipp, runSipp } from '../sipp.ts';
import type { TestUser } from '../users.ts';
import { sippUsersCsv } from '../users.ts';
import { freePort, LOOPBACK } from '../process.ts';

/** Where SIP goes: a server's loopback UDP socket and its domain (realm). */
export interface SipServer {
  name: string;
  host: string;
  udpPort: number;
  domain: string;
  /** The server's own log, for failure messages. */
  output(): string;
}

/**
 * `-mp` for one SIPp process: its own media (RTP) port base. SIPp binds one
 * at start even when it sends no RTP, and SIPps started together all try the
 * default 6000 upwards and race each other into "Unable to bind audio RTP
 * socket". Below the ephemeral range; the next three stay free for RTCP/video.
 */
export async function mediaPortArgs(): Promise<string[]> {
  return ['-mp', String(await freePort({ min: 10000, max: 19990 }, 4))];
}

/**
 * runSipp with its own media port, again with another one (at most 3 tries)
 * when SIPp could not bind it: a port free when chosen may be taken by any
 * other program before SIPp starts.
 */
export async function runSippOwnMedia(o: SippOptions): Promise<SippRun> {
  for (let attempt = 1; ; attempt++) {
    const r = await runSipp({ ...o, extraArgs: [...(o.extraArgs ?? []), ...(await mediaPortArgs())] });
    if (attempt >= 3 || !/Unable to bind audio RTP socket/.test(r.stderr)) return r;
  }
}

/** True once something has a UDP socket bound on port (any local address). */
export function udpBound(port: number): boolean {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    // Column 2 is local_address "0100007F:13C4"; only the local side counts.
    for (const line of text.split('\n')) {
      const local = line.trim().split(/\s+/)[1];
      if (local !== undefined && `${local} `.endsWith(hex)) return true;
    }
  }
  return false;
}

/** Polls until port is bound (a SIPp UAS ready), at most timeoutMs. */
export async function waitUdpBound(port: number, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (udpBound(port)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return udpBound(port);
}

export interface PhoneOptions {
  server: SipServer;
  /** Users registered at this phone's socket (all share its Contact). */
  users: readonly TestUser[];
  workDir: string;
  /** Default a free port. */
  port?: number;
  expires?: number;
}

/**
 * Registers users at a UDP port that nothing listens on yet; the UAS started
 * afterwards on that port receives their calls. Throws with SIPp's account
 * when any registration fails.
 */
export async function registerPhone(o: PhoneOptions): Promise<number> {
  const port = o.port ?? (await freePort());
  const r = await runSippOwnMedia({
    scenario: 'register_auth.xml',
    remoteHost: o.server.host,
    remotePort: o.server.udpPort,
    localPort: port,
    usersCsv: sippUsersCsv(o.users, o.server.domain),
    authUri: o.server.domain,
    calls: o.users.length,
    rate: 200,
    recvTimeoutMs: 10_000,
    keys: { expires: String(o.expires ?? 3600) },
    workDir: o.workDir,
    timeoutMs: 60_000,
  });
  if (r.code !== 0 || r.stats?.successful !== o.users.length) {
    throw new Error(`${o.server.name}: phone registration at port ${port} failed\n${describeSipp(r)}\n${o.server.output()}`);
  }
  return port;
}

export interface UasOptions {
  scenario: string;
  port: number;
  /** The UAS exits after this many calls. */
  calls: number;
  /** SIPp's own limit (-timeout), seconds: it stops even if calls never come. */
  timeoutSec: number;
  workDir: string;
  traceMessages?: boolean;
  transport?: SippTransport;
  /** -key name value pairs for the scenario's [name] keywords. */
  keys?: Record<string, string>;
  /** Injection CSV (-inf) for scenarios that send requests of their own (e.g. an authenticated REFER). */
  usersCsv?: string;
  /** More SIPp arguments, e.g. -d for a scenario's <pause/>. */
  extraArgs?: string[];
  /** The pid of the process group SIPp runs in (to stop it early: kill(-pid)). */
  onSpawn?: (pid: number) => void;
}

export interface UasHandle {
  /** Resolves when the UAS exits (its calls done, or its time up). */
  done: Promise<SippRun>;
}

/** Starts a SIPp UAS on port and resolves once it listens. */
export async function startUas(o: UasOptions): Promise<UasHandle> {
  const done = runSippOwnMedia({
    scenario: o.scenario,
    // A UAS needs a remote address on the command line but answers where requests come from.
    remoteHost: LOOPBACK,
    remotePort: 9,
    localPort: o.port,
    transport: o.transport ?? 'u1',
    calls: o.calls,
    rate: 1,
    workDir: o.workDir,
    timeoutMs: (o.timeoutSec + 30) * 1000,
    traceMessages: o.traceMessages,
    keys: o.keys,
    usersCsv: o.usersCsv,
    onSpawn: o.onSpawn,
    extraArgs: ['-timeout', `${o.timeoutSec}s`, '-timeout_error', ...(o.extraArgs ?? [])],
  });
  // SIPp fails fast when it cannot start; do not wait for the port then.
  const first = await Promise.race([done.then(() => 'exited' as const), waitUdpBound(o.port).then((b) => (b ? 'bound' : 'late'))]);
  if (first !== 'bound') {
    const r = await done;
    throw new Error(`SIPp UAS ${o.scenario} did not listen on ${o.port} (${first})\n${describeSipp(r)}`);
  }
  return { done };
}

export interface UacOptions {
  server: SipServer;
  scenario: string;
  /** Dialled user/number (-s), also the digest uri user. */
  callee: string;
  /** Callers, used in turn (one CSV line each); empty for call_uac_noauth.xml. */
  callers: readonly TestUser[];
  calls: number;
  rate: number;
  /** Pause between ACK and BYE, ms (-d). */
  holdMs?: number;
  workDir: string;
  timeoutMs: number;
  localPort?: number;
  recvTimeoutMs?: number;
  traceMessages?: boolean;
  keys?: Record<string, string>;
  maxOpenCalls?: number;
  extraArgs?: string[];
  /** SIPp's media port (-mp), e.g. for a capture filtered to it; default a free one of SIPp's own. */
  mediaPort?: number;
}

export function runUac(o: UacOptions): Promise<SippRun> {
  const domain = o.server.domain;
  const run = o.mediaPort === undefined ? runSippOwnMedia : runSipp;
  return run({
    scenario: o.scenario,
    remoteHost: o.server.host,
    remotePort: o.server.udpPort,
    localPort: o.localPort,
    usersCsv: o.callers.length > 0 ? sippUsersCsv(o.callers, domain) : undefined,
    // SIPp puts sip:<this> in the digest uri=; it must equal the Request-URI.
    authUri: `${o.callee}@${domain}`,
    calls: o.calls,
    rate: o.rate,
    maxOpenCalls: o.maxOpenCalls,
    recvTimeoutMs: o.recvTimeoutMs ?? 15_000,
    keys: o.keys,
    workDir: o.workDir,
    timeoutMs: o.timeoutMs,
    traceMessages: o.traceMessages,
    extraArgs: ['-s', o.callee, '-d', String(o.holdMs ?? 200), '-pause_msg_ign', ...(o.mediaPort === undefined ? [] : ['-mp', String(o.mediaPort)]), ...(o.extraArgs ?? [])],
  });
}

/** Failure text with both SIPps' accounts and the server's log. */
export function describeCall(server: SipServer, uac: SippRun, uas?: SippRun): string {
  const parts = [`--- ${server.name}: UAC ---\n${describeSipp(uac)}`];
  if (uas !== undefined) parts.push(`--- UAS ---\n${describeSipp(uas)}`);
  parts.push(`--- ${server.name} output ---\n${server.output()}`);
  return parts.join('\n');
}

/** Request lines of a SIPp message trace (-trace_msg), e.g. "INVITE sip:1@h SIP/2.0". */
export function receivedRequestLines(trace: string): string[] {
  const out: string[] = [];
  // SIPp writes "... message received [n] bytes :\n\n<message>"; the first line after it is the start line.
  const re = /message received \[\d+\] bytes :\s*\n+([^\r\n]+)/g;
  for (let m = re.exec(trace); m !== null; m = re.exec(trace)) {
    if (m[1] !== undefined && !m[1].startsWith('SIP/2.0')) out.push(m[1]);
  }
  return out;
}
