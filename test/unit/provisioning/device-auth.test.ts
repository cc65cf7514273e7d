// Per-device digest (RFC 7616, SHA-256 and MD5) and URL tokens, on a real
// store, on manual time.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeviceAuth } from '../../../src/provisioning/device-auth.ts';
import { digestResponse, ha1, parseAuthHeader, type DigestAlgorithm } from '../../../src/sip/digest.ts';
import type { DeviceSecrets, Store } from '../../../src/store/index.ts';
import { tempStores } from '../store/helpers.ts';

const MAC = '0004f2aabbcc';
const SOURCE = '10.0.0.7';

/** What a phone answers to a challenge: the response for its own user name spelling and password. */
function answer(challenge: string, user: string, password: string, uri = '/file.cfg', nc = '00000001'): string {
  const p = parseAuthHeader(challenge)!.params;
  const algorithm = p.get('algorithm') as DigestAlgorithm;
  const realm = p.get('realm')!;
  const nonce = p.get('nonce')!;
  const response = digestResponse(algorithm, ha1(user, realm, password, algorithm), nonce, 'GET', uri, { qop: 'auth', nc, cnonce: 'c0ffee' });
  return `Digest username="${user}", realm="${realm}", nonce="${nonce}", uri="${uri}", algorithm=${algorithm}, qop=auth, nc=${nc}, cnonce="c0ffee", response="${response}"`;
}

describe('DeviceAuth', () => {
  let stores: ReturnType<typeof tempStores>;
  let store: Store;
  let secrets: DeviceSecrets;
  let t: number;
  let auth: DeviceAuth;

  beforeEach(async () => {
    stores = tempStores();
    store = stores.open();
    await store.users.add({ extension: '1001', password: 'Line-1001-secret' });
    secrets = (await store.devices.add({ mac: MAC, family: 'avaya-b179', extensions: ['1001'] })).secrets;
    t = 1_700_000_000_000;
    auth = new DeviceAuth({ devices: store.devices, now: () => t, realm: 'switchboard provisioning', failures: 3, banMs: 60_000 });
  });
  afterEach(() => stores.cleanup());

  it('challenges with SHA-256 then MD5, and accepts either, with the MAC in any spelling', async () => {
    const [sha, md5] = auth.challenge(SOURCE);
    expect(sha).toMatch(/algorithm=SHA-256, qop="auth"$/);
    expect(md5).toMatch(/algorithm=MD5, qop="auth"$/);
    const a = await auth.byDigest(answer(sha!, MAC, secrets.password), 'GET', '/file.cfg', SOURCE);
    expect(a).toMatchObject({ kind: 'device', device: { mac: MAC } });
    expect(md5).toContain(parseAuthHeader(sha!)!.params.get('nonce')); // one nonce for both
    const [, md5Again] = auth.challenge(SOURCE);
    const b = await auth.byDigest(answer(md5Again!, '00:04:F2:AA:BB:CC', secrets.password), 'GET', '/file.cfg', SOURCE);
    expect(b).toMatchObject({ kind: 'device', device: { mac: MAC } });
  });

  it('refuses a wrong password, a replayed answer, a nonce of another source, and an answer for another URI', async () => {
    const [sha] = auth.challenge(SOURCE);
    expect(await auth.byDigest(answer(sha!, MAC, 'nope'), 'GET', '/file.cfg', SOURCE)).toMatchObject({ kind: 'challenge', result: 'refused: wrong password' });
    const good = answer(sha!, MAC, secrets.password);
    expect((await auth.byDigest(good, 'GET', '/file.cfg', SOURCE)).kind).toBe('device');
    expect(await auth.byDigest(good, 'GET', '/file.cfg', SOURCE)).toMatchObject({ kind: 'challenge', stale: true });
    expect((await auth.byDigest(answer(sha!, MAC, secrets.password, '/file.cfg', '00000002'), 'GET', '/file.cfg', '10.0.0.8')).kind).toBe('challenge');
    expect((await auth.byDigest(answer(sha!, MAC, secrets.password, '/other.cfg', '00000003'), 'GET', '/file.cfg', SOURCE)).kind).toBe('challenge');
    expect(await auth.byDigest(answer(sha!, '0004f2000001', 'x'), 'GET', '/file.cfg', SOURCE)).toMatchObject({ kind: 'challenge', result: 'refused: unknown device', mac: null });
  });

  it('bans a source after repeated wrong passwords for a while, and the old nonce goes stale with time', async () => {
    for (let i = 0; i < 3; i++) {
      const [c] = auth.challenge(SOURCE);
      expect((await auth.byDigest(answer(c!, MAC, 'wrong'), 'GET', '/file.cfg', SOURCE)).kind).toBe('challenge');
    }
    const [c] = auth.challenge(SOURCE);
    expect(await auth.byDigest(answer(c!, MAC, secrets.password), 'GET', '/file.cfg', SOURCE)).toMatchObject({ kind: 'banned', mac: MAC });
    t += 60_001;
    const [fresh] = auth.challenge(SOURCE);
    expect((await auth.byDigest(answer(fresh!, MAC, secrets.password), 'GET', '/file.cfg', SOURCE)).kind).toBe('device');
    t += 301_000;
    expect(await auth.byDigest(answer(fresh!, MAC, secrets.password, '/file.cfg', '00000002'), 'GET', '/file.cfg', SOURCE)).toMatchObject({ kind: 'challenge', stale: true });
  });

  it('finds a device by its token; unknown tokens count as failures of the source', async () => {
    expect(await auth.byToken(secrets.token, SOURCE)).toMatchObject({ kind: 'device', device: { mac: MAC } });
    for (let i = 0; i < 3; i++) expect((await auth.byToken('B'.repeat(32), SOURCE)).kind).toBe('unknown-token');
    expect((await auth.byToken(secrets.token, SOURCE)).kind).toBe('banned');
    expect((await auth.byToken(secrets.token, '10.0.0.9')).kind).toBe('device');
  });
});
