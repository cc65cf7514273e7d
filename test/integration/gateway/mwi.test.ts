// Gateway MWI end to end (issue 15 item 4; B-10, B-30, AC-11 MWI part,
// AC-14 MWI part), real SIP on loopback: an upstream Switchboard with the
// user's mailbox, a gateway Switchboard with a line for the handset user,
// our test phone as the handset subscribed to its MWI at the gateway.
// Messages are left, listened to and deleted through the upstream's store
// as its voicemail application does; the gateway subscribes upstream, the
// upstream NOTIFYs it, the handset is told. Then a gateway restart on the
// same data directory, and MWI switched off and on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestPhone } from '../lib/phone.ts';
import { startTestServer, tempDataDir } from '../lib/server.ts';
import type { TestServer } from '../lib/server.ts';
import type { ConfigInput } from '../../../src/config/schema.ts';
import type { SipRequest } from '../../../src/sip/message.ts';
import type { LineStatus } from '../../../src/model/gateway.ts';
import { parseMessageSummary } from '../../../src/pbx/mwi/message-summary.ts';
import { waitUntil } from '../../lib/wait.ts';

const UPSTREAM_USER = '41510';
const HANDSET = '1001';
const wav = Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(64)]);
const meta = { caller: '2000', callerName: 'Caller', receivedAt: Date.now(), durationMs: 3000 };

let up: TestServer;
let gw: TestServer;
let handset: TestPhone;
const gwDir = tempDataDir();
const gwConfig: ConfigInput = { sip: { domain: 'gw.local' } };

/** The gateway's view of the handset user's line (B-32). */
function line(): LineStatus | undefined {
  return gw.server.gateway?.lines?.lineStatus(HANDSET);
}

/** What the handset's latest NOTIFY of subscription `callId` says. */
function lamp(callId: string): { waiting: boolean; voice: string } | undefined {
  const n: SipRequest | undefined = handset.notifiesOf(callId).at(-1);
  const s = n && parseMessageSummary(n.body);
  if (!s) return undefined;
  const v = s.counts.get('voice-message');
  return { waiting: s.waiting, voice: v ? `${v.new}/${v.old}` : '' };
}

async function lampIs(callId: string, want: { waiting: boolean; voice: string }): Promise<void> {
  const ok = await waitUntil(() => {
    const l = lamp(callId);
    return l !== undefined && l.waiting === want.waiting && l.voice === want.voice;
  }, 15_000);
  expect({ ok, last: lamp(callId) }).toEqual({ ok: true, last: want });
}

async function upstreamSubscriptions(n: number): Promise<void> {
  expect(await waitUntil(() => up.server.mwi.subscriptionCount === n, 15_000)).toBe(true);
}

async function startGateway(ports?: { sipPort: number; tlsPort: number }): Promise<TestServer> {
  return startTestServer({ dataDir: gwDir, config: gwConfig, ...ports });
}

beforeAll(async () => {
  up = await startTestServer({ config: { voicemail: { enabled: true } } });
  await up.server.store.users.add({ extension: UPSTREAM_USER, password: 'up-secret', name: 'Upstream user' });
  await up.server.directory.poll();

  gw = await startGateway();
  const store = gw.server.store;
  await store.users.add({ extension: HANDSET, password: `pw-${HANDSET}`, name: 'Handset user' });
  await gw.server.directory.poll();
  await store.gateway.updateSettings({ mode: 'both', transport: 'udp', defaultDomain: 'test.local', mwiExpiresSec: 600 });
  await store.gateway.addProxy({ uri: `sip:${up.host}:${up.sipPort};transport=udp` });
  await store.gateway.setLine({ extension: HANDSET, upstreamUser: UPSTREAM_USER, password: 'up-secret' });
  handset = await TestPhone.start({ ext: HANDSET, password: `pw-${HANDSET}`, server: { host: gw.host, port: gw.sipPort, domain: 'gw.local' } });
  expect((await handset.register()).status).toBe(200);
  expect(await waitUntil(() => line()?.registration === 'registered', 15_000)).toBe(true);
}, 60_000);

