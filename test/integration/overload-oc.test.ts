// RFC 7339 over real sockets. As a server: an upstream that puts "oc" in
// its Via hears, in the responses to what we do not drop, how much to
// reduce while we shed (the overload control driven on manual time: its
// probe waits as long as the test says), then oc-validity=0, then nothing.
// As a client: a trunk that answers with oc=50 gets every other new call;
// the others' callers get 503 at once; oc-validity=0 ends it.
import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startTestServer } from './lib/server.ts';
import type { TestServer } from './lib/server.ts';
import { TestPhone } from './lib/phone.ts';
import { ManualClock } from '../../src/lib/time.ts';
import { ManualTimerQueue } from '../../src/lib/timer-queue.ts';
import { parseMessage } from '../../src/sip/parser.ts';
import { createResponse, serializeMessage } from '../../src/sip/serializer.ts';
import { setTopVia } from '../../src/sip/headers.ts';
import { queryControlStatus, formatStatus } from '../../src/cli/status.ts';
import type { SipRequest, SipResponse, Via } from '../../src/sip/message.ts';
import { waitUntil } from '../lib/wait.ts';

let ts: TestServer;
const overloadTimers = new ManualTimerQueue({ clock: new ManualClock(Date.now()) });
const phones: TestPhone[] = [];

beforeAll(async () => {
  ts = await startTestServer({ overloadTimers });
  await ts.server.store.users.add({ extension: '7000', password: 'pw-7000', outboundCalls: true });
  await ts.server.directory.poll();
});

afterAll(async () => {
  for (const p of phones) await p.stop();
  await ts?.stop();
});

/** A bare UDP upstream: sends what it is given, keeps every response. */
async function upstream() {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const port = sock.address().port;
  const got: SipResponse[] = [];
  sock.on('message', (buf) => {
    const r = parseMessage(buf);
    if (r.ok && r.message.kind === 'response') got.push(r.message);
  });
  let n = 0;
  const send = (method: string, via: string, opts: { toTag?: string; headers?: string } = {}): string => {
    const id = `oc-${++n}-${port}`;
    const text = `${method} sip:${method === 'REGISTER' ? '' : '7000@'}test.local SIP/2.0\r\n` +
      `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK-${id};rport${via}\r\n` +
      `Max-Forwards: 70\r\nFrom: <sip:7000@test.local>;tag=f${n}\r\nTo: <sip:7000@test.local>${opts.toTag ? `;tag=${opts.toTag}` : ''}\r\n` +
      `Call-ID: ${id}\r\nCSeq: 1 ${method}\r\nContact: <sip:7000@127.0.0.1:${port}>\r\n${opts.headers ?? ''}Content-Length: 0\r\n\r\n`;
    sock.send(text, ts.sipPort, '127.0.0.1');
    return id;
  };
  /** Every response before the answer to an in-dialog OPTIONS (never shed, answered in order). */
  const drain = async (): Promise<SipResponse[]> => {
    const id = send('OPTIONS', '', { toTag: 'sentinel' });
    expect(await waitUntil(() => got.some((r) => r.callId === id))).toBe(true);
    return got.splice(0).filter((r) => r.callId !== id);
  };
  return { send, drain, close: () => sock.close() };
}

const oc = (v: Via | undefined) => Object.fromEntries([...(v?.params ?? [])].filter(([k]) => k.startsWith('oc')));

/** One sample of the overload control, its probe read back through the socket before the next. */
async function quickSample(): Promise<void> {
  const before = ts.server.transport.stats.received;
  overloadTimers.advance(100);
  expect(await waitUntil(() => ts.server.transport.stats.received > before)).toBe(true);
}

describe('RFC 7339 feedback from a trunk', () => {
  it('offers "oc" to the trunk, sends it only the share of new calls it asks for, and answers the rest 503', async () => {
    // The trunk: answers every INVITE 486 with the feedback the test sets in its Via.
    const trunk = dgram.createSocket('udp4');
    const trunkPort = await freePort();
    await new Promise<void>((r) => trunk.bind(trunkPort, '127.0.0.1', () => r()));
    const invites: SipRequest[] = [];
    let feedback: [string, string][] = [];
    trunk.on('message', (buf, rinfo) => {
      const r = parseMessage(buf);
      if (!r.ok || r.message.kind !== 'request' || r.message.method !== 'INVITE') return;
      const req = r.message;
      invites.push(req);
      const res = createResponse(req, 486, 'Busy Here');
      const top = res.via[0]!;
      setTopVia(res, { ...top, params: new Map([...top.params, ...feedback]) });
      trunk.send(serializeMessage(res), rinfo.port, rinfo.address);
    });
    try {
      await ts.server.store.trunks.add({ name: 'carrier', host: '127.0.0.1', port: trunkPort, transport: 'udp', prefix: '9', strip: 1, addPrefix: '' });
      await ts.server.trunks.poll();
      const a = await TestPhone.start({ ext: '7000', password: 'pw-7000', server: { host: ts.host, port: ts.sipPort, domain: 'test.local' } });
      phones.push(a);
      expect((await a.register()).status).toBe(200);

      feedback = [['oc', '50'], ['oc-algo', '"loss"'], ['oc-validity', '60000'], ['oc-seq', '1700000000.00001']];
      expect((await a.call('9555001').final).status).toBe(486);
      expect(invites).toHaveLength(1);
      expect(invites[0]!.via[0]!.params.get('oc')).toBeNull();
      expect(invites[0]!.via[0]!.params.get('oc-algo')).toBe('"loss"');
      // Half of the new calls from now on: the first is not sent, the second is.
      const shed = await a.call('9555002').final;
      expect(shed.status).toBe(503);
      expect(shed.headers.some((h) => h.name === 'retry-after')).toBe(false);
      expect(invites).toHaveLength(1);
      expect((await a.call('9555003').final).status).toBe(486);
      expect(invites).toHaveLength(2);
      expect(ts.server.status.snapshot().overload!.trunks).toEqual([{ trunk: 'carrier', reduction: 50, until: expect.any(Number), shed: 1 }]);

      // The trunk has recovered: oc-validity=0 (newer oc-seq) ends the reduction at once.
      feedback = [['oc', '0'], ['oc-validity', '0'], ['oc-seq', '1700000000.00002']];
      expect((await a.call('9555004').final).status).toBe(503); // still within the old reduction
      expect((await a.call('9555005').final).status).toBe(486);
      for (let i = 0; i < 3; i++) expect((await a.call(`955601${i}`).final).status).toBe(486);
      expect(invites).toHaveLength(6);
      expect(ts.server.status.snapshot().overload!.trunks[0]).toMatchObject({ reduction: 0, shed: 2 });
    } finally {
      trunk.close();
    }
  });
});

