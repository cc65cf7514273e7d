// The REGISTER client on the transaction layer with manual time: what it
// sends (parsed back from its bytes) and what it makes of the answers.
import { describe, expect, it } from 'vitest';
import type { SipRequest } from '../../../../src/sip/message.ts';
import { parseUri } from '../../../../src/sip/uri.ts';
import { getContacts } from '../../../../src/sip/headers.ts';
import { createRegisterClient, refreshDelaySec } from '../../../../src/sip/ua/register-client.ts';
import type { RegisterClientOptions, RegisterFailure, RegisterHop, RegisterSuccess } from '../../../../src/sip/ua/register-client.ts';
import { header, responseTo, uaHarness } from './helpers.ts';

const CHALLENGE = 'WWW-Authenticate: Digest realm="up", nonce="n1", qop="auth"';
const STALE = 'WWW-Authenticate: Digest realm="up", nonce="n2", qop="auth", stale=true';
const INSTANCE = 'urn:uuid:00000000-0000-1000-8000-00a0c91e6bf6';

function hop(port = 40001): RegisterHop {
  return { dest: { transport: 'udp', address: '192.0.2.50', port: 5060 }, contact: parseUri(`sip:2001@192.0.2.1:${port}`)! };
}

function setup(over: Partial<RegisterClientOptions> = {}) {
  const h = uaHarness();
  const ok: RegisterSuccess[] = [];
  const failed: RegisterFailure[] = [];
  let hops = 0;
  const client = createRegisterClient({
    transactions: h.layer,
    timers: h.timers,
    now: () => h.timers.clock.now(),
    aor: { uri: parseUri('sip:2001@up.example')!, params: new Map() },
    requestUri: parseUri('sip:up.example')!,
    nextHop: () => { hops++; return hop(); },
    credentials: { username: '2001', password: 'pw' },
    expiresSec: 600,
    retryAfterMs: () => 30_000,
    onRegistered: (r) => ok.push(r),
    onFailed: (f) => failed.push(f),
    ...over,
  });
  const last = (): SipRequest => h.sentRequests('REGISTER').at(-1)!;
  const count = (): number => h.sentRequests('REGISTER').length;
  return { h, client, ok, failed, last, count, hops: () => hops };
}

