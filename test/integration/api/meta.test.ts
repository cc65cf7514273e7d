// Public routes: the root CA for phones and the OpenAPI document, which must
// list every route the server mounts, with the schemas that validate it.
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWithApi, type ApiTestServer } from './client.ts';

let s: ApiTestServer;
beforeAll(async () => {
  s = await startWithApi();
}, 90_000); // servers, keys and scrypt hashes: slow on a loaded machine
afterAll(async () => {
  await s.ts.stop();
});

describe('root CA download', () => {
  it('serves the CA that signs the HTTPS identity, as PEM and DER, without a login', async () => {
    const anon = s.client();
    const pem = await anon.get('/ca.pem');
    expect(pem.status).toBe(200);
    expect(pem.headers['content-type']).toMatch(/pem/);
    expect(pem.text).toMatch(/^-----BEGIN CERTIFICATE-----/);
    const der = await anon.get('/ca.der');
    expect(der.status).toBe(200);
    const a = new X509Certificate(pem.body);
    const b = new X509Certificate(der.body);
    expect(b.fingerprint256).toBe(a.fingerprint256);
    expect(a.fingerprint256).toBe(s.ts.server.certificates.caFingerprintSha256);
    expect(new X509Certificate(s.ts.server.certificates.certPem).verify(a.publicKey)).toBe(true);
    expect(a.ca).toBe(true);
  });
});

describe('OpenAPI document', () => {
  it('lists every mounted route, and nothing that is not mounted', async () => {
    const r = await s.client().get('/api/openapi.json');
    expect(r.status).toBe(200);
    const doc = r.json;
    expect(doc.openapi).toBe('3.1.0');
    const listed = Object.entries(doc.paths as Record<string, Record<string, unknown>>)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)).sort();
    const mounted = s.ts.server.http!.mounted.map((m) => `${m.method} ${m.url.replace(/:(\w+)/g, '{$1}')}`).sort();
    expect(listed).toEqual(mounted);
    expect(listed.length).toBeGreaterThanOrEqual(34);
    for (const path of ['/api/users', '/api/users/{ext}', '/api/users/export', '/api/users/import', '/api/trunks', '/api/dids',
      '/api/calls', '/api/settings', '/api/admins', '/api/audit', '/api/session', '/api/session/password', '/ca.pem', '/ca.der']) {
      expect(doc.paths[path], path).toBeDefined();
    }
  });

  it('carries the zod rules, access rules and error shapes', async () => {
    const doc = (await s.client().get('/api/openapi.json')).json;
    const create = doc.paths['/api/users'].post;
    const body = create.requestBody.content['application/json'].schema;
    expect(body.required).toEqual(['extension', 'password']);
    expect(body.properties.extension.pattern).toBeDefined();
    expect(body.properties.maxCalls).toMatchObject({ anyOf: expect.arrayContaining([expect.objectContaining({ minimum: 1, maximum: 100 })]) });
    expect(body.additionalProperties).toBe(false);
    expect(create['x-required-role']).toBe('admin');
    expect(create.security).toEqual([{ session: [], csrf: [] }]);
    expect(Object.keys(create.responses)).toEqual(expect.arrayContaining(['201', '400', '401', '403', '409']));
    const view = create.responses['201'].content['application/json'].schema;
    expect(Object.keys(view.properties)).not.toContain('password');

    const list = doc.paths['/api/users'].get;
    expect(list.parameters.map((p: { name: string }) => p.name)).toEqual(['offset', 'limit', 'search', 'sort', 'enabled']);
    expect(list.parameters.find((p: { name: string }) => p.name === 'limit').schema).toMatchObject({ minimum: 1, maximum: 1000 });
    expect(list.security).toEqual([{ session: [] }]);
    expect(doc.paths['/api/users/{ext}'].get.parameters[0]).toMatchObject({ name: 'ext', in: 'path', required: true });
    expect(doc.paths['/api/audit'].get['x-required-role']).toBe('security-admin');
    expect(doc.paths['/api/session'].post.security).toEqual([]);
    expect(Object.keys(doc.paths['/api/users/import'].post.requestBody.content).sort()).toEqual(['application/json', 'text/csv']);
    const settings = doc.paths['/api/settings'].put.requestBody.content['application/json'].schema;
    expect(settings.properties.registrar.properties.minExpiresSec).toBeDefined();
    expect(doc.components.securitySchemes.session).toEqual({ type: 'apiKey', in: 'cookie', name: 'sb_session' });
    expect(doc.components.schemas.Error.properties.issues).toBeDefined();
  });
});