describe('RFC 7339 feedback from an overloaded server', () => {
  it('tells an upstream with "oc" its share to drop while shedding, then that it may stop', async () => {
    // The first probe is back at once (manual time has not moved); the next waits while time moves on.
    expect(await waitUntil(() => ts.server.transport.stats.received >= 1)).toBe(true);
    const up = await upstream();
    try {
      up.send('REGISTER', ';oc;oc-algo="loss"');
      const calm = await up.drain();
      expect(calm).toHaveLength(1);
      expect(oc(calm[0]!.via[0])).toEqual({ oc: null, 'oc-algo': '"loss"' }); // nothing shed: our offer echoed, no value

      overloadTimers.advance(600); // the probe sent at 100 ms is unread at 400, 500 and 600 ms: cut twice
      expect(ts.server.overload!.state).toMatchObject({ admittedUnauthenticated: 0.25, admitted: 1 });
      for (let i = 0; i < 4; i++) up.send('REGISTER', ';oc;oc-algo="loss,rate"');
      up.send('INVITE', ';oc', { headers: 'Proxy-Authorization: Digest username="7000", realm="test.local", nonce="x", uri="sip:7000@test.local", response="00"\r\n' });
      const shed = await up.drain();
      // One REGISTER in four is let through (and challenged); the other three are dropped unanswered.
      // The INVITE's credentials carry a nonce never issued: admitted (its class is not shed), then refused.
      expect(shed.map((r) => `${r.cseq.method} ${r.status}`).sort()).toEqual(['INVITE 403', 'REGISTER 401']);
      expect(ts.server.overload!.state.dropped).toBe(3);
      const reg = shed.find((r) => r.cseq.method === 'REGISTER')!;
      const inv = shed.find((r) => r.cseq.method === 'INVITE')!;
      const regOc = oc(reg.via[0]);
      expect(regOc).toMatchObject({ oc: '75', 'oc-algo': '"loss"', 'oc-validity': '500' });
      expect(regOc['oc-seq']).toMatch(/^\d{10}\.\d{5}$/);
      // Requests with credentials are all admitted for now: nothing to drop, same state, same oc-seq.
      expect(oc(inv.via[0])).toEqual({ ...regOc, oc: '0' });
      expect(reg.via[0]!.params.get('received')).toBe('127.0.0.1'); // the rest of the Via as it was

      const snap = ts.server.status.snapshot().overload!;
      expect(snap).toMatchObject({ enabled: true, admittedUnauthenticated: 0.25, admitted: 1, dropped: 3, ocFeedback: 2 });
      const cli = await queryControlStatus(ts.dataDir);
      expect(formatStatus(cli.status)).toContain('overload delay=500ms admitted=1 admitted-unauthenticated=0.25 refused=0 dropped=3 oc-feedback=2');

      // Probes quick again: the share climbs back by 0.05 a sample (after one last cut for the late probe).
      await quickSample();
      expect(ts.server.overload!.state.admittedUnauthenticated).toBe(0.125);
      for (let i = 0; i < 18; i++) await quickSample();
      expect(ts.server.overload!.state.admittedUnauthenticated).toBe(1);
      up.send('REGISTER', ';oc');
      const ended = await up.drain();
      expect(ended).toHaveLength(1);
      const endOc = oc(ended[0]!.via[0]);
      expect(endOc).toMatchObject({ oc: '0', 'oc-validity': '0' });
      expect(endOc['oc-seq']! > regOc['oc-seq']!).toBe(true);
      // One validity period (500 ms) later, nothing more to say.
      for (let i = 0; i < 5; i++) await quickSample();
      up.send('REGISTER', ';oc');
      expect(oc((await up.drain())[0]!.via[0])).toEqual({ oc: null });
    } finally {
      up.close();
    }
  });
});
