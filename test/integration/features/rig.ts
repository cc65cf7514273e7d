// A server on manual time with registered test phones, for feature tests:
// calls are set up and torn down through real SIP on loopback, and timers
// (no answer, park timeout) move only when the test advances them.
import { expect } from 'vitest';
import { startTestServer } from '../lib/server.ts';
import type { TestServer } from '../lib/server.ts';
import { TestPhone } from '../lib/phone.ts';
import type { Behaviour, IncomingCall, OutgoingCall, PhoneOptions } from '../lib/phone.ts';
import type { UserPatch } from '../../../src/store/types.ts';
import type { SipRequest, SipResponse } from '../../../src/sip/message.ts';
import { getHeaders } from '../../../src/sip/headers.ts';
import type { Call } from '../../../src/pbx/call/call.ts';
import { waitUntil } from '../../lib/wait.ts';

export class Rig {
  readonly phones: TestPhone[] = [];

  private constructor(readonly ts: TestServer) {}

  static async start(config: Parameters<typeof startTestServer>[0] = {}): Promise<Rig> {
    return new Rig(await startTestServer({ manualTime: true, ...config }));
  }

  get server() {
    return this.ts.server;
  }

  /** A user, with its settings, and a phone registered for it. */
  async phone(ext: string, patch: UserPatch = {}, o: Partial<PhoneOptions> = {}): Promise<TestPhone> {
    await this.user(ext, patch);
    const p = await TestPhone.start({ ext, password: `pw-${ext}`, server: { host: this.ts.host, port: this.ts.sipPort, domain: 'test.local' }, ...o });
    this.phones.push(p);
    expect((await p.register()).status).toBe(200);
    return p;
  }

  /** A user without a phone (or before its phone registers). */
  async user(ext: string, patch: UserPatch = {}): Promise<void> {
    const users = this.server.store.users;
    if (!await users.getByExtension(ext)) await users.add({ extension: ext, password: `pw-${ext}`, name: `User ${ext}` });
    if (Object.keys(patch).length > 0) await users.update(ext, patch);
    await this.sync();
  }

  /** Makes routing see store changes now (users, hunt groups, short codes) instead of at the next poll. */
  async sync(): Promise<void> {
    await this.server.directory.poll();
    await this.server.featureTables.poll();
  }

  /** `from` calls `to` (dialled string), `to` answers at once: both sides of the connected call. */
  async connect(from: TestPhone, dialled: string, to: TestPhone): Promise<{ out: OutgoingCall; inc: IncomingCall }> {
    const before = to.incoming.length;
    to.behaviour = 'answer';
    const out = from.call(dialled);
    expect((await out.final).status).toBe(200);
    const inc = await to.waitIncoming(before + 1);
    await waitUntil(() => inc.acked !== undefined);
    return { out, inc };
  }

  /**
   * A plain SIP peer standing for a trunk's far end (a PSTN gateway), and the
   * trunk `name` that reaches it for numbers starting with `prefix` (the
   * prefix is stripped).
   */
  async trunkPeer(name: string, prefix: string, behaviour: Behaviour = 'answer'): Promise<TestPhone> {
    const p = await TestPhone.start({ ext: name, password: '', server: { host: this.ts.host, port: this.ts.sipPort, domain: 'test.local' }, behaviour });
    this.phones.push(p);
    await this.server.store.trunks.add({ name, host: '127.0.0.1', port: p.local.port, transport: 'udp', prefix, strip: prefix.length, addPrefix: '' });
    await this.server.trunks.poll();
    return p;
  }

  /** Moves server time on, and lets the SIP those timers sent be answered. */
  advance(ms: number): Promise<void> {
    return this.ts.advance(ms);
  }

  /** Requests of a method a phone received after index `from`. */
  static received(p: TestPhone, method: string, from = 0): SipRequest[] {
    return p.requests.slice(from).filter((r) => r.method === method);
  }

  /**
   * The server has seen `ext`'s phone ring (a provisional with a tag) on a
   * live call. Wait for this before advancing time past a ring timer, so the
   * timer finds the fork ringing rather than still calling.
   */
  ringing(ext: string): Promise<boolean> {
    return waitUntil(() => [...this.server.calls.calls()].some((c) =>
      (c as Call).ringer?.forks.some((f) => f.state === 'early' && f.target.peer.user?.extension === ext) ?? false));
  }

  async idle(): Promise<boolean> {
    return waitUntil(() => this.server.calls.activeCount === 0);
  }


  async stop(): Promise<void> {
    for (const p of this.phones) await p.stop();
    await this.ts.stop();
  }
}

/** Every value of a header in a message, in wire order (Diversion lines, History-Info entries). */
export function headers(msg: SipRequest | SipResponse, name: string): string[] {
  return getHeaders(msg, name);
}

/** Waits for a condition and fails the test when it never holds (waitUntil only reports). */
export async function until(pred: () => boolean | Promise<boolean>, what = 'condition', timeoutMs = 5_000): Promise<void> {
  if (!(await waitUntil(pred, timeoutMs))) throw new Error(`timed out waiting for ${what}`);
}

/** The sipfrag status lines of the NOTIFYs a transferor received. */
export function sipfragStatuses(p: TestPhone): number[] {
  return p.requests.filter((r) => r.method === 'NOTIFY').map((r) => Number(r.body.toString().slice(8, 11)));
}

/** The audio port an SDP body names (m=audio). */
export function audioPort(body: Buffer): number | undefined {
  const m = /m=audio (\d+)/.exec(body.toString());
  return m ? Number(m[1]) : undefined;
}
