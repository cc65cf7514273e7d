// The Certificates API (issue 14 item 4) against a real server: the
// overview, issuing and importing identities (PKCS#12 and PEM) that apply at
// once to new HTTPS handshakes, offer chain, trusted CAs with PEM/DER export,
// client families and their warnings; every change audited; changes need
// the security-administrator role; the routes are in the OpenAPI document.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { accountWith, startWithApi, type ApiTestServer } from '../api/client.ts';
import type { ApiClient } from '../api/client.ts';
import { makeIdentity, toP12 } from './material.ts';

let s: ApiTestServer;
let operator: ApiClient;
let httpPort = 0;

beforeAll(async () => {
  s = await startWithApi();
  operator = await accountWith(s, 'ops', ['operator']);
  httpPort = s.ts.server.http!.address().port;
}, 60_000);
afterAll(() => s.ts.stop());

/** The fingerprint a new HTTPS handshake is shown. */
function httpsFingerprint(): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = tls.connect({ host: '127.0.0.1', port: httpPort, rejectUnauthorized: false }, () => {
      resolve(sock.getPeerCertificate().fingerprint256);
      sock.destroy();
    });
    sock.once('error', reject);
  });
}

async function auditActions(): Promise<string[]> {
  const r = await s.admin.get('/api/audit?limit=50');
  expect(r.status, r.text).toBe(200);
  return (r.json.items as { action: string }[]).map((i) => i.action);
}

