// The media follows the legs when a transfer re-pairs them (SPEC KI-04): a
// call anchored in the relay with SRTP on the transferee's side and plain RTP
// on the other is transferred, and real packets then flow between the
// transferee and the target — the transferee decrypting under fresh keys it
// was given in the re-INVITE, the target getting plain RTP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rig, until } from './rig.ts';
import { RtpPeer } from '../lib/rtp-peer.ts';

let rig: Rig;
const peers: RtpPeer[] = [];
const peer = async () => {
  const p = await RtpPeer.open();
  peers.push(p);
  return p;
};
const cryptoKey = (sdp: Buffer) => /a=crypto:\d+ \S+ inline:(\S+)/.exec(sdp.toString())?.[1];

beforeAll(async () => {
  rig = await Rig.start();
});
afterAll(async () => {
  for (const p of peers) p.close();
  await rig.stop();
});

describe('media after a transfer', () => {
  it('re-anchors an SRTP-RTP relayed call between the transferee and the target with fresh keys, packets both ways', async () => {
    const [pa, pb, pc] = [await peer(), await peer(), await peer()];
    const a = await rig.phone('6001', { media: { security: 'enforced' } });
    const b = await rig.phone('6002', { media: { security: 'disabled' } }, { mediaPort: pb.port });
    const c = await rig.phone('6003', { media: { security: 'disabled' } }, { mediaPort: pc.port });
    a.reinviteAnswer = pa.sdp('srtp');

    const out = a.call('6002', { body: pa.sdp('srtp') });
    const first = (await out.final).body;
    const inc = await b.waitIncoming();
    await until(() => inc.acked !== undefined, 'ACK at B');
    // Before: A (SRTP) and B (RTP) talk through the relay.
    pa.connect(first, true);
    pb.connect(inc.invite.body, false);
    pa.send(10);
    pb.send(10);
    await until(() => pb.received.length >= 10 && pa.received.length >= 10, 'packets A<->B');

    expect((await b.inDialog(inc.dialog!, 'REFER', { headers: [{ name: 'refer-to', value: '<sip:6003@test.local>' }] })).status).toBe(202);
    const atC = await c.waitIncoming();
    await until(() => atC.acked !== undefined, 'ACK at C');
    const reinvite = await a.waitRequest('INVITE');
    // A is given new keys and the relay's address for the new pairing; C gets plain RTP/AVP.
    expect(reinvite.body.toString()).toMatch(/m=audio \d+ RTP\/SAVP /);
    expect(cryptoKey(reinvite.body)).toBeDefined();
    expect(cryptoKey(reinvite.body)).not.toBe(cryptoKey(first));
    expect(atC.acked!.body.toString()).toMatch(/m=audio \d+ RTP\/AVP /);
    expect(atC.acked!.body.toString()).not.toContain('a=crypto');

    const [aBefore, cBefore] = [pa.received.length, pc.received.length];
    pa.connect(reinvite.body, true);
    pc.connect(atC.acked!.body, false);
    pa.send(20);
    pc.send(20);
    await until(() => pc.received.length >= cBefore + 20 && pa.received.length >= aBefore + 20, 'packets A<->C');
    expect(pc.received.slice(cBefore).every((r) => r.payloadType === 0)).toBe(true);
    expect(pa.rejected).toBe(0);
    // B is out of the media: nothing more reaches it.
    const bNow = pb.received.length;
    pa.send(5);
    await until(() => pc.received.length >= cBefore + 25, 'more packets to C');
    expect(pb.received.length).toBe(bNow);
  });
});
