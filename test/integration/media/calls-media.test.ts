// Media security policy and the anchored relay in real calls: what each side
// is offered under its policy, when media goes direct and when it is relayed,
// SRTP on one side and RTP on the other with real packets through the relay,
// DTMF from RFC 4733 to SIP INFO, and a re-INVITE moving media out of the relay.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../lib/server.ts';
import type { TestServer } from '../lib/server.ts';
import { TestPhone } from '../lib/phone.ts';
import type { PhoneOptions } from '../lib/phone.ts';
import { RtpPeer } from '../lib/rtp-peer.ts';
import { waitUntil } from '../../lib/wait.ts';
import { getHeader } from '../../../src/sip/headers.ts';
import type { UserMediaPatch } from '../../../src/store/types.ts';

let ts: TestServer;
const phones: TestPhone[] = [];
const peers: RtpPeer[] = [];

async function phone(ext: string, media: UserMediaPatch, o: Partial<PhoneOptions> = {}): Promise<TestPhone> {
  await ts.server.store.users.update(ext, { media });
  await ts.server.directory.poll();
  const p = await TestPhone.start({ ext, password: `pw-${ext}`, server: { host: ts.host, port: ts.sipPort, domain: 'test.local' }, behaviour: 'ring', ...o });
  phones.push(p);
  expect((await p.register()).status).toBe(200);
  return p;
}

async function peer(): Promise<RtpPeer> {
  const p = await RtpPeer.open();
  peers.push(p);
  return p;
}

beforeAll(async () => {
  ts = await startTestServer();
  for (let i = 0; i < 30; i++) await ts.server.store.users.add({ extension: String(7000 + i), password: `pw-${7000 + i}` });
  await ts.server.directory.poll();
});

afterAll(async () => {
  for (const p of phones) await p.stop();
  for (const p of peers) p.close();
  await ts.stop();
});

const relayPorts = () => ts.server.relay!.sessions;
const allEnded = () => waitUntil(() => ts.server.calls.activeCount === 0 && relayPorts() === 0, 5000);

describe('offers follow the receiving side policy', () => {
  it('offers an Enforced extension RTP/SAVP with a=crypto only: no RTP/AVP, no capability negotiation (A-03)', async () => {
    const a = await phone('7000', { security: 'best-effort' });
    const b = await phone('7001', { security: 'enforced' });
    const pa = await peer();
    const call = a.call('7001', { body: pa.sdp('rtp+sdes') });
    const inc = await b.waitIncoming();
    const offer = inc.invite.body.toString();
    expect(offer).toMatch(/m=audio \d+ RTP\/SAVP /);
    expect(offer).not.toContain('RTP/AVP');
    expect(offer).toMatch(/a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:/);
    expect(offer).not.toMatch(/a=(tcap|acap|pcfg)/);
    expect(offer).not.toContain('UNENCRYPTED_SRTCP');
    // The relay is in the path: the offer names the relay, not the caller's media port.
    expect(offer).not.toContain(`m=audio ${pa.port} `);
    expect(offer).not.toContain(pa.cryptoLine().split('inline:')[1]!.slice(0, 20));
    b.reject(inc, 486);
    expect((await call.final).status).toBe(486);
    expect(await allEnded()).toBe(true);
  });

  it('refuses a plain RTP offer from an Enforced extension with 488', async () => {
    const a = await phone('7002', { security: 'enforced' });
    await phone('7003', {});
    const pa = await peer();
    expect((await a.call('7003', { body: pa.sdp('rtp') }).final).status).toBe(488);
  });

  it('lets a plain-RTP endpoint take a Best Effort offer, direct, with the crypto left out', async () => {
    const a = await phone('7004', { security: 'best-effort' });
    const b = await phone('7005', { security: 'disabled' });
    const pa = await peer();
    const pb = await peer();
    const call = a.call('7005', { body: pa.sdp('rtp+sdes') });
    const inc = await b.waitIncoming();
    const offer = inc.invite.body.toString();
    expect(offer).toContain(`m=audio ${pa.port} RTP/AVP`);
    expect(offer).not.toContain('a=crypto');
    b.answer(inc, pb.sdp('rtp'));
    const final = await call.final;
    expect(final.status).toBe(200);
    expect(final.body.toString()).toContain(`m=audio ${pb.port} RTP/AVP`);
    expect([...ts.server.calls.calls()][0]!.connectionType).toBe('RTP Direct Media');
    expect(relayPorts()).toBe(0);
    await a.inDialog(call.dialog!, 'BYE');
    expect(await allEnded()).toBe(true);
  });
});

