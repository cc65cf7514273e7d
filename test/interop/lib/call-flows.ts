// The call flows of the calls interop tests, written once and run against
// both Switchboard and the Kamailio reference (calls-reference-kamailio):
// SIPp phones and callers, with the assertions each flow must pass. A flow
// registers its own callee on a fresh port, so no stale contact from an
// earlier flow is forked to.
import { expect } from 'vitest';
import type { SippRun } from '../sipp.ts';
import type { TestUser } from '../users.ts';
import type { SipServer } from './sipp-calls.ts';
import { describeCall, receivedRequestLines, registerPhone, runUac, startUas } from './sipp-calls.ts';

/** Who plays which part, the same for every server under test. */
export interface CallUsers {
  all: TestUser[];
  single: { caller: TestUser; callee: TestUser };
  load: { callers: TestUser[]; callee: TestUser };
  cancel: { caller: TestUser; callee: TestUser };
  busy: { caller: TestUser; callee: TestUser };
  noAnswer: { caller: TestUser; callee: TestUser };
  /** Dials out through the trunk (needs outbound permission). */
  trunkCaller: TestUser;
  /** Reached by the DID. */
  didCallee: TestUser;
  baresip: Record<'udp' | 'tcp' | 'tls', { a: TestUser; b: TestUser }>;
}

export function callUsers(all: TestUser[]): CallUsers {
  if (all.length < 300) throw new Error('callUsers: needs at least 300 users');
  const u = (i: number): TestUser => all[i] as TestUser;
  return {
    all,
    single: { callee: u(0), caller: u(1) },
    load: { callee: u(2), callers: all.slice(100, 300) },
    cancel: { callee: u(3), caller: u(4) },
    busy: { callee: u(5), caller: u(6) },
    noAnswer: { callee: u(7), caller: u(8) },
    trunkCaller: u(9),
    didCallee: u(10),
    baresip: { udp: { a: u(11), b: u(12) }, tcp: { a: u(13), b: u(14) }, tls: { a: u(15), b: u(16) } },
  };
}

export interface FlowEnv {
  server: SipServer;
  workDir: string;
}

export interface CallResult {
  uac: SippRun;
  uas: SippRun;
  why: string;
}

function expectAllOk(r: SippRun, n: number, why: string): void {
  expect(r.stats, why).not.toBeNull();
  expect(r.stats?.failed, why).toBe(0);
  expect(r.stats?.successful, why).toBe(n);
  expect(r.code, why).toBe(0);
}

interface Received {
  status: number;
  /** CSeq method: which request the response answers. */
  method: string;
}

/** Responses a SIPp trace (-trace_msg) shows as received. */
export function receivedResponses(trace: string): Received[] {
  const out: Received[] = [];
  for (const chunk of trace.split(/message received \[\d+\] bytes :/).slice(1)) {
    const status = /^\s*SIP\/2\.0 (\d{3})/.exec(chunk);
    const cseq = /^CSeq:\s*\d+\s+(\w+)/im.exec(chunk);
    if (status !== null) out.push({ status: Number(status[1]), method: cseq?.[1]?.toUpperCase() ?? '' });
  }
  return out;
}

function receivedStatuses(trace: string, method = 'INVITE'): number[] {
  return receivedResponses(trace)
    .filter((r) => r.method === method)
    .map((r) => r.status);
}

interface PairOptions {
  uasScenario: string;
  uacScenario: string;
  callee: TestUser;
  callers: readonly TestUser[];
  calls: number;
  rate: number;
  holdMs?: number;
  /** Upper bound for the whole flow. */
  timeoutSec: number;
  recvTimeoutMs?: number;
  trace: boolean;
}

async function pair(env: FlowEnv, o: PairOptions): Promise<CallResult> {
  const port = await registerPhone({ server: env.server, users: [o.callee], workDir: env.workDir });
  const uas = await startUas({
    scenario: o.uasScenario,
    port,
    calls: o.calls,
    timeoutSec: o.timeoutSec,
    workDir: env.workDir,
    traceMessages: o.trace,
  });
  const uac = await runUac({
    server: env.server,
    scenario: o.uacScenario,
    callee: o.callee.ext,
    callers: o.callers,
    calls: o.calls,
    rate: o.rate,
    holdMs: o.holdMs,
    workDir: env.workDir,
    timeoutMs: o.timeoutSec * 1000,
    recvTimeoutMs: o.recvTimeoutMs,
    traceMessages: o.trace,
    extraArgs: ['-timeout', `${o.timeoutSec}s`],
  });
  const uasRun = await uas.done;
  return { uac, uas: uasRun, why: describeCall(env.server, uac, uasRun) };
}

export interface AnsweredOptions {
  callee: TestUser;
  callers: readonly TestUser[];
  calls: number;
  rate: number;
  holdMs?: number;
  timeoutSec: number;
}

/** n calls INVITE/407/INVITE/180/200/ACK/BYE/200, every one completed on both sides. */
export async function answeredCalls(env: FlowEnv, o: AnsweredOptions): Promise<CallResult> {
  const r = await pair(env, {
    uasScenario: 'uas_answer.xml',
    uacScenario: 'call_uac.xml',
    ...o,
    holdMs: o.holdMs ?? 500,
    trace: o.calls <= 5,
  });
  expectAllOk(r.uac, o.calls, r.why);
  expectAllOk(r.uas, o.calls, r.why);
  return r;
}

