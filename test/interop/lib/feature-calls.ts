// SIPp phones and callers for the feature interop tests (short codes, hunt
// groups, transfer, park, pickup) against an in-process Switchboard
// (feature-server.ts): dial a code and read what came back, place a call and
// see which registered phone the server sent it to (from the server's own
// SIP trace, so a call that went to the wrong phone fails with where it went).
import { expect } from 'vitest';
import type { SippRun } from '../sipp.ts';
import { describeSipp } from '../sipp.ts';
import type { TestUser } from '../users.ts';
import { sippUsersCsv } from '../users.ts';
import { receivedResponses } from './call-flows.ts';
import type { FeatureServer } from './feature-server.ts';
import { registerPhone, runUac, startUas } from './sipp-calls.ts';
import type { UasHandle } from './sipp-calls.ts';
import type { TappedMessage } from './sip-tap.ts';

/** A short code as the user part of a Request-URI: '#' escaped (RFC 3261 25.1), '*' kept. */
export function codeUser(code: string): string {
  return code.replace(/#/g, '%23');
}

export interface Env {
  fs: FeatureServer;
  workDir: string;
}

/** Final response of a SIPp run's INVITE (from its trace), with its reason phrase. */
export interface Final {
  status: number;
  reason: string;
}

/** Status and reason phrase of every INVITE response a SIPp trace shows received. */
export function inviteFinals(trace: string): Final[] {
  const out: Final[] = [];
  for (const chunk of trace.split(/message received \[\d+\] bytes :/).slice(1)) {
    const st = /^\s*SIP\/2\.0 (\d{3}) ?([^\r\n]*)/.exec(chunk);
    const cseq = /^CSeq:\s*\d+\s+(\w+)/im.exec(chunk);
    if (st !== null && (cseq?.[1] ?? '').toUpperCase() === 'INVITE' && Number(st[1]) >= 200) out.push({ status: Number(st[1]), reason: (st[2] ?? '').trim() });
  }
  return out;
}

/** RFC 3261's own phrases: a reason "saying why" is something else. */
const DEFAULT_PHRASES: Record<number, string> = {
  400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 408: 'Request Timeout',
  409: 'Conflict', 410: 'Gone', 480: 'Temporarily Unavailable', 481: 'Call/Transaction Does Not Exist',
  484: 'Address Incomplete', 486: 'Busy Here', 487: 'Request Terminated', 488: 'Not Acceptable Here',
};

export function isDefaultPhrase(f: Final): boolean {
  return DEFAULT_PHRASES[f.status]?.toLowerCase() === f.reason.toLowerCase() || f.reason === '';
}

export function why(env: Env, ...runs: (SippRun | undefined)[]): string {
  const parts = runs.filter((r): r is SippRun => r !== undefined).map((r, i) => `--- SIPp run ${i + 1} ---\n${describeSipp(r)}\n--- its messages (tail) ---\n${r.messages.slice(-4000)}`);
  return `${parts.join('\n')}\n${env.fs.output()}`;
}

/** Each server's SIPp phones: a user registered once keeps its port, so no stale contact is forked to later. */
const registered = new WeakMap<FeatureServer, Map<string, number>>();

/** Registers a SIPp phone for each user (one socket each, reused when already registered here); returns ext -> port. */
export async function registerPhones(env: Env, users: readonly TestUser[]): Promise<Map<string, number>> {
  let known = registered.get(env.fs);
  if (known === undefined) registered.set(env.fs, (known = new Map()));
  const ports = new Map<string, number>();
  for (const u of users) {
    let port = known.get(u.ext);
    if (port === undefined) {
      port = await registerPhone({ server: env.fs.sipp, users: [u], workDir: env.workDir });
      known.set(u.ext, port);
    }
    ports.set(u.ext, port);
  }
  return ports;
}

export interface DialResult {
  run: SippRun;
  final: Final | undefined;
  /** The caller's INVITE as the server got it (the authenticated one), and what the server sent on its dialog. */
  invite: TappedMessage | undefined;
  dialog: TappedMessage[];
}

function dialogOf(env: Env, callId: string, since: number): TappedMessage[] {
  return env.fs.tap.find((m) => m.callId === callId, since);
}

/** The Call-ID of the last INVITE the server received whose Request-URI user is `user` (from since). */
function inviteTo(env: Env, user: string, since: number): TappedMessage | undefined {
  const list = env.fs.tap.requests('in', 'INVITE', since).filter((m) => m.startLine.startsWith(`INVITE sip:${user}@`) || m.startLine.startsWith(`INVITE sips:${user}@`));
  return list[list.length - 1];
}

/**
 * `caller` dials `dialled` (a code as typed, '#' escaped here) with
 * code_uac.xml (answered, then in the call until a BYE comes) or
 * code_uac_reject.xml (any 4xx).
 */
export async function dial(env: Env, caller: TestUser, dialled: string, o: { expect: 'answered' | 'rejected'; recvTimeoutMs?: number; holdMs?: number } ): Promise<DialResult> {
  const since = env.fs.tap.mark();
  const user = codeUser(dialled);
  const run = await runUac({
    server: env.fs.sipp,
    scenario: o.expect === 'answered' ? 'code_uac.xml' : 'code_uac_reject.xml',
    callee: user,
    callers: [caller],
    calls: 1,
    rate: 1,
    holdMs: o.holdMs,
    workDir: env.workDir,
    timeoutMs: 90_000,
    recvTimeoutMs: o.recvTimeoutMs ?? 10_000,
    traceMessages: true,
    extraArgs: ['-timeout', '80s'],
  });
  const finals = inviteFinals(run.messages);
  const invite = inviteTo(env, user, since);
  return { run, final: finals[finals.length - 1], invite, dialog: invite === undefined ? [] : dialogOf(env, invite.callId, since) };
}

/**
 * A code that changes a setting: answered 200, then ended by the server with
 * a BYE within maxByeMs of its 200 (SPEC: two seconds).
 */
export async function dialSetting(env: Env, caller: TestUser, code: string, maxByeMs = 2000): Promise<DialResult> {
  const r = await dial(env, caller, code, { expect: 'answered', recvTimeoutMs: maxByeMs + 3000 });
  const w = `${caller.ext} dials ${code}\n${why(env, r.run)}`;
  expect(r.invite, `the server never got an INVITE for ${codeUser(code)}\n${w}`).toBeDefined();
  expect(r.final?.status, w).toBe(200);
  expect(r.run.stats?.successful, w).toBe(1);
  const ok = r.dialog.find((m) => m.dir === 'out' && m.status === 200 && m.method === 'INVITE');
  const bye = r.dialog.find((m) => m.dir === 'out' && m.method === 'BYE' && m.status === 0);
  expect(ok, `server sent no 200 to the INVITE\n${w}`).toBeDefined();
  expect(bye, `server sent no BYE\n${w}`).toBeDefined();
  expect((bye?.at ?? Infinity) - (ok?.at ?? 0), `BYE came ${(bye?.at ?? NaN) - (ok?.at ?? NaN)} ms after the 200\n${w}`).toBeLessThanOrEqual(maxByeMs);
  return r;
}

/** A code that cannot be carried out: a 4xx whose reason phrase says why (not just RFC 3261's phrase). */
export async function dialRefused(env: Env, caller: TestUser, code: string): Promise<Final> {
  const r = await dial(env, caller, code, { expect: 'rejected' });
  const w = `${caller.ext} dials ${code}\n${why(env, r.run)}`;
  expect(r.final, `no final response\n${w}`).toBeDefined();
  const f = r.final as Final;
  expect(f.status, w).toBeGreaterThanOrEqual(400);
  expect(f.status, w).toBeLessThan(500);
  expect(isDefaultPhrase(f), `reason phrase "${f.reason}" of ${f.status} does not say why\n${w}`).toBe(false);
  expect(r.run.stats?.successful, w).toBe(1);
  return f;
}

export interface PhoneCall {
  uas: SippRun;
  uac: SippRun;
  /** INVITEs the server sent during the call, by destination port. */
  invitesOut: TappedMessage[];
}

/**
 * `caller` calls `dialled`; the SIPp phone of `expectAt` (its registered port)
 * answers. Asserts the call completed on both sides and that the server
 * sent the INVITE to that phone and to none of `others` (ext -> port).
 */
export async function expectCallAnsweredAt(
  env: Env,
  caller: TestUser,
  dialled: string,
  expectAt: { ext: string; port: number },
  others: ReadonlyMap<string, number>,
  uasScenario = 'uas_answer.xml',
): Promise<PhoneCall> {
  const since = env.fs.tap.mark();
  const uas = await phone(env, uasScenario, expectAt.port, { holdMs: 300, timeoutSec: 40 });
  const uac = await runUac({
    server: env.fs.sipp,
    scenario: 'call_uac.xml',
    callee: dialled,
    callers: [caller],
    calls: 1,
    rate: 1,
    holdMs: 300,
    workDir: env.workDir,
    timeoutMs: 60_000,
    recvTimeoutMs: 20_000,
    traceMessages: true,
    extraArgs: ['-timeout', '50s'],
  });
  const invitesOut = env.fs.tap.requests('out', 'INVITE', since);
  const stray = invitesOut.filter((m) => m.peer.port !== expectAt.port);
  // The expected phone may never get its call: do not wait 40 s for it.
  const [uasRun] = await phonesDone(stray.length === 0 && uac.code === 0 && uac.stats?.successful === 1, [uas]);
  const portName = new Map([...others].map(([e, p]) => [p, e]));
  const where = invitesOut.map((m) => `${m.peer.port} (${portName.get(m.peer.port) ?? (m.peer.port === expectAt.port ? expectAt.ext : '?')}) ${m.startLine}`).join('\n');
  const w = `${caller.ext} calls ${dialled}, expected to ring ${expectAt.ext} at port ${expectAt.port}; INVITEs sent by the server:\n${where}\n${why(env, uac, uasRun)}`;
  expect(stray.map((m) => portName.get(m.peer.port) ?? m.peer.port), w).toEqual([]);
  expect(invitesOut.length, w).toBeGreaterThan(0);
  expect(uac.stats?.successful, w).toBe(1);
  expect(uasRun.stats?.successful, w).toBe(1);
  return { uas: uasRun, uac, invitesOut };
}

/** `caller` calls `dialled` and is refused: the INVITE's final response (4xx, 486/480 ...). */
export async function expectCallRefused(env: Env, caller: TestUser, dialled: string): Promise<Final> {
  const r = await dial(env, caller, dialled, { expect: 'rejected' });
  const w = `${caller.ext} calls ${dialled}\n${why(env, r.run)}`;
  expect(r.final, w).toBeDefined();
  expect(r.run.stats?.successful, w).toBe(1);
  return r.final as Final;
}

export interface Phone extends UasHandle {
  /** Stops this SIPp (its own process group) if it still runs. */
  stop(): void;
}

/** A SIPp phone (already registered at port) running scenario for one call, in the background. */
export async function phone(env: Env, scenario: string, port: number, o: { user?: TestUser; keys?: Record<string, string>; holdMs?: number; timeoutSec?: number } = {}): Promise<Phone> {
  let pid: number | undefined;
  let ended = false;
  const h = await startUas({
    onSpawn: (p) => (pid = p),
    scenario,
    port,
    calls: 1,
    timeoutSec: o.timeoutSec ?? 60,
    workDir: env.workDir,
    traceMessages: true,
    keys: o.keys,
    usersCsv: o.user !== undefined ? sippUsersCsv([o.user], env.fs.domain) : undefined,
    extraArgs: ['-d', String(o.holdMs ?? 500)],
  });
  void h.done.finally(() => (ended = true));
  return {
    done: h.done,
    stop() {
      if (ended || pid === undefined) return;
      try {
        process.kill(-pid, 'SIGTERM');
      } catch {
        // Already gone.
      }
    },
  };
}

/**
 * The phones' runs once the caller is done: when the caller failed, phones
 * that are still waiting for a call that will never come are stopped after
 * graceMs instead of running into their own time limit.
 */
export async function phonesDone<T extends readonly Phone[]>(callerRun: SippRun | boolean, phones: readonly [...T], graceMs = 3000): Promise<{ [K in keyof T]: SippRun }> {
  const ok = typeof callerRun === 'boolean' ? callerRun : callerRun.code === 0 && callerRun.stats?.successful === 1;
  if (!ok) {
    const all = Promise.all(phones.map((p) => p.done));
    const settled = await Promise.race([all.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), graceMs))]);
    if (!settled) for (const p of phones) p.stop();
  }
  return (await Promise.all(phones.map((p) => p.done))) as { [K in keyof T]: SippRun };
}

/** Starts a caller in the background (a scenario from test/interop/sipp), resolving when it ends. */
export function caller(env: Env, scenario: string, from: TestUser, dialled: string, o: { holdMs?: number; recvTimeoutMs?: number } = {}): Promise<SippRun> {
  return runUac({
    server: env.fs.sipp,
    scenario,
    callee: codeUser(dialled),
    callers: [from],
    calls: 1,
    rate: 1,
    holdMs: o.holdMs ?? 500,
    workDir: env.workDir,
    timeoutMs: 90_000,
    recvTimeoutMs: o.recvTimeoutMs ?? 30_000,
    traceMessages: true,
    extraArgs: ['-timeout', '80s'],
  });
}

/** Requests a SIPp trace shows received, with their bodies (NOTIFY sipfrag...). */
export function receivedRequests(trace: string, method: string): string[] {
  return trace
    .split(/message received \[\d+\] bytes :/)
    .slice(1)
    .map((c) => c.replace(/^\s+/, ''))
    .filter((c) => c.startsWith(`${method} `))
    .map((c) => c.split(/-{20,}/)[0] ?? c);
}

export { receivedResponses };