describe('the anchored relay', () => {
  it('bridges SRTP (Enforced) and RTP (Disabled), audio both ways, each side with its own keys', async () => {
    const a = await phone('7006', { security: 'enforced' });
    const b = await phone('7007', { security: 'disabled' });
    const pa = await peer();
    const pb = await peer();
    const call = a.call('7007', { body: pa.sdp('srtp') });
    const inc = await b.waitIncoming();
    const offer = inc.invite.body;
    expect(offer.toString()).toMatch(/m=audio \d+ RTP\/AVP /);
    expect(offer.toString()).not.toContain('a=crypto');
    pb.connect(offer, false);
    b.answer(inc, pb.sdp('rtp'));
    const final = await call.final;
    expect(final.status).toBe(200);
    expect(final.body.toString()).toMatch(/m=audio \d+ RTP\/SAVP /);
    expect(final.body.toString()).toMatch(/a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:/);
    pa.connect(final.body, true);
    pa.send(50);
    pb.send(50);
    expect(await waitUntil(() => pb.received.length >= 50 && pa.received.length >= 50, 5000)).toBe(true);
    // B got plain PCMU from the relay's port; A got SRTP it could decrypt with the key in our answer.
    expect(pb.received[0]!.payloadType).toBe(0);
    expect(pb.received[0]!.from.port).not.toBe(pa.port);
    expect(pa.rejected).toBe(0);
    expect(pa.received.every((r) => r.payloadType === 0)).toBe(true);
    const status = [...ts.server.calls.calls()][0]!;
    expect(status.connectionType).toBe('SRTP-RTP relayed');
    const snap = ts.server.status.snapshot();
    expect(snap.calls[0]!.legs.caller).toMatchObject({ stream: 'SRTP', packetsIn: 50, packetsOut: 50, lost: 0 });
    expect(snap.calls[0]!.legs.callee).toMatchObject({ stream: 'RTP', packetsIn: 50, packetsOut: 50, lost: 0 });
    expect(snap.extensions.find((e) => e.extension === '7006')!.mediaStream).toBe('SRTP');
    expect(snap.extensions.find((e) => e.extension === '7007')!.mediaStream).toBe('RTP');
    await a.inDialog(call.dialog!, 'BYE');
    expect(await allEnded()).toBe(true);
  });

  it('turns RFC 4733 DTMF from one side into SIP INFO for an INFO extension', async () => {
    const a = await phone('7008', {});
    const b = await phone('7009', { dtmf: 'info' });
    const pa = await peer();
    const pb = await peer();
    const call = a.call('7009', { body: pa.sdp('rtp') });
    const inc = await b.waitIncoming();
    pb.connect(inc.invite.body, false);
    b.answer(inc, pb.sdp('rtp'));
    const final = await call.final;
    expect(final.status).toBe(200);
    pa.connect(final.body, false);
    pa.send(5);
    pa.sendDtmf(5);
    pa.sendDtmf(11); // '#'
    const info = await b.waitRequest('INFO', 2, 5000);
    expect(getHeader(info, 'content-type')).toBe('application/dtmf-relay');
    expect(b.requests.filter((r) => r.method === 'INFO').map((r) => r.body.toString().split('\r\n')[0])).toEqual(['Signal=5', 'Signal=#']);
    // Voice went through as RTP; the events did not.
    await waitUntil(() => pb.received.length >= 5);
    expect(pb.received.filter((r) => r.payloadType === 101)).toHaveLength(0);
    await a.inDialog(call.dialog!, 'BYE');
    expect(await allEnded()).toBe(true);
  });

  it('keeps telephone-event for the RFC 4733 side when the INFO side never mentions it, both ways', async () => {
    const noTe = (sdp: Buffer) => Buffer.from(sdp.toString().replace(' 0 8 101', ' 0 8').replace(/a=(rtpmap|fmtp):101[^\r]*\r\n/g, ''));
    // RFC 4733 caller, INFO callee that answers without telephone-event.
    const a = await phone('7024', {});
    const b = await phone('7025', { dtmf: 'info' });
    const pa = await peer();
    const pb = await peer();
    const call = a.call('7025', { body: pa.sdp('rtp') });
    const inc = await b.waitIncoming();
    b.answer(inc, noTe(pb.sdp('rtp')));
    const final = await call.final;
    expect(final.status).toBe(200);
    expect(final.body.toString()).toMatch(/m=audio \d+ RTP\/AVP 0 8 101\r\n/);
    expect(final.body.toString()).toContain('a=rtpmap:101 telephone-event/8000');
    pa.connect(final.body, false);
    pa.send(2);
    pa.sendDtmf(3);
    expect((await b.waitRequest('INFO')).body.toString()).toContain('Signal=3');
    await a.inDialog(call.dialog!, 'BYE');
    expect(await allEnded()).toBe(true);
    // INFO caller that offers no telephone-event, RFC 4733 callee: offered it anyway, and it stays out of the caller's answer.
    const c = await phone('7026', { dtmf: 'info' });
    const pc = await peer();
    const call2 = c.call('7024', { body: noTe(pc.sdp('rtp')) });
    const inc2 = await a.waitIncoming();
    expect(inc2.invite.body.toString()).toMatch(/m=audio \d+ RTP\/AVP 0 8 101\r\n/);
    a.answer(inc2, pa.sdp('rtp'));
    const final2 = await call2.final;
    expect(final2.status).toBe(200);
    expect(final2.body.toString()).not.toContain('telephone-event');
    expect(final2.body.toString()).toMatch(/m=audio \d+ RTP\/AVP 0 8\r\n/);
    await c.inDialog(call2.dialog!, 'BYE');
    expect(await allEnded()).toBe(true);
  });

  it('turns SIP INFO DTMF from an INFO extension into RFC 4733 events in the other side\'s stream, numbering kept gapless', async () => {
    const a = await phone('7017', { dtmf: 'info' });
    const b = await phone('7018', { security: 'enforced' });
    const pa = await peer();
    const pb = await peer();
    const call = a.call('7018', { body: pa.sdp('rtp') });
    const inc = await b.waitIncoming();
    pb.connect(inc.invite.body, true);
    b.answer(inc, pb.sdp('srtp'));
    const final = await call.final;
    expect(final.status).toBe(200);
    pa.connect(final.body, false);
    pa.send(3);
    await waitUntil(() => pb.received.length >= 3);
    const info = await a.inDialog(call.dialog!, 'INFO', { body: Buffer.from('Signal=7\r\nDuration=200\r\n'), contentType: 'application/dtmf-relay' });
    expect(info.status).toBe(200);
    // B never sees an INFO: it gets the digit as SRTP-protected telephone-events it can decrypt.
    expect(b.requests.filter((r) => r.method === 'INFO')).toHaveLength(0);
    expect(await waitUntil(() => pb.received.filter((r) => r.payloadType === 101).length >= 6)).toBe(true);
    const events = pb.received.filter((r) => r.payloadType === 101);
    expect(events.every((e) => e.packet[12] === 7)).toBe(true);
    expect(events.filter((e) => (e.packet[13]! & 0x80) !== 0)).toHaveLength(3);
    pa.send(3);
    await waitUntil(() => pb.received.length >= 12);
    const seqs = pb.received.map((r) => r.packet.readUInt16BE(2));
    for (let k = 1; k < seqs.length; k++) expect(seqs[k]).toBe((seqs[k - 1]! + 1) & 0xffff);
    expect(new Set(pb.received.map((r) => r.packet.readUInt32BE(8))).size).toBe(1);
    expect(pb.rejected).toBe(0);
    await a.inDialog(call.dialog!, 'BYE');
    expect(await allEnded()).toBe(true);
  });

  it('maps payload types between legs that number telephone-event differently', async () => {
    const a = await phone('7019', { directMedia: false });
    const b = await phone('7023', {});
    const pa = await peer();
    const pb = await peer();
    const call = a.call('7023', { body: pa.sdp('rtp') });
    const inc = await b.waitIncoming();
    pb.connect(inc.invite.body, false);
    b.answer(inc, Buffer.from(pb.sdp('rtp').toString().replace(/101/g, '96')));
    const final = await call.final;
    expect(final.status).toBe(200);
    pa.connect(final.body, false);
    pa.send(2);
    pa.sendDtmf(4, 101);
    pb.send(2);
    pb.sendDtmf(6, 96);
    expect(await waitUntil(() => pb.received.length >= 8 && pa.received.length >= 8)).toBe(true);
    expect(pb.received.filter((r) => r.payloadType === 96)).toHaveLength(6);
    expect(pb.received.filter((r) => r.payloadType === 101)).toHaveLength(0);
    expect(pa.received.filter((r) => r.payloadType === 101)).toHaveLength(6);
    expect(pa.received.filter((r) => r.payloadType === 0)).toHaveLength(2);
    await a.inDialog(call.dialog!, 'BYE');
    expect(await allEnded()).toBe(true);
  });

  it('moves media out of the relay when a re-INVITE makes the legs compatible, without dropping the call', async () => {
    const a = await phone('7010', { security: 'best-effort' });
    const b = await phone('7011', { security: 'enforced' });
    const pa = await peer();
    const pb = await peer();
    const call = a.call('7011', { body: pa.sdp('rtp+sdes') });
    const inc = await b.waitIncoming();
    b.answer(inc, pb.sdp('srtp'));
    expect((await call.final).status).toBe(200);
    expect(relayPorts()).toBe(1);
    expect([...ts.server.calls.calls()][0]!.connectionType).toBe('SRTP relayed');
    // A switches to SRTP-only: both ends now speak RTP/SAVP with their own keys, end to end.
    b.reinviteAnswer = pb.sdp('srtp');
    const re = await a.inDialog(call.dialog!, 'INVITE', { body: pa.sdp('srtp') });
    expect(re.status).toBe(200);
    expect(re.body.toString()).toContain(`m=audio ${pb.port} RTP/SAVP`);
    expect(await waitUntil(() => relayPorts() === 0)).toBe(true);
    expect([...ts.server.calls.calls()][0]!.connectionType).toBe('SRTP Direct Media');
    expect(ts.server.calls.activeCount).toBe(1);
    await a.inDialog(call.dialog!, 'BYE');
    expect(await allEnded()).toBe(true);
  });

  it('moves media into the relay when a re-INVITE makes the legs incompatible', async () => {
    const a = await phone('7015', { security: 'best-effort' });
    const b = await phone('7016', { security: 'enforced' });
    const pa = await peer();
    const pb = await peer();
    const call = a.call('7016', { body: pa.sdp('srtp') });
    const inc = await b.waitIncoming();
    expect(inc.invite.body.toString()).toContain(`m=audio ${pa.port} RTP/SAVP`);
    b.answer(inc, pb.sdp('srtp'));
    expect((await call.final).status).toBe(200);
    expect([...ts.server.calls.calls()][0]!.connectionType).toBe('SRTP Direct Media');
    expect(relayPorts()).toBe(0);
    // A falls back to Best Effort RTP/AVP + crypto: B (Enforced) must keep RTP/SAVP, so the relay steps in.
    b.reinviteAnswer = pb.sdp('srtp');
    const re = await a.inDialog(call.dialog!, 'INVITE', { body: pa.sdp('rtp+sdes') });
    expect(re.status).toBe(200);
    const reoffer = (await b.waitRequest('INVITE')).body.toString();
    expect(reoffer).toMatch(/m=audio \d+ RTP\/SAVP/);
    expect(reoffer).not.toContain(`m=audio ${pa.port} `);
    expect(re.body.toString()).toMatch(/m=audio \d+ RTP\/AVP/);
    expect(re.body.toString()).toMatch(/a=crypto:1 AES_CM_128_HMAC_SHA1_80/);
    expect(relayPorts()).toBe(1);
    expect([...ts.server.calls.calls()][0]!.connectionType).toBe('SRTP relayed');
    // Audio now crosses the relay with fresh keys on both sides.
    pa.connect(re.body, true);
    pb.connect(Buffer.from(reoffer), true);
    pa.send(20);
    pb.send(20);
    expect(await waitUntil(() => pa.received.length >= 20 && pb.received.length >= 20, 5000)).toBe(true);
    expect(pa.rejected + pb.rejected).toBe(0);
    await a.inDialog(call.dialog!, 'BYE');
    expect(await allEnded()).toBe(true);
  });

  it('relays when direct media is off for one side, and for a caller behind NAT', async () => {
    const a = await phone('7012', { directMedia: false });
    const b = await phone('7013', {});
    const pa = await peer();
    const call = a.call('7013', { body: pa.sdp('rtp') });
    const inc = await b.waitIncoming();
    expect(inc.invite.body.toString()).not.toContain(`m=audio ${pa.port} `);
    b.answer(inc, (await peer()).sdp('rtp'));
    expect((await call.final).status).toBe(200);
    expect([...ts.server.calls.calls()][0]!.connectionType).toBe('RTP relayed');
    await a.inDialog(call.dialog!, 'BYE');
    expect(await allEnded()).toBe(true);

    const c = await phone('7014', {});
    const natted = Buffer.from(pa.sdp('rtp').toString().replace(/127\.0\.0\.1/g, '10.1.2.3'));
    const call2 = c.call('7013', { body: natted });
    const inc2 = await b.waitIncoming(2);
    expect(inc2.invite.body.toString()).not.toContain('10.1.2.3');
    b.reject(inc2, 486);
    await call2.final;
    expect(await allEnded()).toBe(true);
  });
});

