import { describe, expect, it } from 'vitest';
import type { SipRequest, SipResponse } from '../../../../src/sip/message.ts';
import { createRequest } from '../../../../src/sip/serializer.ts';
import { newVia } from '../../../../src/sip/dialog.ts';
import { parseAuthHeader } from '../../../../src/sip/auth-params.ts';
import { requestFinal, sendUacRequest } from '../../../../src/sip/ua/uac.ts';
import type { UacFailure } from '../../../../src/sip/ua/uac.ts';
import { header, responseTo, uaHarness, UDP_PEER } from './helpers.ts';

function req(method: string, body?: string): SipRequest {
  const aor = { uri: { scheme: 'sip', user: 'acct', host: 'itsp.example', params: new Map(), headers: new Map() }, params: new Map() };
  return createRequest({
    method, uri: 'sip:bob@itsp.example', from: { ...aor, params: new Map([['tag', 'f1']]) }, to: aor,
    callId: 'uac1@test', cseq: 5, via: newVia('udp', { address: '192.0.2.1', port: 5060 }),
    contact: aor, body: body !== undefined ? Buffer.from(body) : undefined, contentType: body !== undefined ? 'application/sdp' : undefined,
  });
}

const CH = (stale = false, nonce = 'n1') => `Digest realm="itsp", nonce="${nonce}", qop="auth", algorithm=MD5${stale ? ', stale=true' : ''}`;

function events() {
  const e = { prov: [] as number[], final: [] as number[], fail: [] as UacFailure[], extra: 0 };
  return {
    e,
    handlers: {
      onProvisional: (r: SipResponse) => void e.prov.push(r.status),
      onFinal: (r: SipResponse) => void e.final.push(r.status),
      onFailure: (k: UacFailure) => void e.fail.push(k),
      onExtra2xx: () => void e.extra++,
    },
  };
}

describe('UacRequest: digest retries', () => {
  it('answers a 401 with Authorization on CSeq+1 and a new branch, then reports the 200', () => {
    const h = uaHarness();
    const { e, handlers } = events();
    const uac = sendUacRequest(req('REGISTER'), { transactions: h.layer, dest: UDP_PEER, credentials: { username: 'acct', password: 'pw' }, ...handlers });
    const first = h.sentRequests('REGISTER')[0]!;
    h.receive(responseTo(first, 401, { toTag: 'r', extra: [`WWW-Authenticate: ${CH()}`] }));
    const regs = h.sentRequests('REGISTER');
    expect(regs).toHaveLength(2);
    const second = regs[1]!;
    expect(second.cseq.seq).toBe(6);
    expect(second.via[0]!.params.get('branch')).not.toBe(first.via[0]!.params.get('branch'));
    expect(second.callId).toBe(first.callId);
    const auth = parseAuthHeader(header(second, 'authorization')!)!;
    expect(auth.params.get('username')).toBe('acct');
    expect(auth.params.get('uri')).toBe('sip:bob@itsp.example');
    expect(uac.current.cseq.seq).toBe(6);
    h.receive(responseTo(second, 200, { toTag: 'r' }));
    expect(e.final).toEqual([200]);
    expect(uac.state).toBe('done');
    expect(uac.attempts).toBe(2);
  });

  it('a second 401 is final unless it says stale=true; keeps the proxy credentials across a 407 then 401', () => {
    const h = uaHarness();
    const { e, handlers } = events();
    sendUacRequest(req('REGISTER'), { transactions: h.layer, dest: UDP_PEER, credentials: { username: 'acct', password: 'pw' }, ...handlers });
    const r = () => h.sentRequests('REGISTER').at(-1)!;
    h.receive(responseTo(r(), 407, { toTag: 'r', extra: [`Proxy-Authenticate: ${CH()}`] }));
    h.receive(responseTo(r(), 401, { toTag: 'r', extra: [`WWW-Authenticate: ${CH()}`] }));
    expect(header(r(), 'proxy-authorization')).toBeDefined();
    expect(header(r(), 'authorization')).toBeDefined();
    h.receive(responseTo(r(), 401, { toTag: 'r', extra: [`WWW-Authenticate: ${CH(true, 'n2')}`] }));
    expect(h.sentRequests('REGISTER')).toHaveLength(4);
    expect(r().cseq.seq).toBe(8);
    expect(parseAuthHeader(header(r(), 'authorization')!)!.params.get('nonce')).toBe('n2');
    expect(r().headers.filter((x) => x.name === 'authorization')).toHaveLength(1);
    h.receive(responseTo(r(), 401, { toTag: 'r', extra: [`WWW-Authenticate: ${CH(false, 'n3')}`] }));
    expect(h.sentRequests('REGISTER')).toHaveLength(4);
    expect(e.final).toEqual([401]);
  });

  it('no credentials: the 401 is final; nextCSeq numbers the retry', () => {
    const h = uaHarness();
    const { e, handlers } = events();
    sendUacRequest(req('OPTIONS'), { transactions: h.layer, dest: UDP_PEER, ...handlers });
    h.receive(responseTo(h.sentRequests('OPTIONS')[0]!, 401, { extra: [`WWW-Authenticate: ${CH()}`] }));
    expect(e.final).toEqual([401]);
    let seq = 40;
    sendUacRequest(req('OPTIONS'), { transactions: h.layer, dest: UDP_PEER, credentials: { username: 'u', password: 'p' }, nextCSeq: () => ++seq });
    h.receive(responseTo(h.sentRequests('OPTIONS')[1]!, 401, { extra: [`WWW-Authenticate: ${CH()}`] }));
    expect(h.sentRequests('OPTIONS')[2]!.cseq.seq).toBe(41);
  });

  it('reports timeout and transport errors', async () => {
    const h = uaHarness();
    const { e, handlers } = events();
    sendUacRequest(req('OPTIONS'), { transactions: h.layer, dest: UDP_PEER, ...handlers });
    h.timers.advance(32_000);
    expect(e.fail).toEqual(['timeout']);
    h.sender.failMode = 'sync';
    const p = requestFinal(req('MESSAGE'), { transactions: h.layer, dest: UDP_PEER });
    await expect(p).rejects.toThrow('send failed');
  });
});

