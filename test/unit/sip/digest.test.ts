import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { digestResponse, DigestServer, ha1, hashHex, parseAuthHeader, quote } from '../../../src/sip/digest.ts';
import type { DigestAlgorithm, HashFn, VerifyResult } from '../../../src/sip/digest.ts';
import { chooseChallenge, DigestClient, parseDigestChallenge } from '../../../src/sip/digest-client.ts';
import { makeRng } from '../../lib/prng.ts';

// RFC 7616 §3.9.1
const RFC = {
  username: 'Mufasa',
  password: 'Circle of Life',
  realm: 'http-auth@example.org',
  uri: '/dir/index.html',
  method: 'GET',
  nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
  opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
  cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
  nc: '00000001',
  md5: '8ca523f5e9506fed4657c9700eebdbec',
  sha256: '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
};

const REALM = 'pbx.example.com';
const URI = 'sip:pbx.example.com';
const USERS: Record<string, string> = { '1001': 'secret-1001', '1002': 'pa"ss\\word' };

function lookup(username: string, realm: string, algorithm: DigestAlgorithm): string | undefined {
  const pw = USERS[username];
  return pw === undefined ? undefined : ha1(username, realm, pw, algorithm);
}

function param(header: string, name: string): string | undefined {
  return parseAuthHeader(header)?.params.get(name);
}

function fakeClock(start = 1_700_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => { t += ms; } };
}

describe('RFC 7616 §3.9.1 vectors', () => {
  it('digestResponse gives the RFC responses for MD5 and SHA-256', () => {
    for (const [alg, expected] of [['MD5', RFC.md5], ['SHA-256', RFC.sha256]] as const) {
      const h = ha1(RFC.username, RFC.realm, RFC.password, alg);
      const qop = { qop: 'auth' as const, nc: RFC.nc, cnonce: RFC.cnonce };
      expect(digestResponse(alg, h, RFC.nonce, RFC.method, RFC.uri, qop)).toBe(expected);
    }
  });

  it('ha1 and digestResponse give the RFC 2617 §3.5 values', () => {
    const h = ha1('Mufasa', 'testrealm@host.com', 'Circle Of Life');
    expect(h).toBe('939e7578ed9e3c518a452acee763bce9');
    const qop = { qop: 'auth' as const, nc: '00000001', cnonce: '0a4f113b' };
    expect(digestResponse('MD5', h, 'dcd98b7102dd2f0e8b11d0f600bfb0c093', 'GET', '/dir/index.html', qop))
      .toBe('6629fae49393a05397450978507c4ef1');
  });

  it('SHA-512-256 is the FIPS 180-4 SHA-512/256, and HA1 depends on realm and algorithm', () => {
    // FIPS 180-4 example for SHA-512/256 ("abc"): not SHA-256, not truncated SHA-512.
    expect(hashHex('SHA-512-256', 'abc')).toBe('53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23');
    const a = ha1('100', 'a', 'pw', 'SHA-512-256');
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(a).not.toBe(ha1('100', 'b', 'pw', 'SHA-512-256'));
    expect(a).not.toBe(ha1('100', 'a', 'pw', 'SHA-256'));
  });

  it('DigestClient answers the RFC challenges with the RFC responses', () => {
    for (const [alg, expected] of [['MD5', RFC.md5], ['SHA-256', RFC.sha256]] as const) {
      const client = new DigestClient({ username: RFC.username, password: RFC.password, cnonce: () => RFC.cnonce });
      const challenge = `Digest realm="${RFC.realm}", qop="auth, auth-int", algorithm=${alg}, ` +
        `nonce="${RFC.nonce}", opaque="${RFC.opaque}"`;
      const auth = client.authorize(challenge, RFC.method, RFC.uri);
      expect(auth).toBeDefined();
      const p = parseAuthHeader(auth as string)?.params;
      expect(p?.get('response')).toBe(expected);
      expect(p?.get('nc')).toBe(RFC.nc);
      expect(p?.get('qop')).toBe('auth');
      expect(p?.get('opaque')).toBe(RFC.opaque);
      expect(p?.get('algorithm')).toBe(alg);
      expect(p?.get('username')).toBe(RFC.username);
      expect(p?.get('uri')).toBe(RFC.uri);
    }
  });

  it('parses the RFC Authorization example', () => {
    const h = parseAuthHeader(`Digest username="Mufasa",\t realm="http-auth@example.org", uri="/dir/index.html",
      algorithm=SHA-256, nonce="${RFC.nonce}", nc=00000001, cnonce="${RFC.cnonce}", qop=auth,
      response="${RFC.sha256}", opaque="${RFC.opaque}"`.replace(/\n/g, ' '));
    expect(h?.scheme).toBe('Digest');
    expect(h?.params.size).toBe(10);
    expect(h?.params.get('algorithm')).toBe('SHA-256');
    expect(h?.params.get('response')).toBe(RFC.sha256);
  });
});

