// System media settings through /api/settings: the keys `switchboard system
// set` writes (media.security ...), validated by the config schema's rules,
// refused to operators, audited, and applied by the running server to its
// next call without a restart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../lib/wait.ts';
import { TestPhone } from '../lib/phone.ts';
import { RtpPeer } from '../lib/rtp-peer.ts';
import { accountWith, startWithApi, type ApiTestServer } from './client.ts';

let s: ApiTestServer;
const phones: TestPhone[] = [];
const peers: RtpPeer[] = [];
const MEDIA_KEYS = ['media.security', 'media.srtcp', 'media.directMedia', 'media.dtmf', 'media.capneg', 'media.transport'];

beforeAll(async () => {
  s = await startWithApi({ media: { dtmf: 'info' } });
}, 90_000); // keys and scrypt hashes: slow on a loaded machine, not a speed test
afterAll(async () => {
  for (const p of phones) await p.stop();
  for (const p of peers) p.close();
  await s.ts.stop();
});

const issuesOf = (r: { json: { issues: { path: string; message: string }[] } }) =>
  Object.fromEntries(r.json.issues.map((i) => [i.path, i.message]));

describe('system media settings', () => {
  it('shows them with the config file values, applying at the next call', async () => {
    const r = await s.admin.get('/api/settings');
    expect(r.status).toBe(200);
    const defaults = { security: 'disabled', srtcp: 'encrypted', directMedia: true, dtmf: 'info', capneg: false, transport: 'any' };
    expect(r.json.settings.media).toEqual(defaults);
    expect(r.json.running.media).toEqual(defaults);
    for (const k of MEDIA_KEYS) expect(r.json.keys[k]).toEqual({ appliesAt: 'next-call', restartRequired: false });
    expect(r.json.keys['sip.domain'].appliesAt).toBe('next-start');
    const doc = await s.client().get('/api/openapi.json');
    const put = doc.json.paths['/api/settings'].put.requestBody.content['application/json'].schema;
    expect(put.properties.media.properties.security.anyOf[0].enum).toEqual(['disabled', 'best-effort', 'enforced']);
  });

  it('refuses bad values naming each field and its rule, and changes nothing', async () => {
    const bad = await s.admin.put('/api/settings', {
      media: { security: 'maximum', srtcp: 'clear', directMedia: 'yes', dtmf: 'morse', capneg: 1, transport: 'udp', colour: 'red' },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toBe('validation');
    const issues = issuesOf(bad);
    expect(issues['media.security']).toMatch(/disabled.*best-effort.*enforced/);
    expect(issues['media.srtcp']).toMatch(/encrypted.*unencrypted/);
    expect(issues['media.directMedia']).toMatch(/true or false/);
    expect(issues['media.dtmf']).toMatch(/rfc4733.*info/);
    expect(issues['media.capneg']).toMatch(/true or false/);
    expect(issues['media.transport']).toMatch(/any.*tls/);
    expect(issues['media.colour']).toMatch(/unknown field/);
    expect((await s.admin.get('/api/settings')).json.overrides).toEqual({});
    expect(s.ts.server.systemMedia.current.security).toBe('disabled');
  });

  it('lets operators and security administrators read them but not change them', async () => {
    const ops = await accountWith(s, 'ops', ['operator']);
    const sec = await accountWith(s, 'sec', ['security-admin']);
    for (const c of [ops, sec]) {
      const read = await c.get('/api/settings');
      expect(read.status).toBe(200);
      expect(read.json.settings.media.security).toBe('disabled');
      const put = await c.put('/api/settings', { media: { security: 'enforced' } });
      expect(put.status).toBe(403);
      expect(put.json).toMatchObject({ error: 'forbidden', role: 'admin' });
    }
    expect(await s.ts.server.store.admin.settings.get('media.security')).toBeUndefined();
    expect(s.ts.server.systemMedia.current.security).toBe('disabled');
  }, 90_000);

  it('applies a change to the next call of the running server, and audits it', async () => {
    for (const ext of ['8101', '8102']) await s.ts.server.store.users.add({ extension: ext, password: `pw-${ext}` });
    await s.ts.server.directory.poll();
    const a = await phone('8101');
    const b = await phone('8102');
    const pa = await RtpPeer.open();
    peers.push(pa);

    const put = await s.admin.put('/api/settings', { media: { security: 'enforced', directMedia: false } });
    expect(put.status, put.text).toBe(200);
    expect(put.json.restartRequired).toBe(false);
    expect(put.json.keys['media.security']).toEqual({ appliesAt: 'next-call', restartRequired: false });
    expect(put.json.settings.media).toMatchObject({ security: 'enforced', directMedia: false, dtmf: 'info' });
    expect(put.json.overrides).toEqual({ 'media.security': 'enforced', 'media.directMedia': false });
    // The keys `switchboard system set` writes, which the server polls; no restart.
    expect(await s.ts.server.store.admin.settings.get('media.security')).toBe('enforced');
    expect(await waitUntil(() => s.ts.server.systemMedia.current.security === 'enforced', 1000)).toBe(true);
    expect(s.ts.server.systemMedia.current.directMedia).toBe(false);
    expect(put.json.running.media.security).toBe('enforced');
    expect(s.ts.server.config.sip.domain).toBe('test.local');

    // Both users follow the system, now Enforced: a plain RTP offer is refused, an SRTP one reaches the callee as RTP/SAVP.
    expect((await a.call('8102', { body: pa.sdp('rtp') }).final).status).toBe(488);
    const call = a.call('8102', { body: pa.sdp('srtp') });
    const inc = await b.waitIncoming();
    expect(inc.invite.body.toString()).toMatch(/m=audio \d+ RTP\/SAVP /);
    b.reject(inc, 486);
    expect((await call.final).status).toBe(486);

    const audit = await s.admin.get('/api/audit?target=settings');
    expect(audit.json.items[0]).toMatchObject({
      actor: 'admin', action: 'PUT /api/settings', before: {}, after: { 'media.security': 'enforced', 'media.directMedia': false },
    });

    // null returns a key to the config file's value; the next call is plain RTP again.
    const back = await s.admin.put('/api/settings', { media: { security: null } });
    expect(back.json.overrides).toEqual({ 'media.directMedia': false });
    expect(back.json.settings.media.security).toBe('disabled');
    expect(await waitUntil(() => s.ts.server.systemMedia.current.security === 'disabled', 1000)).toBe(true);
    const plain = a.call('8102', { body: pa.sdp('rtp') });
    const inc2 = await b.waitIncoming(2);
    expect(inc2.invite.body.toString()).toMatch(/m=audio \d+ RTP\/AVP /);
    b.reject(inc2, 486);
    expect((await plain.final).status).toBe(486);
    const audit2 = await s.admin.get('/api/audit?target=settings');
    expect(audit2.json.items[0]).toMatchObject({ before: { 'media.security': 'enforced' }, after: { 'media.directMedia': false } });
    expect(audit2.json.items[0].after).not.toHaveProperty('media.security');
  }, 60_000);

  it('shows what the command line saved, and refuses changes while a saved value is invalid', async () => {
    // As `switchboard system set --dtmf rfc4733` would write it, from another process.
    await s.ts.server.store.admin.settings.set({ 'media.dtmf': 'rfc4733' });
    expect(await waitUntil(() => s.ts.server.systemMedia.current.dtmf === 'rfc4733', 2000)).toBe(true);
    const got = await s.admin.get('/api/settings');
    expect(got.json.overrides['media.dtmf']).toBe('rfc4733');
    expect(got.json.running.media.dtmf).toBe('rfc4733');

    await s.ts.server.store.admin.settings.set({ 'media.dtmf': 'morse' });
    const refused = await s.admin.put('/api/settings', { media: { capneg: true } });
    expect(refused.status).toBe(400);
    expect(issuesOf(refused)['media.dtmf']).toMatch(/"morse" is invalid.*null/);
    expect(await s.ts.server.store.admin.settings.get('media.capneg')).toBeUndefined();
    const fixed = await s.admin.put('/api/settings', { media: { capneg: true, dtmf: null } });
    expect(fixed.status, fixed.text).toBe(200);
    expect(fixed.json.running.media).toMatchObject({ capneg: true, dtmf: 'info', directMedia: false });
    await s.admin.put('/api/settings', { media: { capneg: null, directMedia: null } });
    expect(s.ts.server.systemMedia.current).toMatchObject({ capneg: false, directMedia: true, security: 'disabled' });
  });
});

async function phone(ext: string): Promise<TestPhone> {
  const p = await TestPhone.start({ ext, password: `pw-${ext}`, server: { host: s.ts.host, port: s.ts.sipPort, domain: 'test.local' }, behaviour: 'ring' });
  phones.push(p);
  expect((await p.register()).status).toBe(200);
  return p;
}