describe('UacRequest: INVITE and CANCEL (RFC 3261 §9.1)', () => {
  it('passes provisionals, holds the CANCEL until one comes, and never retries a challenge after cancel', () => {
    const h = uaHarness();
    const { e, handlers } = events();
    const uac = sendUacRequest(req('INVITE', 'v=0\r\n'), { transactions: h.layer, dest: UDP_PEER, credentials: { username: 'u', password: 'p' }, ...handlers });
    const inv1 = h.sentRequests('INVITE')[0]!;
    h.receive(responseTo(inv1, 407, { toTag: 't', extra: [`Proxy-Authenticate: ${CH()}`] }));
    expect(h.sentRequests('ACK')).toHaveLength(1);
    const inv2 = h.sentRequests('INVITE')[1]!;
    expect(inv2.body.toString()).toBe('v=0\r\n');
    expect(uac.cancel([{ name: 'reason', value: 'SIP;cause=200;text="Call completed elsewhere"' }])).toBe(true);
    expect(h.sentRequests('CANCEL')).toHaveLength(0);
    h.receive(responseTo(inv2, 100));
    const cancel = h.sentRequests('CANCEL')[0]!;
    expect(cancel.cseq.seq).toBe(inv2.cseq.seq);
    expect(cancel.via[0]!.params.get('branch')).toBe(inv2.via[0]!.params.get('branch'));
    expect(header(cancel, 'proxy-authorization')).toBeUndefined();
    expect(header(cancel, 'reason')).toContain('cause=200');
    h.receive(responseTo(inv2, 180, { toTag: 'b' }));
    expect(e.prov).toEqual([100, 180]);
    h.receive(responseTo(inv2, 407, { toTag: 'b', extra: [`Proxy-Authenticate: ${CH(true, 'n9')}`] }));
    expect(h.sentRequests('INVITE')).toHaveLength(2);
    expect(e.final).toEqual([407]);
    expect(uac.cancel()).toBe(false);
  });

  it('reports the first 2xx as final and later ones (forks) through onExtra2xx', () => {
    const h = uaHarness();
    const { e, handlers } = events();
    sendUacRequest(req('INVITE'), { transactions: h.layer, dest: UDP_PEER, ...handlers });
    const inv = h.sentRequests('INVITE')[0]!;
    h.receive(responseTo(inv, 200, { toTag: 'x' }));
    h.receive(responseTo(inv, 200, { toTag: 'y' }));
    expect(e.final).toEqual([200]);
    expect(e.extra).toBe(1);
  });

  it('a CANCEL that never gets the INVITE finished ends in a timeout after 64*T1', () => {
    const h = uaHarness();
    const { e, handlers } = events();
    const uac = sendUacRequest(req('INVITE'), { transactions: h.layer, dest: UDP_PEER, ...handlers });
    h.receive(responseTo(uac.current, 180, { toTag: 'x' }));
    uac.cancel();
    expect(uac.cancelRequest?.method).toBe('CANCEL');
    h.timers.advance(32_001);
    expect(e.fail).toEqual(['timeout']);
  });
});