/** Caller cancels after 180: caller gets 487, the phone saw the CANCEL. */
export async function cancelledCall(env: FlowEnv, callee: TestUser, caller: TestUser): Promise<CallResult> {
  const r = await pair(env, { uasScenario: 'uas_cancel.xml', uacScenario: 'call_uac_cancel.xml', callee, callers: [caller], calls: 1, rate: 1, timeoutSec: 40, trace: true });
  expectAllOk(r.uac, 1, r.why);
  expectAllOk(r.uas, 1, r.why);
  const invite = receivedStatuses(r.uac.messages);
  expect(invite, r.why).toContain(487);
  expect(invite, r.why).not.toContain(200);
  expect(receivedRequestLines(r.uas.messages).filter((l) => l.startsWith('CANCEL ')), r.why).toHaveLength(1);
  return r;
}

/** The phone answers 486: the caller gets 486. */
export async function busyCall(env: FlowEnv, callee: TestUser, caller: TestUser): Promise<CallResult> {
  const r = await pair(env, { uasScenario: 'uas_busy.xml', uacScenario: 'call_uac_busy.xml', callee, callers: [caller], calls: 1, rate: 1, timeoutSec: 40, trace: true });
  expectAllOk(r.uac, 1, r.why);
  expectAllOk(r.uas, 1, r.why);
  expect(receivedStatuses(r.uac.messages), r.why).toContain(486);
  return r;
}

/**
 * The phone only rings; the callee's no-answer timeout (noAnswerSec, set on
 * the server beforehand) ends the call: 480 or 408 to the caller, CANCEL to the phone.
 */
export async function unansweredCall(env: FlowEnv, callee: TestUser, caller: TestUser, noAnswerSec: number): Promise<CallResult> {
  const r = await pair(env, {
    uasScenario: 'uas_cancel.xml',
    uacScenario: 'call_uac_noanswer.xml',
    callee,
    callers: [caller],
    calls: 1,
    rate: 1,
    timeoutSec: noAnswerSec + 40,
    recvTimeoutMs: (noAnswerSec + 20) * 1000,
    trace: true,
  });
  expectAllOk(r.uac, 1, r.why);
  expectAllOk(r.uas, 1, r.why);
  const finals = receivedStatuses(r.uac.messages).filter((s) => s >= 300);
  expect(finals.some((s) => s === 480 || s === 408), r.why).toBe(true);
  expect(receivedRequestLines(r.uas.messages).filter((l) => l.startsWith('CANCEL ')), r.why).toHaveLength(1);
  return r;
}

export interface TrunkOutOptions {
  caller: TestUser;
  /** Where the PSTN SIPp listens: the trunk's host port. */
  pstnPort: number;
  /** What the caller dials, e.g. 95551234. */
  dialled: string;
  /** The Request-URI user the PSTN must see, e.g. 5551234. */
  expectUser: string;
}

/** A user dials out: the call leaves through the trunk with the number rewritten. */
export async function trunkOutboundCall(env: FlowEnv, o: TrunkOutOptions): Promise<CallResult> {
  const uas = await startUas({ scenario: 'uas_answer.xml', port: o.pstnPort, calls: 1, timeoutSec: 40, workDir: env.workDir, traceMessages: true });
  const uac = await runUac({
    server: env.server,
    scenario: 'call_uac.xml',
    callee: o.dialled,
    callers: [o.caller],
    calls: 1,
    rate: 1,
    workDir: env.workDir,
    timeoutMs: 40_000,
    traceMessages: true,
    extraArgs: ['-timeout', '40s'],
  });
  const uasRun = await uas.done;
  const why = describeCall(env.server, uac, uasRun);
  expectAllOk(uac, 1, why);
  expectAllOk(uasRun, 1, why);
  const invites = receivedRequestLines(uasRun.messages).filter((l) => l.startsWith('INVITE '));
  expect(invites, why).toHaveLength(1);
  expect(invites[0], why).toMatch(new RegExp(`^INVITE sips?:${o.expectUser}@`));
  return { uac, uas: uasRun, why };
}

export interface TrunkInOptions {
  /** The PSTN SIPp sends from here: the trunk's host port. */
  pstnPort: number;
  did: string;
  /** The extension the DID maps to; a SIPp phone registers as it. */
  callee: TestUser;
  callerNumber?: string;
}

/** The PSTN calls a DID from the trunk's address: the mapped extension's phone answers. */
export async function trunkInboundCall(env: FlowEnv, o: TrunkInOptions): Promise<CallResult> {
  const port = await registerPhone({ server: env.server, users: [o.callee], workDir: env.workDir });
  const uas = await startUas({ scenario: 'uas_answer.xml', port, calls: 1, timeoutSec: 40, workDir: env.workDir, traceMessages: true });
  const uac = await runUac({
    server: env.server,
    scenario: 'call_uac_noauth.xml',
    callee: o.did,
    callers: [],
    calls: 1,
    rate: 1,
    localPort: o.pstnPort,
    workDir: env.workDir,
    timeoutMs: 40_000,
    traceMessages: true,
    keys: { caller: o.callerNumber ?? '4930123456' },
    extraArgs: ['-timeout', '40s'],
  });
  const uasRun = await uas.done;
  const why = describeCall(env.server, uac, uasRun);
  expectAllOk(uac, 1, why);
  expectAllOk(uasRun, 1, why);
  expect(receivedRequestLines(uasRun.messages).filter((l) => l.startsWith('INVITE ')), why).toHaveLength(1);
  // No challenge for a trunk peer.
  expect(receivedStatuses(uac.messages), why).not.toContain(407);
  return { uac, uas: uasRun, why };
}
