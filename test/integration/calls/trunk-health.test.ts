// Trunk health on manual time against a real far end (a test UAS on UDP):
// OPTIONS probes find it up, stopping it makes the trunk down after the
// configured number of unanswered probes (and not before), an alarm is
// raised and calls to it fail at once with 503 naming the trunk; starting it
// again brings the trunk up, clears the alarm and calls go through. A trunk
// that refuses our REGISTER raises an alarm with the status and reason.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startTestServer } from '../lib/server.ts';
import type { TestServer } from '../lib/server.ts';
import { TestPhone } from '../lib/phone.ts';
import type { PhoneOptions } from '../lib/phone.ts';
import type { StatusEvent } from '../../../src/pbx/status/status.ts';
import type { TrunkHealthStatus } from '../../../src/pbx/trunks/trunk-health.ts';
import { waitUntil } from '../../lib/wait.ts';
import { parseExposition, sampleValue } from '../../unit/ops/prom-text.ts';
import dgram from 'node:dgram';
import { parseMessage } from '../../../src/sip/parser.ts';
import { createResponse, serializeMessage } from '../../../src/sip/serializer.ts';

let ts: TestServer;
let caller: TestPhone;
let farPort: number;
let far: TestPhone | undefined;
const phones: TestPhone[] = [];
const events: StatusEvent[] = [];

const INTERVAL_SEC = 30;
const RETRY_SEC = 5;
const DOWN_AFTER = 3;

function farEnd(o: Partial<PhoneOptions> = {}): Promise<TestPhone> {
  return TestPhone.start({ ext: 'pstn', password: 'x', behaviour: 'answer', port: farPort, server: { host: ts.host, port: ts.sipPort, domain: 'test.local' }, ...o });
}

function trunk(name: string): TrunkHealthStatus | undefined {
  return ts.server.trunkHealth.status().find((t) => t.trunk === name);
}

/** Advances manual time, then lets the probes' I/O (and answers) run on real time. */
async function advance(ms: number): Promise<void> {
  await ts.advance(ms);
  await new Promise((r) => setTimeout(r, 30));
}