describe('RegisterClient', () => {
  it('registers with fixed Call-ID and From tag, rising CSeq, answers one 401, and takes the expiry of our Contact in the 200', () => {
    const { h, client, ok, last } = setup({ maxForwards: 17 });
    client.start();
    const r1 = last();
    expect(r1.uriRaw).toBe('sip:up.example');
    expect(header(r1, 'max-forwards')).toBe('17');
    expect(header(r1, 'contact')).toBe('<sip:2001@192.0.2.1:40001>;expires=600');
    expect(r1.via[0]!.host).toBe('192.0.2.1');
    expect(r1.via[0]!.port).toBe(40001);
    expect(client.state).toBe('registering');
    h.receive(responseTo(r1, 401, { toTag: 't', extra: [CHALLENGE] }));
    const r2 = last();
    expect(r2.cseq.seq).toBe(r1.cseq.seq + 1);
    expect(r2.callId).toBe(r1.callId);
    expect(r2.from.params.get('tag')).toBe(r1.from.params.get('tag'));
    expect(header(r2, 'authorization')).toContain('username="2001"');
    // Another phone's binding first: ours is found by URI; the Expires header is not ours.
    h.receive(responseTo(r2, 200, { toTag: 't', extra: ['Contact: <sip:2001@192.0.2.99:5060>;expires=3600, <sip:2001@192.0.2.1:40001>;expires=120', 'Expires: 900'] }));
    expect(client.state).toBe('registered');
    expect(ok).toHaveLength(1);
    expect(ok[0]!.expiresAt).toBe(h.timers.clock.now() + 120_000);
    expect(ok[0]!.serviceRoute).toEqual([]);
  });

  it('falls back to the Expires header, then to what it asked for', () => {
    const a = setup();
    a.client.start();
    a.h.receive(responseTo(a.last(), 200, { toTag: 't', extra: ['Expires: 300'] }));
    expect(a.ok[0]!.expiresAt).toBe(a.h.timers.clock.now() + 300_000);
    const b = setup();
    b.client.start();
    b.h.receive(responseTo(b.last(), 200, { toTag: 't' }));
    expect(b.ok[0]!.expiresAt).toBe(b.h.timers.clock.now() + 600_000);
  });

  it('refreshes at 80 % of the granted time, or 30 s before the end when that is sooner, never before half of it', () => {
    expect(refreshDelaySec(3600)).toBe(2880);
    expect(refreshDelaySec(120)).toBe(90);
    expect(refreshDelaySec(40)).toBe(20);
    expect(refreshDelaySec(6)).toBe(5);
    const { h, client, last, count, hops } = setup();
    client.start();
    const r1 = last();
    h.receive(responseTo(r1, 200, { toTag: 't', extra: ['Contact: <sip:2001@192.0.2.1:40001>;expires=3600'] }));
    h.timers.advance(2_879_000);
    expect(count()).toBe(1);
    h.timers.advance(1_000);
    expect(count()).toBe(2);
    expect(hops()).toBe(2); // each attempt asks the app where to go
    const r2 = last();
    expect(r2.callId).toBe(r1.callId);
    expect(r2.cseq.seq).toBe(r1.cseq.seq + 1);
    expect(client.state).toBe('registered'); // still bound while refreshing
  });

  it('answers a second challenge only when the nonce went stale', () => {
    const { h, client, ok, failed, last, count } = setup();
    client.start();
    h.receive(responseTo(last(), 401, { toTag: 't', extra: [CHALLENGE] }));
    h.receive(responseTo(last(), 401, { toTag: 't', extra: [STALE] }));
    expect(count()).toBe(3);
    expect(header(last(), 'authorization')).toContain('nonce="n2"');
    h.receive(responseTo(last(), 200, { toTag: 't' }));
    expect(ok).toHaveLength(1);
    expect(failed).toHaveLength(0);
  });

  it('reports refused credentials (a second 401 without stale, or 403) and retries when the app says', () => {
    const { h, client, failed, last, count } = setup();
    client.start();
    h.receive(responseTo(last(), 401, { toTag: 't', extra: [CHALLENGE] }));
    h.receive(responseTo(last(), 401, { toTag: 't', extra: [CHALLENGE] }));
    expect(count()).toBe(2);
    expect(failed[0]).toMatchObject({ kind: 'response', status: 401, credentialsRefused: true });
    expect(client.state).toBe('failed');
    h.timers.advance(29_999);
    expect(count()).toBe(2);
    h.timers.advance(1);
    expect(count()).toBe(3);
    h.receive(responseTo(last(), 403, { toTag: 't' }));
    expect(failed[1]).toMatchObject({ status: 403, credentialsRefused: true });
    // A 401 we had nothing to answer with is not a refusal of our credentials.
    const n = setup({ credentials: undefined });
    n.client.start();
    n.h.receive(responseTo(n.last(), 401, { toTag: 't', extra: [CHALLENGE] }));
    expect(n.failed[0]).toMatchObject({ status: 401, credentialsRefused: false });
  });

  it('a 423 is retried once with the Min-Expires, which later refreshes keep; a second 423 fails', () => {
    const { h, client, ok, failed, last, count } = setup({ expiresSec: 60 });
    client.start();
    h.receive(responseTo(last(), 423, { toTag: 't', extra: ['Min-Expires: 1800'] }));
    expect(count()).toBe(2);
    expect(header(last(), 'contact')).toContain('expires=1800');
    h.receive(responseTo(last(), 200, { toTag: 't' }));
    expect(ok[0]!.expiresAt).toBe(h.timers.clock.now() + 1_800_000);
    h.timers.advance(refreshDelaySec(1800) * 1000);
    expect(header(last(), 'contact')).toContain('expires=1800');
    h.receive(responseTo(last(), 423, { toTag: 't', extra: ['Min-Expires: 3600'] }));
    h.receive(responseTo(last(), 423, { toTag: 't', extra: ['Min-Expires: 7200'] }));
    expect(failed[0]).toMatchObject({ kind: 'response', status: 423, credentialsRefused: false });
  });

  it('a timeout (timer F as configured) is a failure; retryAfterMs undefined stops the client', () => {
    const { h, client, failed, count } = setup({ timeoutMs: 4_000, retryAfterMs: () => undefined });
    client.start();
    h.timers.advance(3_999);
    expect(failed).toHaveLength(0);
    h.timers.advance(1);
    expect(failed[0]).toMatchObject({ kind: 'timeout', status: 0, credentialsRefused: false });
    h.timers.advance(3_600_000);
    expect(count()).toBeLessThan(20); // only the UDP retransmissions of the one attempt
    expect(new Set(h.sentRequests('REGISTER').map((r) => r.via[0]!.params.get('branch'))).size).toBe(1);
  });

  it('no hop: a no-hop failure, retried later; an async hop is awaited', async () => {
    let give: RegisterHop | undefined;
    const { h, client, failed, count } = setup({ nextHop: () => give });
    client.start();
    expect(failed[0]).toMatchObject({ kind: 'no-hop', hop: undefined });
    give = hop();
    h.timers.advance(30_000);
    expect(count()).toBe(1);
    const a = setup({ nextHop: async () => hop(40002) });
    a.client.start();
    expect(a.count()).toBe(0);
    await Promise.resolve();
    expect(header(a.last(), 'contact')).toContain(':40002>');
  });

  it('RFC 5626/5627: +sip.instance and reg-id, Supported gruu and outbound; the GRUUs and Service-Route of the 200', () => {
    const { h, client, ok, last } = setup({ instanceId: INSTANCE, gruu: true, headers: [{ name: 'user-agent', value: 'SB' }] });
    client.start();
    const r = last();
    const c = (getContacts(r) as ReturnType<typeof getContacts> & object[])[0]!;
    expect(c.params.get('+sip.instance')).toBe(`"<${INSTANCE}>"`);
    expect(c.params.get('reg-id')).toBe('1');
    expect(header(r, 'supported')).toBe('gruu, outbound');
    expect(header(r, 'user-agent')).toBe('SB');
    // The registrar rewrote our Contact's address (NAT): the instance still finds ours.
    h.receive(responseTo(r, 200, {
      toTag: 't',
      extra: [
        `Contact: <sip:2001@203.0.113.9:1024>;expires=300;+sip.instance="<${INSTANCE}>";reg-id=1;pub-gruu="sip:2001@up.example;gr=${INSTANCE}";temp-gruu="sip:tgruu.7hs==jd7vnzga5w7fajsc7-ajd6fabz0f8g5@up.example;gr"`,
        'Contact: <sip:2001@192.0.2.7>;expires=900',
        'Service-Route: <sip:orig@scscf.up.example;lr>, <sip:p2.up.example;lr>',
      ],
    }));
    expect(ok[0]).toMatchObject({
      pubGruu: `sip:2001@up.example;gr=${INSTANCE}`,
      tempGruu: 'sip:tgruu.7hs==jd7vnzga5w7fajsc7-ajd6fabz0f8g5@up.example;gr',
      serviceRoute: ['<sip:orig@scscf.up.example;lr>', '<sip:p2.up.example;lr>'],
      expiresAt: h.timers.clock.now() + 300_000,
    });
  });

  it('routes of the hop become Route headers', () => {
    const { client, last } = setup({ nextHop: () => ({ ...hop(), routes: ['<sip:proxy.up.example;lr>'] }) });
    client.start();
    expect(header(last(), 'route')).toBe('<sip:proxy.up.example;lr>');
  });

  it('stop(true) unregisters with expires=0 where it was bound and resolves on the answer; nothing runs afterwards', async () => {
    const { h, client, last, count } = setup();
    client.start();
    h.receive(responseTo(last(), 200, { toTag: 't' }));
    const done = client.stop(true);
    const un = last();
    expect(client.state).toBe('stopped');
    expect(header(un, 'contact')).toContain('expires=0');
    expect(header(un, 'expires')).toBe('0');
    let resolved = false;
    void done.then(() => { resolved = true; });
    h.receive(responseTo(un, 401, { toTag: 't', extra: [CHALLENGE] }));
    expect(header(last(), 'authorization')).toContain('username="2001"');
    await Promise.resolve();
    expect(resolved).toBe(false);
    h.receive(responseTo(last(), 200, { toTag: 't' }));
    await done;
    const n = count();
    h.timers.advance(7_200_000);
    expect(count()).toBe(n);
    // Never bound: nothing to unregister.
    const b = setup();
    await b.client.stop(true);
    expect(b.count()).toBe(0);
  });

  it('refresh() sends a new REGISTER at once and ignores the answer to the one it replaced', () => {
    const { h, client, ok, last, count } = setup();
    client.start();
    const r1 = last();
    client.refresh();
    expect(count()).toBe(2);
    const r2 = last();
    h.receive(responseTo(r1, 200, { toTag: 't', extra: ['Expires: 100'] }));
    expect(ok).toHaveLength(0);
    h.receive(responseTo(r2, 200, { toTag: 't', extra: ['Expires: 200'] }));
    expect(ok[0]!.expiresAt).toBe(h.timers.clock.now() + 200_000);
  });
});
