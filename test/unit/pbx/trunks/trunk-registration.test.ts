// Trunk registration on manual time, over the UA core's client (src/sip/ua/uac.ts).
import { describe, expect, it } from 'vitest';
import type { SipRequest } from '../../../../src/sip/message.ts';
import { silentLogger } from '../../../../src/sip/log.ts';
import { TrunkRegistrar } from '../../../../src/pbx/trunks/trunk-registration.ts';
import type { TrunkEntry } from '../../../../src/pbx/trunks/trunk-table.ts';
import type { Trunk } from '../../../../src/store/types.ts';
import { header, responseTo, uaHarness } from '../../sip/ua/helpers.ts';

function entry(over: Partial<Trunk> = {}): TrunkEntry {
  const trunk = {
    id: 1, name: 'itsp', host: '192.0.2.50', port: 5060, transport: 'udp', registerUser: 'acct77', registerPassword: 's3cret',
    outboundProxy: null, prefix: '9', strip: 1, addPrefix: '', enabled: true, createdAt: 0, updatedAt: 0, ...over,
  } as Trunk;
  return { trunk, addresses: ['192.0.2.50'], dest: { transport: 'udp', address: '192.0.2.50', port: 5060 } };
}

function setup() {
  const h = uaHarness();
  const reg = new TrunkRegistrar({
    transactions: h.layer, timers: h.timers, log: silentLogger, now: () => h.timers.clock.now(),
    localEndpoint: () => ({ address: '192.0.2.1', port: 5060 }), expiresSec: 600, retrySec: 30,
  });
  const last = (): SipRequest => h.sentRequests('REGISTER').at(-1)!;
  return { h, reg, last };
}

const CHALLENGE = 'WWW-Authenticate: Digest realm="itsp", nonce="abc", qop="auth"';

describe('TrunkRegistrar', () => {
  it('registers with the trunk credentials, answering the 401, and refreshes before expiry on the same Call-ID', () => {
    const { h, reg, last } = setup();
    reg.sync([entry()]);
    const r1 = last();
    expect(r1.uri.host).toBe('192.0.2.50');
    expect(header(r1, 'contact')).toContain('expires=600');
    h.receive(responseTo(r1, 401, { toTag: 'x', extra: [CHALLENGE] }));
    const r2 = last();
    expect(r2.cseq.seq).toBe(2);
    expect(header(r2, 'authorization')).toContain('username="acct77"');
    h.receive(responseTo(r2, 200, { toTag: 'x', extra: ['Contact: <sip:acct77@192.0.2.1:5060>;expires=300'] }));
    expect(reg.status()[0]).toMatchObject({ trunk: 'itsp', state: 'registered', lastStatus: 200, expiresAt: h.timers.clock.now() + 300_000 });
    h.timers.advance(240_000);
    const r3 = last();
    expect(r3.callId).toBe(r1.callId);
    expect(r3.cseq.seq).toBe(3);
    h.receive(responseTo(r3, 401, { toTag: 'x', extra: [CHALLENGE] }));
    expect(last().cseq.seq).toBe(4);
  });

  it('a second 401 (credentials refused) fails and retries later; a timeout fails too', () => {
    const { h, reg, last } = setup();
    reg.sync([entry()]);
    h.receive(responseTo(last(), 401, { toTag: 'x', extra: [CHALLENGE] }));
    h.receive(responseTo(last(), 401, { toTag: 'x', extra: [CHALLENGE] }));
    expect(reg.status()[0]).toMatchObject({ state: 'failed', lastStatus: 401 });
    expect(h.sentRequests('REGISTER')).toHaveLength(2);
    h.timers.advance(30_000);
    expect(h.sentRequests('REGISTER')).toHaveLength(3);
    h.timers.advance(32_000);
    expect(reg.status()[0]).toMatchObject({ state: 'failed', lastStatus: 0, reason: 'no answer from the trunk' });
  });

  it('unregisters (expires=0) when the trunk goes away', () => {
    const { h, reg, last } = setup();
    reg.sync([entry()]);
    h.receive(responseTo(last(), 200, { toTag: 'x', extra: ['Expires: 600'] }));
    reg.sync([]);
    expect(header(last(), 'contact')).toContain('expires=0');
    expect(reg.status()).toEqual([]);
  });
});