/** A far end that answers every request with `status` (a UAS that knows no OPTIONS answers 405). */
async function answerEverything(port: number, status: number): Promise<{ readonly seen: number; close(): Promise<void> }> {
  const sock = dgram.createSocket('udp4');
  let seen = 0;
  sock.on('message', (buf, rinfo) => {
    const r = parseMessage(buf);
    if (!r.ok || !('method' in r.message)) return;
    seen++;
    sock.send(serializeMessage(createResponse(r.message, status)), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => sock.bind(port, '127.0.0.1', () => resolve()));
  return { get seen() { return seen; }, close: () => new Promise<void>((resolve) => sock.close(() => resolve())) };
}

beforeAll(async () => {
  ts = await startTestServer({ manualTime: true, config: { trunkHealth: { intervalSec: INTERVAL_SEC, retrySec: RETRY_SEC, downAfter: DOWN_AFTER } } });
  ts.server.status.subscribe((ev) => events.push(ev));
  await ts.server.store.users.add({ extension: '5000', password: 'pw-5000', outboundCalls: true });
  await ts.server.directory.poll();
  caller = await TestPhone.start({ ext: '5000', password: 'pw-5000', server: { host: ts.host, port: ts.sipPort, domain: 'test.local' } });
  phones.push(caller);
  expect((await caller.register()).status).toBe(200);
  farPort = await freePort();
  far = await farEnd();
  await ts.server.store.trunks.add({ name: 'pstn', host: '127.0.0.1', port: farPort, transport: 'udp', prefix: '9', strip: 1 });
  await ts.server.trunks.poll();
});

afterAll(async () => {
  for (const p of phones) await p.stop();
  await far?.stop();
  await ts.stop();
});

describe('a trunk whose far end stops and comes back', () => {
  it('is up once its far end answers OPTIONS, with the round trip', async () => {
    expect(await waitUntil(() => trunk('pstn')?.state === 'up', 5000)).toBe(true);
    const t = trunk('pstn')!;
    expect(t).toMatchObject({ reachable: 'up', probeStatus: 200, registration: null, reason: '' });
    expect(t.rttMs).not.toBeNull();
    expect(ts.server.alarms.list().filter((a) => a.kind.startsWith('trunk'))).toEqual([]);
  });

  it('turns down after the configured unanswered probes, not before, and raises one alarm', async () => {
    await far!.stop();
    far = undefined;
    // The next probe goes out after the interval; each later one RETRY_SEC on, and the one before counts as missed.
    await advance(INTERVAL_SEC * 1000);
    for (let i = 1; i < DOWN_AFTER; i++) {
      await advance(RETRY_SEC * 1000);
      expect(trunk('pstn')!.state).toBe('up');
    }
    await advance(RETRY_SEC * 1000);
    const t = trunk('pstn')!;
    expect(t.state).toBe('down');
    expect(t.reason).toMatch(/no answer to OPTIONS/);
    expect(t.since).toBe(ts.timers.clock.now());
    const alarms = ts.server.alarms.list().filter((a) => a.kind === 'trunk-down');
    expect(alarms).toHaveLength(1);
    expect(alarms[0]).toMatchObject({ id: 'trunk-down:pstn', severity: 'major', source: 'pstn' });
    expect(alarms[0]!.text).toContain('trunk pstn down');
    // The live feed heard the change.
    expect(events.some((e) => e.type === 'trunk' && e.trunk.trunk === 'pstn' && e.trunk.state === 'down')).toBe(true);
    // More unanswered probes neither log nor raise again.
    await advance(RETRY_SEC * 1000);
    await advance(RETRY_SEC * 1000);
    expect(ts.log.entries.filter((e) => e.msg === 'trunk down')).toHaveLength(1);
    expect(ts.server.alarms.get('trunk-down:pstn')!.count).toBe(1);
    expect(ts.server.trunkHealth.failures.get('pstn')).toEqual({ down: 1, refused: 0 });
    const metrics = parseExposition(await ts.server.metrics()).samples;
    expect(sampleValue(metrics, 'switchboard_trunk_failures_total', { trunk: 'pstn', kind: 'down' })).toBe(1);
    expect(sampleValue(metrics, 'switchboard_trunk_up', { trunk: 'pstn' })).toBe(0);
  });

  it('refuses calls to it at once with 503 naming the trunk, and records them', async () => {
    // On manual time a call sent to the trunk would wait for Timer B forever: an answer now proves it was not tried.
    const res = await caller.call('9555123').final;
    expect(res.status).toBe(503);
    expect(res.reason).toBe('Trunk pstn Down');
    expect(await waitUntil(async () => (await ts.server.store.cdrs.list({ extension: '5000' })).some((c) => c.status === 503), 3000)).toBe(true);
    expect((await ts.server.store.cdrs.list({ extension: '5000' }))[0]).toMatchObject({ trunk: 'pstn', status: 503 });
  });

  it('sends its calls to its fallback trunk while it is down, with that trunk\'s digit rules', async () => {
    const backup = await TestPhone.start({ ext: 'backup', password: 'x', behaviour: 'answer', port: await freePort(), server: { host: ts.host, port: ts.sipPort, domain: 'test.local' } });
    phones.push(backup);
    await ts.server.store.trunks.add({ name: 'backup', host: '127.0.0.1', port: backup.local.port, prefix: '8', strip: 1, addPrefix: '+49' });
    await ts.server.store.trunks.update('pstn', { fallbackTrunk: 'backup' });
    await ts.server.trunks.poll();
    const call = caller.call('9555123');
    expect((await call.final).status).toBe(200);
    expect(backup.incoming.at(-1)!.invite.uri.user).toBe('+49555123');
    await caller.inDialog(call.dialog!, 'BYE');
    expect(await waitUntil(() => ts.server.calls.activeCount === 0, 3000)).toBe(true);
    expect(await waitUntil(async () => (await ts.server.store.cdrs.list({ extension: '5000' }))[0]?.trunk === 'backup', 3000)).toBe(true);
    // Without a fallback the caller hears at once again.
    await ts.server.store.trunks.remove('backup');
    await ts.server.trunks.poll();
    expect((await ts.server.store.trunks.get('pstn'))!.fallbackTrunk).toBeNull();
    expect((await caller.call('9555123').final).status).toBe(503);
  });

  it('is up again at the next probe once the far end answers, the alarm cleared, and calls go through', async () => {
    far = await farEnd();
    await advance(RETRY_SEC * 1000);
    expect(await waitUntil(() => trunk('pstn')?.state === 'up', 3000)).toBe(true);
    expect(ts.server.alarms.get('trunk-down:pstn')).toBeUndefined();
    expect(sampleValue(parseExposition(await ts.server.metrics()).samples, 'switchboard_trunk_up', { trunk: 'pstn' })).toBe(1);
    expect(ts.log.entries.some((e) => e.msg === 'alarm cleared' && JSON.stringify(e.obj).includes('trunk-down:pstn'))).toBe(true);
    const call = caller.call('9555123');
    expect((await call.final).status).toBe(200);
    expect(far.incoming.at(-1)!.invite.uri.user).toBe('555123');
    await caller.inDialog(call.dialog!, 'BYE');
  });

  it('counts any answer as alive: a far end that answers OPTIONS with 405 stays up', async () => {
    await far!.stop();
    far = undefined;
    const uas = await answerEverything(farPort, 405);
    try {
      const before = uas.seen;
      await advance(INTERVAL_SEC * 1000);
      for (let i = 0; i < DOWN_AFTER; i++) await advance(RETRY_SEC * 1000);
      expect(uas.seen).toBeGreaterThan(before);
      expect(trunk('pstn')).toMatchObject({ state: 'up', probeStatus: 405 });
      expect(ts.server.alarms.get('trunk-down:pstn')).toBeUndefined();
    } finally {
      await uas.close();
    }
  });
});

describe('the probe period of one trunk', () => {
  it('follows its own period, and a trunk not probed (0) is never marked down', async () => {
    const port = await freePort();
    const uas = await answerEverything(port, 200);
    const quietPort = await freePort();
    try {
      await ts.server.store.trunks.add({ name: 'fast', host: '127.0.0.1', port, prefix: '77', probeIntervalSec: 10 });
      // Nothing listens there: probed, it would be down within the test.
      await ts.server.store.trunks.add({ name: 'quiet', host: '127.0.0.1', port: quietPort, prefix: '78', probeIntervalSec: 0 });
      await ts.server.trunks.poll();
      expect(await waitUntil(() => trunk('fast')?.state === 'up', 3000)).toBe(true);
      const first = uas.seen;
      await advance(10_000);
      expect(await waitUntil(() => uas.seen === first + 1, 3000)).toBe(true);
      for (let i = 0; i < DOWN_AFTER + 1; i++) await advance(RETRY_SEC * 1000);
      expect(trunk('quiet')).toMatchObject({ state: 'unknown', reachable: 'unknown' });
      expect(ts.server.trunks.isDown('quiet')).toBe(false);
    } finally {
      await uas.close();
      await ts.server.store.trunks.remove('fast');
      await ts.server.store.trunks.remove('quiet');
      await ts.server.trunks.poll();
    }
  });
});

describe('a trunk that refuses our registration', () => {
  it('raises an alarm with the status and reason, and clears it once registered', async () => {
    const itspPort = await freePort();
    const itsp = await TestPhone.start({
      ext: 'itsp', password: 'x', behaviour: 'answer', port: itspPort, server: { host: ts.host, port: ts.sipPort, domain: 'test.local' },
      challenge: { user: 'acct77', password: 'right', realm: 'itsp.example' },
    });
    phones.push(itsp);
    await ts.server.store.trunks.add({ name: 'itsp', host: '127.0.0.1', port: itspPort, transport: 'udp', prefix: '00', registerUser: 'acct77', registerPassword: 'wrong' });
    await ts.server.trunks.poll();
    expect(await waitUntil(() => trunk('itsp')?.state === 'refused', 5000)).toBe(true);
    const t = trunk('itsp')!;
    expect(t).toMatchObject({ registration: 'failed', lastStatus: 401, reachable: 'up' });
    expect(t.reason).toMatch(/^401/);
    const alarm = ts.server.alarms.get('trunk-refused:itsp')!;
    expect(alarm).toMatchObject({ kind: 'trunk-refused', severity: 'major', source: 'itsp' });
    expect(alarm.text).toContain('refused its registration: 401');
    // The trunk answers: it is not down, and calls are still tried.
    expect(ts.server.trunks.isDown('itsp')).toBe(false);

    await ts.server.store.trunks.update('itsp', { registerPassword: 'right' });
    await ts.server.trunks.poll();
    expect(await waitUntil(() => trunk('itsp')?.state === 'registered', 5000)).toBe(true);
    expect(ts.server.alarms.get('trunk-refused:itsp')).toBeUndefined();
    expect(ts.server.trunkHealth.failures.get('itsp')).toEqual({ down: 0, refused: 1 });
  });

  it('a removed trunk leaves the status and its alarm ends', async () => {
    await ts.server.store.trunks.update('itsp', { registerPassword: 'wrong-again' });
    await ts.server.trunks.poll();
    expect(await waitUntil(() => trunk('itsp')?.state === 'refused', 5000)).toBe(true);
    expect(ts.server.alarms.get('trunk-refused:itsp')).toBeDefined();
    await ts.server.store.trunks.remove('itsp');
    await ts.server.trunks.poll();
    expect(trunk('itsp')).toBeUndefined();
    expect(ts.server.alarms.get('trunk-refused:itsp')).toBeUndefined();
  });
});
