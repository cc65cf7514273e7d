// Calls through the gateway on its real lines manager (issue 15 items 1 and
// 3): the line registers at an upstream Switchboard by itself, then a
// handset calls an upstream desk phone and the desk phone calls the handset,
// both answered with RTP both ways over an SRTP upstream leg.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../lib/server.ts';
import { until } from '../lib/until.ts';
import { UPSTREAM } from '../../../src/gateway/calls.ts';
import type { CallView } from '../../../src/pbx/call/context.ts';
import { Endpoints, srtpLine, startCallPair, stopAll } from './pair.ts';

let upstream: TestServer;
let gw: TestServer;
const ends = new Endpoints();

const connected = (ts: TestServer): CallView | undefined => [...ts.server.calls.calls()].find((c) => c.state === 'connected');

beforeAll(async () => {
  ({ upstream, gw } = await startCallPair(
    srtpLine('1001', '41510', { name: 'Jim' }, { name: 'Handset', media: { security: 'disabled' } }),
    { media: { relay: { portMin: 33000, portMax: 33999 } } },
    { media: { relay: { portMin: 34000, portMax: 34999 } } },
  ));
}, 30_000);

afterAll(() => stopAll(ends, gw, upstream));

describe('calls on the real lines manager', () => {
  it('handset → upstream desk phone and back, RTP both ways, SRTP on the upstream leg', async () => {
    const [handset, desk] = await ends.handsetAndDesk({ gw, upstream });
    const [ph, pd] = [await ends.peer(), await ends.peer()];

    const out = handset.call('41520', { body: ph.sdp('rtp') });
    const inc = await desk.waitIncoming();
    const res = await out.final;
    expect(res.status).toBe(200);
    expect(inc.invite.from.uri.user).toBe('41510');
    expect(inc.invite.from.displayName).toBe('Jim');
    await until(() => inc.acked !== undefined, 'ACK at the desk phone');
    ph.connect(res.body, false);
    pd.connect(inc.invite.body, false);
    ph.send(10);
    pd.send(10);
    await until(() => pd.received.length >= 10 && ph.received.length >= 10, 'RTP both ways (outgoing call)');
    expect(connected(gw)!.streams).toEqual({ a: 'RTP', b: 'SRTP' });
    expect((await handset.inDialog(out.dialog!, 'BYE')).status).toBe(200);
    await until(() => gw.server.calls.activeCount === 0 && upstream.server.calls.activeCount === 0, 'calls ended');

    const [qh, qd] = [await ends.peer(), await ends.peer()];
    const back = desk.call('41510', { body: qd.sdp('rtp') });
    const rung = await handset.waitIncoming();
    const answered = await back.final;
    expect(answered.status).toBe(200);
    expect(rung.invite.from.uri.user).toBe('41520');
    await until(() => rung.acked !== undefined, 'ACK at the handset');
    qd.connect(answered.body, false);
    qh.connect(rung.invite.body, false);
    qh.send(10);
    qd.send(10);
    await until(() => qd.received.length >= 10 && qh.received.length >= 10, 'RTP both ways (incoming call)');
    const atGw = connected(gw)!;
    expect(atGw.callee.trunk).toBe(UPSTREAM);
    expect(atGw.streams).toEqual({ a: 'SRTP', b: 'RTP' });
    expect((await desk.inDialog(back.dialog!, 'BYE')).status).toBe(200);
    await until(() => gw.server.calls.activeCount === 0, 'incoming call ended');
  });
});
