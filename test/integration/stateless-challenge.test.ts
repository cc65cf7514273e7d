// Unauthenticated INVITEs and REGISTERs are challenged statelessly (RFC 3261
// §8.2.7): one 407/401 per request received, nothing kept on the server, no
// retransmission of the challenge however long nobody ACKs it, and the ACK
// to it is dropped without an answer. Server time is manual, so the 40 s
// in which timer G would have re-sent a stateful 407 pass without sleeps.
import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SipResponse } from '../../src/sip/message.ts';
import { parseMessage } from '../../src/sip/parser.ts';
import { startTestServer } from './lib/server.ts';
import type { TestServer } from './lib/server.ts';
import { TestClient } from './lib/sip-client.ts';

let ts: TestServer;
let sock: dgram.Socket;
let port = 0;
const received: SipResponse[] = [];

beforeAll(async () => {
  ts = await startTestServer({ manualTime: true });
  ts.server.store.users.add({ extension: '4100', password: 'pw-4100' });
  ts.server.directory.poll();
  sock = dgram.createSocket('udp4');
  sock.on('message', (m) => {
    const r = parseMessage(m);
    if (r.ok && r.message.kind === 'response') received.push(r.message);
  });
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', () => resolve()));
  port = sock.address().port;
});

afterAll(async () => {
  sock.close();
  await ts.stop();
});

function invite(branch: string, callId: string): string {
  const server = `${ts.host}:${ts.sipPort}`;
  return [
    `INVITE sip:4100@${server} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=${branch}`,
    'Max-Forwards: 70',
    `From: <sip:9999@${server}>;tag=caller1`,
    `To: <sip:4100@${server}>`,
    `Call-ID: ${callId}`,
    'CSeq: 1 INVITE',
    `Contact: <sip:9999@127.0.0.1:${port}>`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

function ack(branch: string, callId: string, toTag: string): string {
  const server = `${ts.host}:${ts.sipPort}`;
  return [
    `ACK sip:4100@${server} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=${branch}`,
    'Max-Forwards: 70',
    `From: <sip:9999@${server}>;tag=caller1`,
    `To: <sip:4100@${server}>;tag=${toTag}`,
    `Call-ID: ${callId}`,
    'CSeq: 1 ACK',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

function send(text: string): void {
  sock.send(Buffer.from(text, 'latin1'), ts.sipPort, ts.host);
}

async function until(what: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !what(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(what()).toBe(true);
}

function responsesTo(callId: string): SipResponse[] {
  return received.filter((r) => r.callId === callId);
}

describe('stateless digest challenges (RFC 3261 §8.2.7)', () => {
  it('answers an INVITE sent once, never ACKed, with exactly one 407 in 40 s, keeping no transaction', async () => {
    const before = ts.server.transactions.counters.statelessResponses;
    send(invite('z9hG4bK-once', 'call-once'));
    await until(() => responsesTo('call-once').length > 0);
    expect(responsesTo('call-once').map((r) => r.status)).toEqual([407]);
    expect(ts.server.transactions.size).toBe(0);
    // Timer G (0.5 s doubling up to 4 s) and timer H (32 s) would have re-sent a stateful 407 ~10 times by now.
    for (let t = 0; t < 40; t++) await ts.advance(1000);
    await new Promise((r) => setTimeout(r, 50));
    expect(responsesTo('call-once').map((r) => r.status)).toEqual([407]);
    expect(ts.server.transactions.counters.statelessResponses).toBe(before + 1);
    expect(ts.server.transactions.counters.retransmissionsSent).toBe(0);
  });

  it('answers each retransmission with one more 407 with the same To tag, and drops the ACK silently', async () => {
    send(invite('z9hG4bK-again', 'call-again'));
    await until(() => responsesTo('call-again').length === 1);
    send(invite('z9hG4bK-again', 'call-again'));
    await until(() => responsesTo('call-again').length === 2);
    const [first, second] = responsesTo('call-again');
    const tag = first!.to.params.get('tag');
    expect(tag).toBeTruthy();
    expect(second!.to.params.get('tag')).toBe(tag);
    send(ack('z9hG4bK-again', 'call-again', tag!));
    // Something sent after the ACK is answered: had the ACK been answered, that answer came first.
    send(invite('z9hG4bK-probe', 'call-probe'));
    await until(() => responsesTo('call-probe').length === 1);
    expect(responsesTo('call-again')).toHaveLength(2);
    expect(ts.server.transactions.size).toBe(0);
  });

  it('runs the overload control: its probes come back through the UDP socket, never reach the transaction layer and are not counted as OPTIONS traffic', async () => {
    const options = (direction: 'in' | 'out') => ts.server.transport.messages.requests().find((m) => m.direction === direction && m.method === 'OPTIONS')?.count ?? 0;
    const [inBefore, outBefore] = [options('in'), options('out')];
    // Probes go out every 100 ms of real time (a wait in the socket is real even on manual time); nothing else comes in meanwhile.
    const read = ts.server.transport.stats.received;
    await until(() => ts.server.transport.stats.received >= read + 3);
    expect([options('in'), options('out')]).toEqual([inBefore, outBefore]);
    expect(ts.server.transactions.size).toBe(0);
    expect(ts.server.transactions.counters.serverNonInvite).toBe(0);
    expect(ts.server.overload?.state).toMatchObject({ admitted: 1, admittedUnauthenticated: 1 });
    expect(ts.server.overload!.state.delayMs).toBeLessThan(100);
  });

  it('challenges REGISTER statelessly too, then registers once with the answer (its nonce-count is checked once)', async () => {
    const c = await new TestClient('udp', ts.host, ts.sipPort).open();
    const before = ts.server.transactions.counters.statelessResponses;
    try {
      const res = await c.register('4100', 'pw-4100', { expires: 600 });
      expect(res.status).toBe(200);
      const [challenge] = c.received;
      expect(challenge!.status).toBe(401);
      expect(ts.server.transactions.counters.statelessResponses).toBe(before + 1);
      expect(ts.server.location.lookup(`sip:4100@test.local`)).toHaveLength(1);
      expect(ts.server.guard.stats().successes).toBeGreaterThanOrEqual(1);
    } finally {
      c.close();
    }
  });
});
