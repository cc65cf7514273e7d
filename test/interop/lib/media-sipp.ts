// SIPp in the media tests: a registered SIPp phone running a media_uas_*.xml
// scenario (which itself checks the SDP it is offered) and a SIPp caller,
// both traced, with the checks every such call must pass.
import { expect } from 'vitest';
import type { SwitchboardHandle } from '../harness.ts';
import type { SippRun } from '../sipp.ts';
import type { TestUser } from '../users.ts';
import { sipServer } from './switchboard-admin.ts';
import { describeCall, registerPhone, runUac, startUas } from './sipp-calls.ts';
import type { UasHandle } from './sipp-calls.ts';

/** What SIPp writes to its error file when a scenario's regexp check fails. */
export const FAILED_CHECK = /Failed regexp match|Regexp matched but should not/;

/** One call done on both sides, and no scenario check failed. */
export function expectScenarioOk(r: SippRun, who: string, why: string): void {
  const w = `${who}\n${why}`;
  expect(r.errors, w).not.toMatch(FAILED_CHECK);
  expect(r.stats, w).not.toBeNull();
  expect(r.stats?.failed, w).toBe(0);
  expect(r.stats?.successful, w).toBe(1);
  expect(r.code, w).toBe(0);
}

/** The message SIPp traced as received that starts with startLine (e.g. "INVITE "), or ''. */
export function receivedMessage(trace: string, startLine: string): string {
  for (const chunk of trace.split(/message received \[\d+\] bytes :/).slice(1)) {
    const text = chunk.replace(/^\s+/, '');
    if (text.startsWith(startLine)) return text.split(/-{10,}/)[0] ?? text;
  }
  return '';
}

/** Registers the callee's SIPp phone and starts its scenario (traced) on that socket. */
export async function sippPhone(server: SwitchboardHandle, callee: TestUser, scenario: string, workDir: string, keys?: Record<string, string>): Promise<UasHandle> {
  const port = await registerPhone({ server: sipServer(server), users: [callee], workDir });
  return startUas({ scenario, port, calls: 1, timeoutSec: 60, workDir, traceMessages: true, keys });
}

export interface SippCallOptions {
  uasScenario: string;
  uacScenario: string;
  caller: TestUser;
  callee: TestUser;
  workDir: string;
  holdMs?: number;
}

export interface SippCallResult {
  uac: SippRun;
  uas: SippRun;
  why: string;
}

/** A SIPp caller calls a SIPp phone through the server; both scenarios must succeed. */
export async function sippCall(server: SwitchboardHandle, o: SippCallOptions): Promise<SippCallResult> {
  const sip = sipServer(server);
  const uas = await sippPhone(server, o.callee, o.uasScenario, o.workDir);
  const uac = await runUac({
    server: sip,
    scenario: o.uacScenario,
    callee: o.callee.ext,
    callers: [o.caller],
    calls: 1,
    rate: 1,
    holdMs: o.holdMs ?? 1000,
    workDir: o.workDir,
    timeoutMs: 60_000,
    traceMessages: true,
    extraArgs: ['-timeout', '50s'],
  });
  const uasRun = await uas.done;
  const why = describeCall(sip, uac, uasRun);
  expectScenarioOk(uasRun, `SIPp phone (${o.uasScenario})`, why);
  expectScenarioOk(uac, `SIPp caller (${o.uacScenario})`, why);
  return { uac, uas: uasRun, why };
}
