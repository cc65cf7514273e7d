// DTMF through the gateway (issue 15, SPEC B-09, AC-09): the handset sends
// RFC 4733 events on its own telephone-event number (101), the upstream leg
// was offered 96; the gateway's relay renumbers both ways, and the upstream's
// voicemail (a real Switchboard with its media server) recognises the digits.
// The line registers by itself on the real lines manager.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../lib/server.ts';
import { until } from '../lib/until.ts';
import { parseSdp } from '../../../src/sdp/index.ts';
import { telephoneEventPt } from '../../../src/pbx/media/sdp-edits.ts';
import { Endpoints, srtpLine, startCallPair, stopAll, upstreamPassword } from './pair.ts';

let upstream: TestServer;
let gw: TestServer;
const ends = new Endpoints();
const LINE = { ext: '41510', password: upstreamPassword('41510'), code: '2468' };

function telephoneEvent(body: Buffer): number | undefined {
  const p = parseSdp(body);
  if (!p.ok) throw new Error(p.reason);
  return telephoneEventPt(p.sdp, 0);
}

beforeAll(async () => {
  ({ upstream, gw } = await startCallPair(
    srtpLine('1001', LINE.ext, { name: 'Handset line', voicemailCode: LINE.code }, { name: 'Handset', media: { security: 'enforced' } }),
    { voicemail: { enabled: true }, media: { relay: { portMin: 35000, portMax: 35499 } } },
    { media: { relay: { portMin: 35500, portMax: 35999 } } },
  ));
}, 30_000);

afterAll(() => stopAll(ends, gw, upstream));

describe('DTMF from the handset to the upstream', () => {
  it('events on the handset\'s 101 reach the upstream desk phone on 96, and the desk phone\'s 96 come back on 101', async () => {
    const [handset, desk] = await ends.handsetAndDesk({ gw, upstream });
    const [ph, pd] = [await ends.peer(), await ends.peer()];
    desk.behaviour = 'ring';
    const out = handset.call('41520', { body: ph.sdp('srtp') });
    const inc = await desk.waitIncoming();
    // The desk phone answers with the upstream's own number, 96 (as it was offered).
    desk.answer(inc, Buffer.from(pd.sdp('rtp').toString().replaceAll('101', '96')));
    const res = await out.final;
    expect(res.status).toBe(200);
    await until(() => inc.acked !== undefined, 'ACK at the desk phone');
    expect(telephoneEvent(inc.invite.body)).toBe(96);
    // The answer to the handset keeps the handset's own number (RFC 3264 §6.1).
    expect(telephoneEvent(res.body)).toBe(101);
    ph.connect(res.body, true);
    pd.connect(inc.invite.body, false);
    ph.send(5);
    pd.send(5);
    await until(() => pd.received.length >= 5 && ph.received.length >= 5, 'RTP both ways');
    pd.reset();
    ph.reset();
    ph.sendDtmf(5, 101);
    await until(() => pd.received.length >= 6, 'the digit at the desk phone');
    expect(pd.received.map((r) => r.payloadType)).toEqual([96, 96, 96, 96, 96, 96]);
    pd.sendDtmf(7, 96);
    await until(() => ph.received.length >= 6, 'the digit at the handset');
    expect(ph.received.map((r) => r.payloadType)).toEqual([101, 101, 101, 101, 101, 101]);
    expect((await handset.inDialog(out.dialog!, 'BYE')).status).toBe(200);
    await until(() => gw.server.calls.activeCount === 0 && upstream.server.calls.activeCount === 0, 'calls ended');
  });

  it('the handset logs in to its upstream mailbox with digits on 101 (mailbox, #, code, #)', async () => {
    const handset = ends.phones.find((p) => p.opts.ext === '1001') ?? await ends.phone(gw, '1001', 'Handset-1001-pw', 'gw.test');
    const ph = await ends.peer();
    const logFrom = upstream.log.entries.length;
    const out = handset.call('8000', { body: ph.sdp('srtp') });
    const res = await out.final;
    expect(res.status).toBe(200);
    ph.connect(res.body, true);
    // The voicemail asks for the mailbox; the prompt is heard through both relays.
    await until(() => ph.loudMs() >= 500, 'the mailbox question', 10_000);
    const loggedIn = () => upstream.log.entries.slice(logFrom).some((x) => x.msg === 'voicemail: mailbox login');
    for (const ch of `${LINE.ext}#${LINE.code}#`) {
      ph.sendDtmf(ch === '#' ? 11 : Number(ch), 101);
      ph.send(3);
    }
    await until(loggedIn, 'upstream mailbox login', 15_000);
    expect((await handset.inDialog(out.dialog!, 'BYE')).status).toBe(200);
    await until(() => gw.server.calls.activeCount === 0 && upstream.server.calls.activeCount === 0, `calls ended (${gw.server.calls.activeCount}, ${upstream.server.calls.activeCount})`, 10_000);
  }, 40_000);
});