describe('settings from the command line, on a running server', () => {
  it('applies `system set` and `user set` media options to the next call', async () => {
    const { spawnSync } = await import('node:child_process');
    const bin = new URL('../../../bin/switchboard.mjs', import.meta.url).pathname;
    const cli = (...args: string[]) => spawnSync(process.execPath, [bin, ...args, '--data-dir', ts.dataDir], { encoding: 'utf8', timeout: 30_000 });
    const bad = cli('system', 'set', '--media-security', 'sometimes');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--media-security: must be one of disabled, best-effort, enforced/);
    expect(cli('system', 'set', '--media-security', 'enforced').status).toBe(0);
    expect(cli('user', 'set', '--ext', '7021', '--media-security', 'disabled', '--srtcp', 'unencrypted').status).toBe(0);
    expect(cli('system', 'show').stdout).toContain('media.security "enforced"');
    await waitUntil(() => ts.server.systemMedia.current.security === 'enforced');
    await ts.server.directory.poll();
    expect((await ts.server.store.users.getByExtension('7021'))!.media).toEqual({ security: 'disabled', srtcp: 'unencrypted' });

    const a = await phone('7020', {});
    const b = await phone('7022', {});
    const pa = await peer();
    // 7020 follows the system (now Enforced): its plain offer is refused; an SRTP one reaches 7022 as RTP/SAVP.
    expect((await a.call('7022', { body: pa.sdp('rtp') }).final).status).toBe(488);
    const call = a.call('7022', { body: pa.sdp('srtp') });
    const inc = await b.waitIncoming();
    expect(inc.invite.body.toString()).toMatch(/RTP\/SAVP/);
    b.reject(inc, 486);
    await call.final;
    // 7021 says Disabled: it calls in plain RTP.
    const c = await phone('7021', {});
    const call2 = c.call('7022', { body: pa.sdp('rtp') });
    const inc2 = await b.waitIncoming(2);
    expect(inc2.invite.body.toString()).toMatch(/RTP\/SAVP/);
    b.reject(inc2, 486);
    expect((await call2.final).status).toBe(486);
    expect(cli('system', 'set', '--media-security', 'disabled').status).toBe(0);
    await waitUntil(() => ts.server.systemMedia.current.security === 'disabled');
    expect(await allEnded()).toBe(true);
  }, 60_000);
});