afterAll(async () => {
  await handset?.stop();
  await gw?.stop();
  await up?.stop();
});

describe('gateway MWI: upstream mailbox → gateway → handset', () => {
  it('the line subscribes upstream; a message left upstream turns the handset lamp on, listening to it and deleting it turn it off', async () => {
    await upstreamSubscriptions(1);
    expect(await waitUntil(() => line()?.mwi === 'active', 15_000)).toBe(true);
    const s = await handset.subscribe({ expires: 600 });
    expect(s.res.status).toBe(200);
    await lampIs(s.sub.callId, { waiting: false, voice: '0/0' });

    const m = await up.server.store.voicemail.deposit(UPSTREAM_USER, meta, wav);
    await lampIs(s.sub.callId, { waiting: true, voice: '1/0' });
    expect(line()?.messagesWaiting).toBe(true);
    expect(await gw.server.store.gateway.upstreamMwi(HANDSET)).toMatchObject({ waiting: true, newMessages: 1, oldMessages: 0 });
    // The handset's mailbox is upstream: the gateway's own (empty) mailbox of 1001 is not what it hears.
    expect((await gw.server.store.voicemail.counts(HANDSET)).new).toBe(0);

    await up.server.store.voicemail.setFolder(UPSTREAM_USER, m.id, 'saved');
    await lampIs(s.sub.callId, { waiting: false, voice: '0/1' });
    await up.server.store.voicemail.remove(UPSTREAM_USER, m.id);
    await lampIs(s.sub.callId, { waiting: false, voice: '0/0' });
    expect(line()?.messagesWaiting).toBe(false);
  }, 60_000);

  it('after a gateway restart the line subscribes again and the handset\'s lamp is right at once and follows the upstream', async () => {
    const m = await up.server.store.voicemail.deposit(UPSTREAM_USER, meta, wav);
    const before = await handset.subscribe({ expires: 600 });
    await lampIs(before.sub.callId, { waiting: true, voice: '1/0' });
    const ports = { sipPort: gw.sipPort, tlsPort: gw.tlsPort };
    await gw.stop();
    // Stopping unsubscribed the line upstream.
    await upstreamSubscriptions(0);
    gw = await startGateway(ports);
    expect(await waitUntil(() => line()?.registration === 'registered', 15_000)).toBe(true);
    await upstreamSubscriptions(1);
    // The handset subscribes again (its old subscription went with the restart): the summary kept in the store answers it.
    const after = await handset.subscribe({ expires: 600 });
    expect(after.res.status).toBe(200);
    await lampIs(after.sub.callId, { waiting: true, voice: '1/0' });
    await up.server.store.voicemail.remove(UPSTREAM_USER, m.id);
    await lampIs(after.sub.callId, { waiting: false, voice: '0/0' });
  }, 60_000);

  it('with MWI off the line unsubscribes and nothing goes upstream; the handset is told nothing waits; on again, it subscribes', async () => {
    await up.server.store.voicemail.deposit(UPSTREAM_USER, meta, wav);
    const s = await handset.subscribe({ expires: 600 });
    await lampIs(s.sub.callId, { waiting: true, voice: '1/0' });
    await gw.server.store.gateway.updateSettings({ mwi: false });
    await upstreamSubscriptions(0);
    await lampIs(s.sub.callId, { waiting: false, voice: '0/0' });
    expect(await waitUntil(() => line()?.mwi === 'off', 15_000)).toBe(true);
    // A deposit upstream now reaches nobody: no subscription was made again.
    await up.server.store.voicemail.deposit(UPSTREAM_USER, meta, wav);
    await gw.server.mwi.poll();
    expect(up.server.mwi.subscriptionCount).toBe(0);
    expect(lamp(s.sub.callId)).toEqual({ waiting: false, voice: '0/0' });

    await gw.server.store.gateway.updateSettings({ mwi: true });
    await upstreamSubscriptions(1);
    await lampIs(s.sub.callId, { waiting: true, voice: '2/0' });
  }, 60_000);
});
