// A long outage of the upstream with many lines and one pending registration
// (B-01, B-02, B-30): while every proxy is blacklisted one line at a time
// probes (one in flight, the next 5 s after the last gave up) and the others
// wait; once the upstream answers, every line registers within that wait plus
// one Timer F, however many lines there are. Measured on manual time with
// 50 UDP lines against a registrar on a bare socket.
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../lib/server.ts';
import { until } from '../lib/until.ts';
import { OUTAGE_PROBE_WAIT_MS } from '../../../src/gateway/lines.ts';

const LINES = 50;
const TIMER_F_MS = 16_000;
const BLACKLIST_SEC = 30;
const EXTS = Array.from({ length: LINES }, (_, i) => String(3001 + i));
const upUser = (ext: string) => `6${ext.slice(1)}`;

/** Swallows REGISTERs (each new transaction noted with its user and time), or answers them 200. */
class Registrar {
  answer = false;
  readonly sent: { user: string; at: number }[] = [];
  private readonly seen = new Set<string>();
  constructor(readonly sock: Socket, private readonly now: () => number) {
    sock.on('message', (buf, rinfo) => this.onMessage(buf.toString('utf8'), rinfo.address, rinfo.port));
  }

  private onMessage(text: string, address: string, port: number): void {
    if (!text.startsWith('REGISTER ')) return;
    const head = text.split('\r\n\r\n')[0]!.split('\r\n');
    const h = (name: string) => head.filter((l) => l.toLowerCase().startsWith(`${name}:`));
    const key = `${h('call-id')[0]}|${h('cseq')[0]}`;
    if (!this.seen.has(key)) {
      this.seen.add(key);
      this.sent.push({ user: /sip:([^@>;]+)@/.exec(h('to')[0] ?? '')?.[1] ?? '?', at: this.now() });
    }
    if (!this.answer) return;
    const contact = h('contact')[0]!.replace(/^contact:\s*/i, '').replace(/;expires=\d+/, '');
    this.sock.send(['SIP/2.0 200 OK', ...h('via'), ...h('from'), `${h('to')[0]};tag=up1`, ...h('call-id'), ...h('cseq'),
      `Contact: ${contact};expires=3600`, 'Content-Length: 0', '', ''].join('\r\n'), port, address);
  }
}

let gw: TestServer;
let up: Registrar;
const lines = () => gw.server.gateway.lines!;
const now = () => (gw.server.timers as { clock: { now(): number } }).clock.now();

/** One second of server time, then a little real time for the loopback I/O it started. */
async function tick(ms = 1000): Promise<void> {
  await gw.advance(ms);
  await new Promise((r) => setTimeout(r, 3));
}

/**
 * Real time until the REGISTER exchanges on the loopback come to rest (at
 * most 2 s): answered REGISTERs take no server time, so none may pass while
 * they run, or the queue would seem slower than it is.
 */
async function settle(progress: () => number): Promise<void> {
  const end = Date.now() + 2000;
  for (let last = -1; progress() !== last && Date.now() < end;) {
    last = progress();
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  gw = await startTestServer({ config: { sip: { domain: 'gw.test' } }, manualTime: true });
  up = new Registrar(sock, now);
  const store = gw.server.store;
  await store.gateway.addProxy({ uri: `sip:127.0.0.1:${sock.address().port};transport=udp`, priority: 1 });
  for (const ext of EXTS) {
    await store.users.add({ extension: ext, password: `Handset-${ext}-pw` });
    await store.gateway.setLine({ extension: ext, upstreamUser: upUser(ext), password: `Up-${ext}-secret` });
  }
  await store.gateway.updateSettings({
    mode: 'gateway', defaultDomain: 'upstream.test', transport: 'udp', registerExpiresSec: 3600,
    maxPendingRegistrations: 1, clientTransactionTimeoutMs: TIMER_F_MS, blacklistTimeoutSec: BLACKLIST_SEC,
  });
}, 60_000);

afterAll(async () => {
  await gw?.stop();
  up?.sock.close();
});

describe(`gateway lines in a long outage (${LINES} lines, max pending 1)`, () => {
  it('one line at a time probes the silent upstream, the next probe 5 s after the last gave up, in turn', async () => {
    await until(() => EXTS.every((e) => lines().lineStatus(e) !== undefined), 'lines loaded');
    const start = now();
    for (let i = 0; i < 20 * 60; i++) await tick();
    const probes = up.sent.filter((p) => p.at >= start);
    const gaps = probes.slice(1).map((p, i) => p.at - probes[i]!.at);
    // Never more than one probe per Timer F (one in flight), never silent longer than Timer F + the probe wait.
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(TIMER_F_MS);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(TIMER_F_MS + OUTAGE_PROBE_WAIT_MS + 1000);
    // One probe per Timer F + the wait for the whole gateway, not one per Timer F (each line's own retry: 38 here).
    const late = probes.filter((p) => p.at >= start + 10 * 60_000);
    expect(late.length).toBeLessThanOrEqual(Math.ceil(10 * 60_000 / (TIMER_F_MS + OUTAGE_PROBE_WAIT_MS)) + 1);
    expect(new Set(probes.map((p) => p.user)).size, 'lines that probed').toBeGreaterThanOrEqual(Math.min(LINES, probes.length) - 1);
    for (const ext of EXTS) expect(lines().lineStatus(ext)!.failure?.code, ext).toBe('no-answer');
  }, 120_000);

  it(`every line registers within the probe wait + Timer F of the upstream answering again`, async () => {
    // The worst moment: just after a probe gave up (its Timer F), so the next one waits out the pacing.
    const lastProbe = up.sent[up.sent.length - 1]!.at;
    while (now() < lastProbe + TIMER_F_MS + 500) await tick(500);
    expect(up.sent[up.sent.length - 1]!.at).toBe(lastProbe);
    up.answer = true;
    const back = now();
    const bound = OUTAGE_PROBE_WAIT_MS + TIMER_F_MS;
    const registered = () => EXTS.filter((e) => lines().lineStatus(e)!.registration === 'registered').length;
    // Half-second steps: a retransmission and the Timer F after it fall in different steps, as they would on a wire.
    while (registered() < LINES && now() - back <= bound + 10_000) {
      await settle(() => up.sent.length + registered());
      if (registered() < LINES) await tick(500);
    }
    const took = now() - back;
    console.log(`gateway outage: ${LINES} lines registered ${took} ms (server time) after the upstream answered again; bound ${bound} ms`);
    expect(took).toBeLessThanOrEqual(bound + 2000);
  }, 120_000);
});
