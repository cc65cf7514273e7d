// AC-14, B-30: the handset gateway recovers by itself. Two spawned
// Switchboards in two network namespaces joined by a veth pair: an upstream
// with one account per line, a gateway with LINES lines registering over TLS
// (60 s registrations) and subscribed to their upstream MWI. (a) The gateway
// restarts on its data dir, (b) the upstream restarts, (c) the link is down
// for longer than a registration lasts, then up: every line must register
// upstream again (the upstream holds a binding made after the event, over
// TLS) and subscribe to its MWI again (a message deleted upstream reaches
// the gateway), with no operator action. Each recovery time is printed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, switchboardCli } from './harness.ts';
import type { GatewayPair, NetnsPair } from './lib/gateway-pair.ts';
import { createNetnsPair, pollUntil, startGatewayPair } from './lib/gateway-pair.ts';

const LINES = 50;
const EXPIRES_SEC = 60;
/** Lines with a message waiting upstream, one per scenario: its deletion proves the MWI subscription is live. */
const PROBES = 3;
const wav = Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(64)]);

let netns: NetnsPair | undefined;
const messageIds: string[] = [];
const env = fixture<GatewayPair>(async () => {
  netns = await createNetnsPair();
  return startGatewayPair({
    lines: LINES, netns,
    gateway: { registerExpiresSec: EXPIRES_SEC, mwi: true, mwiExpiresSec: 600 },
    seedUpstream: async (store) => {
      for (let i = 0; i < PROBES; i++) {
        const m = await store.voicemail.deposit(String(4000 + i), { caller: '2000', callerName: 'Caller', receivedAt: Date.now(), durationMs: 3000 }, wav);
        messageIds.push(String(m.id));
      }
    },
  });
}, async (p) => {
  await p.stop();
});

beforeAll(() => env.setup(), 300_000);
afterAll(async () => {
  await env.teardown();
  await netns?.remove();
}, 60_000);

/**
 * Waits until every line is registered at the gateway with its MWI active
 * and the upstream holds, for every account, a TLS binding made at or after
 * `since` (a restored or older binding does not count); returns the time it took.
 */
async function everyLineBack(p: GatewayPair, since: number, what: string, timeoutMs: number): Promise<number> {
  const start = Date.now();
  await pollUntil(async () => ({ gw: await p.gatewayStatus(), up: await p.upstreamStatus() }), ({ gw, up }) => {
    const missing: string[] = [];
    const byExt = new Map(up.extensions.map((e) => [e.extension, e]));
    for (let i = 0; i < p.gwUsers.length; i++) {
      const ext = p.gwUsers[i]!.ext;
      const line = gw.lines.find((l) => l.extension === ext);
      if (line?.registration !== 'registered') missing.push(`${ext}: gateway ${line?.registration ?? 'no line'}${line?.failure ? ` (${line.failure.code})` : ''}`);
      else if (line.mwi !== 'active') missing.push(`${ext}: mwi ${line.mwi}`);
      const upExt = byExt.get(p.upUsers[i]!.ext);
      const fresh = upExt?.contacts.some((c) => c.transport.toLowerCase() === 'tls' && c.expiresAt >= since + (EXPIRES_SEC - 2) * 1000);
      if (!fresh) missing.push(`${p.upUsers[i]!.ext}: no fresh TLS binding upstream`);
    }
    return missing;
  }, what, timeoutMs, 500);
  return Date.now() - start;
}

/** Deletes the probe line's message upstream (CLI on its data dir) and waits for the gateway to hear nothing waits. */
async function mwiReachesGateway(p: GatewayPair, probe: number): Promise<void> {
  const ext = p.gwUsers[probe]!.ext;
  const before = (await p.gatewayStatus()).lines.find((l) => l.extension === ext);
  expect(before?.messagesWaiting).toBe(true);
  await switchboardCli(['voicemail', 'delete', '--ext', p.upUsers[probe]!.ext, '--id', messageIds[probe]!, '--data-dir', p.up.dataDir]);
  await pollUntil(() => p.gatewayStatus(), (s) => (s.lines.find((l) => l.extension === ext)?.messagesWaiting === false ? [] : [`${ext}: messagesWaiting still ${String(s.lines.find((l) => l.extension === ext)?.messagesWaiting)}`]), 'upstream NOTIFY after the message was deleted', 30_000);
}

const figures: string[] = [];

describe(`gateway recovery (AC-14), ${LINES} lines over TLS`, () => {
  it('registers every line upstream and subscribes its MWI at start', async () => {
    const p = env.get();
    const ms = await everyLineBack(p, 0, 'first registration', 180_000);
    figures.push(`first start: ${LINES} lines registered and subscribed in ${ms} ms`);
  }, 200_000);

  it('(a) gateway restart on the same data dir: every line back, MWI re-subscribed', async () => {
    const p = env.get();
    const t0 = Date.now();
    await p.restartGateway();
    const ready = Date.now();
    const ms = await everyLineBack(p, t0, 'after the gateway restarted', 180_000);
    figures.push(`(a) gateway restart: ${LINES} lines back ${ms} ms after the gateway was ready (${Date.now() - t0} ms after SIGTERM; restart itself ${ready - t0} ms)`);
    await mwiReachesGateway(p, 0);
  }, 300_000);

  it('(b) upstream restart: every line back, MWI re-subscribed', async () => {
    const p = env.get();
    const t0 = Date.now();
    await p.restartUpstream();
    const ready = Date.now();
    const ms = await everyLineBack(p, ready, 'after the upstream restarted', 400_000);
    figures.push(`(b) upstream restart: ${LINES} lines back ${ms} ms after the upstream was ready (down ${ready - t0} ms)`);
    await mwiReachesGateway(p, 1);
  }, 500_000);

  it('(c) link down longer than a registration, then up: every line back', async () => {
    const p = env.get();
    const outageMs = (EXPIRES_SEC + 30) * 1000;
    await netns!.link(false);
    const down = Date.now();
    try {
      // The gateway must notice: by the end of the outage no line may still claim to be registered.
      await new Promise((r) => setTimeout(r, outageMs));
      const during = await p.gatewayStatus();
      expect(during.lines.filter((l) => l.registration === 'registered').map((l) => l.extension)).toEqual([]);
    } finally {
      await netns!.link(true);
    }
    const up = Date.now();
    const ms = await everyLineBack(p, up, 'after the link came back', 420_000);
    figures.push(`(c) link down ${up - down} ms: ${LINES} lines back ${ms} ms after the link came up`);
    await mwiReachesGateway(p, 2);
  }, 600_000);

  afterAll(() => {
    console.log(`gateway recovery figures:\n  ${figures.join('\n  ')}`);
  });
});