describe('certificates API', () => {
  it('GET /api/certificates: the root, the identity each listener presents, no keys', async () => {
    const r = await operator.get('/api/certificates');
    expect(r.status, r.text).toBe(200);
    expect(r.json.ca.fingerprintSha256).toBe(s.ts.server.certificates.caFingerprintSha256);
    expect(r.json.identity.fingerprintSha256).toBe(s.ts.server.certificates.fingerprintSha256);
    expect(r.json.identities[0]).toMatchObject({ role: 'main', source: 'auto', presentedBy: ['SIP TLS', 'HTTPS'], expiry: 'ok' });
    expect(r.text).not.toMatch(/PRIVATE KEY/);
    const proposed = await operator.get('/api/certificates/proposed');
    expect(proposed.json.san.uris).toContain('sip:test.local');
  });

  it('issue with an extra name: applied to new HTTPS handshakes, audited; an operator may not', async () => {
    expect((await operator.post('/api/certificates/identities/main/issue', {})).status).toBe(403);
    const proposed = (await s.admin.get('/api/certificates/proposed')).json;
    const san = { ...proposed.san, dns: [...proposed.san.dns, 'extra.test.local'] };
    const r = await s.admin.post('/api/certificates/identities/main/issue', { commonName: proposed.commonName, san, days: 365 });
    expect(r.status, r.text).toBe(201);
    const now = r.json.identity.certificate.fingerprintSha256;
    expect(r.json.identity.certificate.subjectAltNames).toContain('DNS:extra.test.local');
    expect(r.json.applied.listeners).toEqual([
      { name: 'SIP TLS', before: expect.any(String), after: now },
      { name: 'HTTPS management', before: expect.any(String), after: now },
    ]);
    expect(await httpsFingerprint()).toBe(now);
    expect(await auditActions()).toContain('issue identity');
    const bad = await s.admin.post('/api/certificates/identities/main/issue', { san: { dns: [], ips: ['not-an-ip'], uris: [] } });
    expect(bad.status).toBe(400);
  });

  it('import PKCS#12 (base64 + password) and PEM; a wrong password is a 400 that names it', async () => {
    // Signed by the server's own CA, so this client (which trusts only that root) keeps talking to it.
    const ca = { certPem: s.ts.server.certificates.caCertPem, keyPem: s.ts.server.certificates.caKeyPem };
    const made = await makeIdentity({ ca, cn: 'p12.test.local' });
    const p12 = toP12(made, 'P12-pass-word').toString('base64');
    const wrong = await s.admin.post('/api/certificates/identities/main/import', { p12, password: 'nope' });
    expect(wrong.status).toBe(400);
    expect(wrong.json.message).toMatch(/password/i);
    const r = await s.admin.post('/api/certificates/identities/main/import', { p12, password: 'P12-pass-word' });
    expect(r.status, r.text).toBe(201);
    expect(r.json.identity.source).toBe('imported');
    expect(await httpsFingerprint()).toBe(made.fingerprint);

    const pem = await makeIdentity({ ca, cn: 'pem.test.local' });
    const r2 = await s.admin.post('/api/certificates/identities/main/import', { keyPem: pem.keyPem, chainPem: pem.certPem });
    expect(r2.status, r2.text).toBe(201);
    expect(await httpsFingerprint()).toBe(pem.fingerprint);
    const mismatch = await s.admin.post('/api/certificates/identities/main/import', { keyPem: made.keyPem, chainPem: pem.certPem });
    expect(mismatch.status).toBe(400);
    expect(mismatch.json.error).toBe('identity-key-mismatch');
    expect(await auditActions()).toContain('import identity');
  });

  it('offer chain and the telephony identity', async () => {
    const on = await s.admin.put('/api/certificates/identities/main/offer-chain', { offerChain: true });
    expect(on.status, on.text).toBe(200);
    expect(on.json.identity.offerChain).toBe(true);
    expect((await s.admin.put('/api/certificates/identities/main/offer-chain', { offerChain: false })).json.identity.offerChain).toBe(false);
    const tel = await s.admin.post('/api/certificates/identities/telephony/issue', { commonName: 'sip.test.local', san: { dns: ['sip.test.local'], ips: ['127.0.0.1'], uris: [] } });
    expect(tel.status, tel.text).toBe(201);
    const sip = tel.json.applied.listeners.find((l: { name: string }) => l.name === 'SIP TLS');
    const https = tel.json.applied.listeners.find((l: { name: string }) => l.name === 'HTTPS management');
    expect(sip.after).toBe(tel.json.identity.certificate.fingerprintSha256);
    expect(https.after).toBe(https.before);
    const overview = (await s.admin.get('/api/certificates')).json;
    expect(overview.identities.map((i: { role: string; presentedBy: string[] }) => [i.role, i.presentedBy])).toEqual([['main', ['HTTPS']], ['telephony', ['SIP TLS']]]);
    expect((await s.admin.delete('/api/certificates/identities/telephony')).status).toBe(200);
    expect((await s.admin.delete('/api/certificates/identities/telephony')).status).toBe(404);
  });

  it('trusted CAs: add PEM and DER, export both ways, remove; a leaf certificate is refused', async () => {
    const a = await makeIdentity();
    const b = await makeIdentity();
    const addPem = await s.admin.post('/api/certificates/trusted', { pem: a.caPem, label: 'Carrier A' });
    expect(addPem.status, addPem.text).toBe(201);
    const der = new X509Certificate(b.caPem).raw.toString('base64');
    const addDer = await s.admin.post('/api/certificates/trusted', { der });
    expect(addDer.status, addDer.text).toBe(201);
    const list = (await operator.get('/api/certificates/trusted')).json.items as { fingerprint: string; label: string }[];
    expect(list).toHaveLength(2);
    const fa = list.find((t) => t.label === 'Carrier A')!.fingerprint;
    const pem = await operator.get(`/api/certificates/trusted/${fa}/export`);
    expect(pem.text).toContain('BEGIN CERTIFICATE');
    const derOut = await operator.get(`/api/certificates/trusted/${fa}/export?format=der`);
    expect(new X509Certificate(derOut.body).fingerprint256).toBe(new X509Certificate(a.caPem).fingerprint256);
    expect((await s.admin.post('/api/certificates/trusted', { pem: a.certPem })).status).toBe(400);
    expect((await s.admin.delete(`/api/certificates/trusted/${fa}`)).status).toBe(200);
    expect((await operator.get('/api/certificates/trusted')).json.items).toHaveLength(1);
    expect(await auditActions()).toEqual(expect.arrayContaining(['trust CA', 'remove trusted CA']));
  });

  it('client families: the selection is kept and the identity is checked against it', async () => {
    const fams = (await operator.get('/api/certificates/client-families')).json;
    expect(fams.families.map((f: { family: string }) => f.family)).toContain('onex-android');
    const r = await s.admin.put('/api/certificates/client-families', { selected: ['radvision-xt', 'avaya-e129'] });
    expect(r.status, r.text).toBe(200);
    expect(r.json.selected).toEqual(['avaya-e129', 'radvision-xt']);
    expect(r.json.warnings.some((w: { family: string }) => w.family === 'avaya-e129')).toBe(true);
    expect((await s.admin.get('/api/certificates')).json.clientFamilies.selected).toEqual(['avaya-e129', 'radvision-xt']);
    expect((await s.admin.put('/api/certificates/client-families', { selected: ['nope'] })).status).toBe(400);
  });

  it('client families: a provisioned device brings its family into the check without being selected (A-29)', async () => {
    expect((await s.admin.put('/api/certificates/client-families', { selected: [] })).status).toBe(200);
    const before = (await s.admin.get('/api/certificates')).json;
    expect(before.clientFamilies.devices).toEqual([]);
    expect(before.warnings.some((w: { family?: string }) => w.family === 'avaya-e129')).toBe(false);
    await s.ts.server.store.users.add({ extension: '7129', password: 'E129-line-secret' });
    await s.ts.server.store.devices.add({ mac: '000b82e12977', family: 'avaya-e129', extensions: ['7129'] });
    const after = (await s.admin.get('/api/certificates')).json;
    expect(after.clientFamilies.devices).toEqual(['avaya-e129']);
    expect(after.warnings.some((w: { family?: string }) => w.family === 'avaya-e129')).toBe(true);
  });

  it('is documented in the OpenAPI document', async () => {
    const doc = (await operator.get('/api/openapi.json')).json;
    for (const p of ['/api/certificates', '/api/certificates/identities/{role}/issue', '/api/certificates/identities/{role}/import', '/api/certificates/trusted', '/api/certificates/client-families']) {
      expect(Object.keys(doc.paths)).toContain(p);
    }
  });
});