describe('parseAuthHeader', () => {
  it('unescapes quoted strings and tolerates whitespace and empty elements', () => {
    const h = parseAuthHeader('  digest  A = "x \\"y\\" \\\\z" ,, b=tok/with+chars==  ,c=""');
    expect(h?.scheme).toBe('digest');
    expect(h?.params.get('a')).toBe('x "y" \\z');
    expect(h?.params.get('b')).toBe('tok/with+chars==');
    expect(h?.params.get('c')).toBe('');
    expect(parseAuthHeader('Digest')?.params.size).toBe(0);
  });

  it('rejects duplicates, unterminated quotes and junk', () => {
    for (const bad of [
      'Digest a=1, A=2', 'Digest a="1', 'Digest a="1\\', 'Digest a', 'Digest a=', 'Digest =1',
      'Digest a=1 b=2', 'Digest a="x"y', '', '   ', '"Digest" a=1', 'Dig@st a=1', 'Digest a=b"c"',
      'Digest ' + 'x=1,'.repeat(3000),
    ]) expect(parseAuthHeader(bad), bad).toBeUndefined();
  });

  it('reads the token68 form only when asked, and then only when the whole rest fits it', () => {
    for (const v of ['Bearer abc.def-ghi==', 'Digest a', 'Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==']) {
      expect(parseAuthHeader(v)?.token68, v).toBeUndefined();
    }
    expect(parseAuthHeader('Digest a')).toBeUndefined();
    expect(parseAuthHeader('Bearer  mF_9.B5f-4.1JqM/+~ ', { token68: true })).toEqual({ scheme: 'Bearer', params: new Map(), token68: 'mF_9.B5f-4.1JqM/+~' });
    expect(parseAuthHeader('Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==', { token68: true })?.token68).toBe('QWxhZGRpbjpvcGVuIHNlc2FtZQ==');
    const params = parseAuthHeader('Digest realm="r", nonce=abc=', { token68: true });
    expect(params?.token68).toBeUndefined();
    expect(params?.params.get('nonce')).toBe('abc=');
    for (const bad of ['Bearer a=b c', 'Bearer ab c', 'Bearer a!b', 'Bearer "ab"']) expect(parseAuthHeader(bad, { token68: true }), bad).toBeUndefined();
  });

  it('quote escapes and strips control characters', () => {
    expect(quote('plain')).toBe('"plain"');
    expect(quote('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(quote('a\r\nWWW-Authenticate: x')).toBe('"aWWW-Authenticate: x"');
    expect(parseAuthHeader(`Digest u=${quote('a"b\\c')}`)?.params.get('u')).toBe('a"b\\c');
  });
});

describe('DigestServer challenges', () => {
  it('lists SHA-256 before MD5, with realm, qop, shared unique nonce and stale on request', () => {
    const server = new DigestServer({ realm: REALM, now: () => 1000 });
    const a = server.challenge();
    const b = server.challenge({ stale: true });
    expect(a.map((v) => param(v, 'algorithm'))).toEqual(['SHA-256', 'MD5']);
    for (const v of [...a, ...b]) {
      expect(param(v, 'realm')).toBe(REALM);
      expect(param(v, 'qop')).toBe('auth');
    }
    expect(param(a[0] as string, 'nonce')).toBe(param(a[1] as string, 'nonce'));
    expect(param(a[0] as string, 'nonce')).not.toBe(param(b[0] as string, 'nonce')); // same millisecond, still unique
    expect(param(a[0] as string, 'stale')).toBeUndefined();
    expect(param(b[0] as string, 'stale')).toBe('true');
    expect(param(a[0] as string, 'opaque')).toBeUndefined();
    const withOpaque = new DigestServer({ realm: REALM, algorithms: ['MD5'], opaque: 'op' }).challenge();
    expect(withOpaque).toHaveLength(1);
    expect(param(withOpaque[0] as string, 'opaque')).toBe('op');
  });
});

describe('DigestServer.verify', () => {
  function setup(opts: Partial<ConstructorParameters<typeof DigestServer>[0]> = {}) {
    const clock = fakeClock();
    const server = new DigestServer({ realm: REALM, now: clock.now, ...opts });
    return { clock, server };
  }

  function answer(server: DigestServer, user: string, password: string, o: { method?: string; uri?: string; pick?: number; bind?: string } = {}) {
    const values = server.challenge(o.bind === undefined ? undefined : { bind: o.bind });
    const client = new DigestClient({ username: user, password });
    const chosen = o.pick === undefined ? client.chooseChallenge(values) : values[o.pick];
    return { client, challenge: chosen as string, auth: client.authorize(chosen as string, o.method ?? 'REGISTER', o.uri ?? URI) as string };
  }

  it('round trip client -> server with SHA-256 and MD5, nc increments', () => {
    const { server } = setup();
    for (const pick of [0, 1]) {
      const { client, challenge, auth } = answer(server, '1002', USERS['1002'] as string, { pick });
      expect(server.verify(auth, 'REGISTER', URI, lookup)).toEqual({ kind: 'ok', username: '1002', algorithm: pick === 0 ? 'SHA-256' : 'MD5' });
      const second = client.authorize(challenge, 'INVITE', 'sip:1001@pbx.example.com') as string;
      expect(param(second, 'nc')).toBe('00000002');
      expect(param(second, 'cnonce')).not.toBe(param(auth, 'cnonce'));
      expect(server.verify(second, 'INVITE', 'sip:1001@pbx.example.com', lookup).kind).toBe('ok');
    }
  });

  it('wrong password, unknown user, wrong uri, wrong realm, wrong method', () => {
    const { server } = setup();
    const bad = answer(server, '1001', 'nope').auth;
    expect(server.verify(bad, 'REGISTER', URI, lookup)).toEqual({ kind: 'fail', reason: 'response', username: '1001' });
    const unknown = answer(server, '9999', 'whatever').auth;
    expect(server.verify(unknown, 'REGISTER', URI, lookup)).toEqual({ kind: 'fail', reason: 'response', username: '9999' });
    const good = answer(server, '1001', USERS['1001'] as string).auth;
    expect(server.verify(good, 'REGISTER', 'sip:other.example.com', lookup)).toMatchObject({ kind: 'fail', reason: 'uri' });
    expect(server.verify(good, 'INVITE', URI, lookup)).toMatchObject({ kind: 'fail', reason: 'response' });
    expect(server.verify(` ${good} `, 'REGISTER', ` ${URI} `, lookup).kind).toBe('ok');
    const other = new DigestServer({ realm: 'elsewhere' });
    expect(other.verify(good, 'REGISTER', URI, lookup)).toEqual({ kind: 'fail', reason: 'realm', username: '1001' });
  });

  it('answers stale after the nonce TTL only when the password is right', () => {
    const { server, clock } = setup({ nonceTtlMs: 60_000 });
    const values = server.challenge();
    const ok = new DigestClient({ username: '1001', password: USERS['1001'] as string });
    const wrong = new DigestClient({ username: '1001', password: 'x' });
    clock.advance(59_999);
    expect(server.verify(ok.authorize(values[0] as string, 'REGISTER', URI) as string, 'REGISTER', URI, lookup).kind).toBe('ok');
    clock.advance(2);
    expect(server.verify(ok.authorize(values[0] as string, 'REGISTER', URI) as string, 'REGISTER', URI, lookup))
      .toEqual({ kind: 'stale', username: '1001', reason: 'expired' });
    expect(server.verify(wrong.authorize(values[0] as string, 'REGISTER', URI) as string, 'REGISTER', URI, lookup))
      .toMatchObject({ kind: 'fail', reason: 'response' });
  });

  it('rejects forged, tampered, foreign and wrongly bound nonces', () => {
    const secret = Buffer.alloc(32, 7);
    const { server, clock } = setup({ secret });
    const { auth } = answer(server, '1001', USERS['1001'] as string);
    const nonce = param(auth, 'nonce') as string;
    const rnd = makeRng(1);
    const forged = Array.from({ length: 40 }, () => 'ABCxyz019-_'[Math.floor(rnd() * 11)]).join('');
    const tampered = nonce.slice(0, 30) + (nonce[30] === 'A' ? 'B' : 'A') + nonce.slice(31);
    const olderTs = 'AAAA' + nonce.slice(4); // timestamp rewritten: MAC no longer matches
    const client = new DigestClient({ username: '1001', password: USERS['1001'] as string });
    for (const n of [forged, tampered, olderTs, RFC.nonce, '', 'x'.repeat(500)]) {
      const a = client.authorize(`Digest realm="${REALM}", nonce="${n}", qop="auth", algorithm=SHA-256`, 'REGISTER', URI) as string;
      expect(server.verify(a, 'REGISTER', URI, lookup), n).toEqual({ kind: 'fail', reason: 'nonce', username: '1001' });
    }
    const stranger = new DigestServer({ realm: REALM });
    expect(stranger.verify(auth, 'REGISTER', URI, lookup)).toMatchObject({ kind: 'fail', reason: 'nonce' });
    const sibling = new DigestServer({ realm: REALM, secret, now: clock.now }); // shared secret: another node of the cluster
    expect(sibling.verify(auth, 'REGISTER', URI, lookup).kind).toBe('ok');

    const bound = answer(server, '1001', USERS['1001'] as string, { bind: '192.0.2.1' }).auth;
    expect(server.verify(bound, 'REGISTER', URI, lookup, { bind: '192.0.2.2' })).toMatchObject({ kind: 'fail', reason: 'nonce' });
    expect(server.verify(bound, 'REGISTER', URI, lookup)).toMatchObject({ kind: 'fail', reason: 'nonce' });
    expect(server.verify(bound, 'REGISTER', URI, lookup, { bind: '192.0.2.1' }).kind).toBe('ok');
  });

  it('rejects a replayed or lower nonce-count as stale, accepts a higher one', () => {
    const { server } = setup();
    const { client, challenge, auth } = answer(server, '1001', USERS['1001'] as string);
    expect(server.verify(auth, 'REGISTER', URI, lookup).kind).toBe('ok');
    expect(server.verify(auth, 'REGISTER', URI, lookup)).toEqual({ kind: 'stale', username: '1001', reason: 'replay' });
    const second = client.authorize(challenge, 'REGISTER', URI) as string;
    const third = client.authorize(challenge, 'REGISTER', URI) as string;
    expect(server.verify(third, 'REGISTER', URI, lookup).kind).toBe('ok');
    expect(server.verify(second, 'REGISTER', URI, lookup)).toMatchObject({ kind: 'stale', reason: 'replay' });
    // A guesser cannot poison the counter: a wrong response is not remembered.
    const fresh = answer(server, '1001', USERS['1001'] as string);
    const poisoned = fresh.auth.replace(/nc=00000001/, 'nc=ffffffff').replace(/response="[0-9a-f]+"/, `response="${'0'.repeat(64)}"`);
    expect(server.verify(poisoned, 'REGISTER', URI, lookup)).toMatchObject({ kind: 'fail', reason: 'response' });
    expect(server.verify(fresh.auth, 'REGISTER', URI, lookup).kind).toBe('ok');
  });

  it('keeps the nonce-count table bounded; an evicted nonce becomes stale, expired ones are dropped', () => {
    const { server, clock } = setup({ maxTrackedNonces: 3, nonceTtlMs: 10_000 });
    const first = answer(server, '1001', USERS['1001'] as string);
    expect(server.verify(first.auth, 'REGISTER', URI, lookup).kind).toBe('ok');
    for (let i = 0; i < 5; i++) {
      clock.advance(1);
      expect(server.verify(answer(server, '1001', USERS['1001'] as string).auth, 'REGISTER', URI, lookup).kind).toBe('ok');
      expect(server.trackedNonces).toBeLessThanOrEqual(3);
    }
    const again = first.client.authorize(first.challenge, 'REGISTER', URI) as string; // nc=2 on an evicted nonce
    expect(server.verify(again, 'REGISTER', URI, lookup)).toEqual({ kind: 'stale', username: '1001', reason: 'evicted' });
    clock.advance(20_000);
    expect(server.verify(answer(server, '1001', USERS['1001'] as string).auth, 'REGISTER', URI, lookup).kind).toBe('ok');
    expect(server.trackedNonces).toBe(1);
  });

  it('enforces algorithm and qop policy', () => {
    const { server } = setup({ algorithms: ['SHA-256'] });
    const md5 = new DigestClient({ username: '1001', password: USERS['1001'] as string })
      .authorize(server.challenge()[0]?.replace('SHA-256', 'MD5') as string, 'REGISTER', URI) as string;
    expect(server.verify(md5, 'REGISTER', URI, lookup)).toMatchObject({ kind: 'fail', reason: 'algorithm' });
    const sess = md5.replace('algorithm=MD5', 'algorithm=SHA-256-sess');
    expect(server.verify(sess, 'REGISTER', URI, lookup)).toMatchObject({ kind: 'fail', reason: 'algorithm' });

    // RFC 2069 style (no qop) only when allowed.
    const nonce = param(server.challenge()[0] as string, 'nonce') as string;
    const legacy = new DigestClient({ username: '1001', password: USERS['1001'] as string })
      .authorize(`Digest realm="${REALM}", nonce="${nonce}", algorithm=SHA-256`, 'REGISTER', URI) as string;
    expect(param(legacy, 'qop')).toBeUndefined();
    expect(param(legacy, 'nc')).toBeUndefined();
    expect(server.verify(legacy, 'REGISTER', URI, lookup)).toMatchObject({ kind: 'fail', reason: 'qop' });
    const lenient = new DigestServer({ realm: REALM, algorithms: ['SHA-256'], allowNoQop: true, secret: Buffer.alloc(32, 1) });
    const n2 = param(lenient.challenge()[0] as string, 'nonce') as string;
    const legacy2 = new DigestClient({ username: '1001', password: USERS['1001'] as string })
      .authorize(`Digest realm="${REALM}", nonce="${n2}", algorithm=SHA-256`, 'REGISTER', URI) as string;
    expect(lenient.verify(legacy2, 'REGISTER', URI, lookup).kind).toBe('ok');

    const authInt = answer(server, '1001', USERS['1001'] as string).auth.replace('qop=auth', 'qop=auth-int');
    expect(server.verify(authInt, 'REGISTER', URI, lookup)).toMatchObject({ kind: 'fail', reason: 'qop' });
  });

  it('requires the configured opaque back', () => {
    const { server } = setup({ opaque: 'o-123' });
    const { auth } = answer(server, '1001', USERS['1001'] as string);
    expect(param(auth, 'opaque')).toBe('o-123');
    expect(server.verify(auth, 'REGISTER', URI, lookup).kind).toBe('ok');
    const stripped = answer(server, '1001', USERS['1001'] as string).auth.replace(', opaque="o-123"', '');
    expect(server.verify(stripped, 'REGISTER', URI, lookup)).toMatchObject({ kind: 'fail', reason: 'opaque' });
  });

  it('reports malformed credentials', () => {
    const { server } = setup();
    const good = answer(server, '1001', USERS['1001'] as string).auth;
    const cases = [
      'Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==',
      good.replace(/username="1001", /, ''),
      good.replace(/, response="[0-9a-f]+"/, ''),
      good.replace(/nc=00000001/, 'nc=zz'),
      good.replace(/nc=00000001/, 'nc=000000001'),
      good.replace(/, cnonce="[0-9a-f]+"/, ''),
      good + ', username="1002"',
      good.slice(0, good.length - 10),
    ];
    for (const c of cases) expect(server.verify(c, 'REGISTER', URI, lookup).kind, c).toBe('malformed');
  });

  it('never throws on random or mutated input', () => {
    const { server } = setup();
    const good = answer(server, '1001', USERS['1001'] as string).auth;
    const rnd = makeRng(42);
    const alphabet = 'Digest usernamrlcoqp=",\\ \t\r\n0123456789abcdef-_/+:@;%\u00e9\u0000';
    const kinds = new Set<string>();
    for (let i = 0; i < 400; i++) {
      let s: string;
      if (i % 2 === 0) {
        const len = Math.floor(rnd() * 200);
        s = Array.from({ length: len }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join('');
        if (i % 4 === 0) s = 'Digest ' + s;
      } else {
        const chars = [...good];
        for (let k = 0; k < 1 + Math.floor(rnd() * 4); k++) {
          const at = Math.floor(rnd() * chars.length);
          chars[at] = alphabet[Math.floor(rnd() * alphabet.length)] as string;
        }
        s = chars.join('');
      }
      let r: VerifyResult | undefined;
      expect(() => { r = server.verify(s, 'REGISTER', URI, lookup); }).not.toThrow();
      expect(['ok', 'stale', 'fail', 'malformed']).toContain(r?.kind);
      kinds.add(r?.kind as string);
      expect(() => parseDigestChallenge(s)).not.toThrow();
      expect(() => new DigestClient({ username: 'u', password: 'p' }).authorize(s, 'REGISTER', URI)).not.toThrow();
    }
    expect(kinds.has('malformed')).toBe(true);
    expect(kinds.has('fail')).toBe(true);
  });

  it('does the same work for an unknown user as for a known one', () => {
    let hashes = 0;
    const counting: HashFn = (alg, input) => { hashes++; return hashHex(alg, input); };
    const { server } = setup({ hash: counting });
    const runs: Array<{ hashes: number; lookups: number; result: VerifyResult }> = [];
    for (const user of ['1001', '9999']) {
      for (const password of ['wrong', USERS['1001'] as string]) {
        const { auth } = answer(server, user, password);
        let lookups = 0;
        hashes = 0;
        const result = server.verify(auth, 'REGISTER', URI, (u, r, a) => { lookups++; return lookup(u, r, a); });
        runs.push({ hashes, lookups, result });
      }
    }
    expect(runs.map((r) => r.hashes)).toEqual([2, 2, 2, 2]);
    expect(runs.map((r) => r.lookups)).toEqual([1, 1, 1, 1]);
    expect(runs.map((r) => r.result.kind)).toEqual(['fail', 'ok', 'fail', 'fail']);
    const { username: _a, ...knownFail } = runs[0]?.result as { username: string };
    const { username: _b, ...unknownFail } = runs[2]?.result as { username: string };
    expect(unknownFail).toEqual(knownFail);
  });

  it('accepts an already parsed header', () => {
    const { server } = setup();
    const { auth } = answer(server, '1001', USERS['1001'] as string);
    const parsed = parseAuthHeader(auth);
    expect(parsed).toBeDefined();
    if (parsed) expect(server.verify(parsed, 'REGISTER', URI, lookup).kind).toBe('ok');
  });
});

describe('DigestClient', () => {
  it('chooseChallenge prefers the strongest supported algorithm, whatever the order', () => {
    const md5 = 'Digest realm="r", nonce="n1", algorithm=MD5, qop="auth"';
    const sha = 'Digest realm="r", nonce="n2", algorithm=SHA-256, qop="auth"';
    const odd = 'Digest realm="r", nonce="n3", algorithm=SHA-1, qop="auth"';
    const intOnly = 'Digest realm="r", nonce="n4", algorithm=SHA-512-256, qop="auth-conf"';
    expect(chooseChallenge([md5, sha])).toBe(sha);
    expect(chooseChallenge([odd, 'Basic realm="r"', md5, intOnly])).toBe(md5);
    expect(new DigestClient({ username: 'u', password: 'p' }).chooseChallenge([sha, md5])).toBe(sha);
    expect(chooseChallenge([odd, 'garbage'])).toBeUndefined();
  });

  it('refuses challenges it cannot answer', () => {
    const c = new DigestClient({ username: 'u', password: 'p' });
    expect(c.authorize('Basic realm="r"', 'REGISTER', URI)).toBeUndefined();
    expect(c.authorize('Digest realm="r", nonce="n", algorithm=SHA-1', 'REGISTER', URI)).toBeUndefined();
    expect(c.authorize('Digest nonce="n"', 'REGISTER', URI)).toBeUndefined();
    expect(c.authorize('Digest realm="r", nonce="n", qop="auth-conf"', 'REGISTER', URI)).toBeUndefined();
  });

  it('parses stale and keeps nc per nonce', () => {
    expect(parseDigestChallenge('Digest realm="r", nonce="n", stale=TRUE')?.stale).toBe(true);
    expect(parseDigestChallenge('Digest realm="r", nonce="n", stale=false')?.stale).toBe(false);
    const c = new DigestClient({ username: 'u', password: 'p' });
    const a = 'Digest realm="r", nonce="A", qop="auth"';
    const b = 'Digest realm="r", nonce="B", qop="auth"';
    expect(param(c.authorize(a, 'REGISTER', URI) as string, 'nc')).toBe('00000001');
    expect(param(c.authorize(b, 'REGISTER', URI) as string, 'nc')).toBe('00000001');
    expect(param(c.authorize(a, 'REGISTER', URI) as string, 'nc')).toBe('00000002');
  });

  it('computes auth-int over the body and the -sess HA1', () => {
    const md5 = (s: string | Buffer) => createHash('md5').update(s).digest('hex');
    const body = Buffer.from('v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n');
    const c = new DigestClient({ username: 'u', password: 'p', cnonce: () => 'cn' });
    const auth = c.authorize('Digest realm="r", nonce="n", qop="auth-int", algorithm=MD5-sess', 'INVITE', 'sip:x@r', body) as string;
    const h1 = md5(`${md5('u:r:p')}:n:cn`);
    const h2 = md5(`INVITE:sip:x@r:${md5(body)}`);
    expect(param(auth, 'qop')).toBe('auth-int');
    expect(param(auth, 'algorithm')).toBe('MD5-sess');
    expect(param(auth, 'response')).toBe(md5(`${h1}:n:00000001:cn:auth-int:${h2}`));
  });

  it('escapes what it quotes', () => {
    const c = new DigestClient({ username: 'we"ird\\user', password: 'p' });
    const auth = c.authorize('Digest realm="r\\"x", nonce="n", qop=auth', 'REGISTER', URI) as string;
    expect(param(auth, 'username')).toBe('we"ird\\user');
    expect(param(auth, 'realm')).toBe('r"x');
  });
});

describe('hashHex', () => {
  it('gives the same digests through the one-shot path as createHash', async () => {
    const { createHash } = await import('node:crypto');
    for (const alg of ['MD5', 'SHA-256', 'SHA-512-256'] as const) {
      const node = { 'MD5': 'md5', 'SHA-256': 'sha256', 'SHA-512-256': 'sha512-256' }[alg];
      for (const input of ['', 'abc', 'Mufasa:http-auth@example.org:Circle of Life', 'ünïcödé']) {
        expect(hashHex(alg, input)).toBe(createHash(node).update(input).digest('hex'));
      }
    }
  });
});
