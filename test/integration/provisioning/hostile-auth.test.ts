// The provisioning server against hostile credentials (team standard "bad
// input", SPEC §4.6, §4.7): malformed and oversized Authorization headers,
// nonces stale, foreign or replayed, one device's response under another's
// name, password guessing from many sources and URL token guessing. Each
// gets a challenge, a 404 or a 429, never a file; legitimate devices keep
// getting theirs; each source is logged once per interval; no secret is
// ever logged. Server time is manual (nonce lifetime, ban windows, log
// intervals); sockets are real.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../lib/server.ts';
import { challenges, digestAuthorization, digestRequest, rawRequest, type RawAnswer, type RawTarget } from './raw-http.ts';

const A = '0004f20000a1';
const B = '0004f20000b2';
const C = '0004f20000c3';
const LINE_SECRET: Record<string, string> = { [A]: 'Line-A-secret-1001', [B]: 'Line-B-secret-1002', [C]: 'Line-C-secret-1003' };
const FILE: Record<string, string> = { [A]: '/avayab179.xml', [B]: '/avayab179.xml', [C]: '/46xxsettings.txt' };
/** What each device's own file shows (a 46xx file carries no line password). */
const MARKER: Record<string, string> = { [A]: LINE_SECRET[A]!, [B]: LINE_SECRET[B]!, [C]: 'SET SIP_CONTROLLER_LIST' };

describe('provisioning server: hostile credentials', () => {
  let ts: TestServer;
  let ca: string;
  const secrets = new Map<string, { password: string; token: string }>();
  const at = (from: string): RawTarget => ({ port: ts.server.provisioning!.https.port, ca, from });
  /** A device's own fetch by digest from `from` (default 127.0.0.1). */
  const fetchOwn = (mac: string, from = '127.0.0.1'): Promise<RawAnswer> => digestRequest(at(from), { path: FILE[mac]! }, mac, secrets.get(mac)!.password);
  const challengeFor = async (from: string, path: string) => {
    const r = await rawRequest(at(from), { path });
    expect(r.status).toBe(401);
    return challenges(r)[0]!;
  };
  const expectOwnFile = async (mac: string, from = '127.0.0.1') => {
    const r = await fetchOwn(mac, from);
    expect(r.status, `${mac} from ${from}`).toBe(200);
    expect(r.body).toContain(MARKER[mac]);
    for (const [other, s] of Object.entries(LINE_SECRET)) if (other !== mac) expect(r.body).not.toContain(s);
  };
  const noSecretIn = (r: RawAnswer) => {
    for (const s of Object.values(LINE_SECRET)) expect(r.body).not.toContain(s);
  };
  const warningsFrom = (source: string) => ts.log.entries.filter((e) => e.level === 'warn' && (e.obj as { source?: string }).source === source);

  beforeAll(async () => {
    ts = await startTestServer({ provisioning: true, manualTime: true });
    ca = ts.server.certificates.caCertPem;
    const { store } = ts.server;
    for (const [mac, family, ext] of [[A, 'avaya-b179', '1001'], [B, 'avaya-b179', '1002'], [C, 'avaya-46xx', '1003']] as const) {
      await store.users.add({ extension: ext, password: LINE_SECRET[mac]! });
      const { secrets: s } = await store.devices.add({ mac, family, extensions: [ext] });
      secrets.set(mac, s);
    }
  });
  afterAll(() => ts?.stop());

  it('answers garbage, incomplete and unknown-algorithm credentials with a fresh challenge, and oversized ones with 431', async () => {
    const from = '127.0.0.11';
    const c = await challengeFor(from, FILE[A]!);
    const good = digestAuthorization({ username: A, password: secrets.get(A)!.password, method: 'GET', uri: FILE[A]!, challenge: c });
    const headers = [
      'garbage',
      'Digest',
      'Digest ,,,,',
      'Digest username=',
      'Digest username="unterminated',
      `Basic ${Buffer.from(`${A}:${secrets.get(A)!.password}`).toString('base64')}`,
      `Digest username="${A}"`,
      `Digest username="${A}", realm="${c.realm}", nonce="${c.nonce}", uri="${FILE[A]}"`,
      good.replace('algorithm=SHA-256', 'algorithm=SHA-512'),
      good.replace('algorithm=SHA-256', 'algorithm=SHA-256-sess'),
      good.replace('qop=auth', 'qop=auth-int'),
      good.replace(`uri="${FILE[A]}"`, 'uri="/ca.pem"'),
      good.replace(/realm="[^"]*"/, 'realm="elsewhere"'),
      good.replace(/nc=\w+/, 'nc=zzzzzzzz'),
      good.replace(/response="\w+"/, 'response=""'),
      `Digest username="${'x'.repeat(3000)}", realm="${c.realm}", nonce="${c.nonce}", uri="${FILE[A]}", qop=auth, nc=00000001, cnonce="a", response="${'0'.repeat(64)}"`,
      `Digest ${'a=b, '.repeat(1000)}username="${A}"`,
    ];
    for (const h of headers) {
      const r = await rawRequest(at(from), { path: FILE[A]!, headers: { Authorization: h } });
      expect(r.status, h.slice(0, 80)).toBe(401);
      expect(challenges(r).length, h.slice(0, 80)).toBeGreaterThan(0);
      noSecretIn(r);
    }
    // Beyond the 8 KiB of headers Node parses: 431, and the connection closes.
    const huge = await rawRequest(at(from), { path: FILE[A]!, headers: { Authorization: `Digest username="${'y'.repeat(9000)}"` } });
    expect(huge.status).toBe(431);
    await expectOwnFile(A);
  });

  it("refuses a nonce issued to another source, a replayed nonce count and a stale nonce; the device gets in with a fresh one", async () => {
    const { password } = secrets.get(A)!;
    const path = FILE[A]!;
    // Another address's nonce with the right password: a fresh (stale=true) challenge, no file.
    const foreign = await challengeFor('127.0.0.12', path);
    const stolen = await rawRequest(at('127.0.0.1'), { path, headers: { Authorization: digestAuthorization({ username: A, password, method: 'GET', uri: path, challenge: foreign }) } });
    expect(stolen.status).toBe(401);
    expect(challenges(stolen)[0]!.stale).toBe(true);
    noSecretIn(stolen);

    // A replayed nonce count is refused; the next count on the same nonce is not.
    const c = await challengeFor('127.0.0.1', path);
    const once = digestAuthorization({ username: A, password, method: 'GET', uri: path, challenge: c, nc: 1, cnonce: 'abc' });
    expect((await rawRequest(at('127.0.0.1'), { path, headers: { Authorization: once } })).status).toBe(200);
    const replay = await rawRequest(at('127.0.0.1'), { path, headers: { Authorization: once } });
    expect(replay.status).toBe(401);
    noSecretIn(replay);
    const next = digestAuthorization({ username: A, password, method: 'GET', uri: path, challenge: c, nc: 2, cnonce: 'abc' });
    expect((await rawRequest(at('127.0.0.1'), { path, headers: { Authorization: next } })).status).toBe(200);

    // Past the nonce lifetime (auth.nonceTtlSec, 300 s): stale=true, then a fresh nonce works.
    const old = await challengeFor('127.0.0.1', path);
    await ts.advance(301_000);
    const late = await rawRequest(at('127.0.0.1'), { path, headers: { Authorization: digestAuthorization({ username: A, password, method: 'GET', uri: path, challenge: old }) } });
    expect(late.status).toBe(401);
    expect(challenges(late)[0]!.stale).toBe(true);
    noSecretIn(late);
    await expectOwnFile(A);
  });

  it("refuses one device's response under another device's name, and one device's password for another", async () => {
    const from = '127.0.0.14';
    const path = FILE[B]!;
    const c = await challengeFor(from, path);
    // A's valid response with B's name (same file name: both are B179s).
    const asA = digestAuthorization({ username: A, password: secrets.get(A)!.password, method: 'GET', uri: path, challenge: c });
    // Each counts as a wrong password for B from this source: five, then 429.
    const got: number[] = [];
    for (const name of [B, B.toUpperCase(), B.match(/../g)!.join(':').toUpperCase()]) {
      const r = await rawRequest(at(from), { path, headers: { Authorization: asA.replace(`username="${A}"`, `username="${name}"`) } });
      noSecretIn(r);
      // B's name in any spelling with A's password.
      const r2 = await digestRequest(at(from), { path }, name, secrets.get(A)!.password);
      noSecretIn(r2);
      got.push(r.status, r2.status);
    }
    expect(got).toEqual([401, 401, 401, 401, 401, 429]);
    // A's own credentials ask for C's file: the same 404 as for no file at all.
    const other = await digestRequest(at(from), { path: FILE[C]! }, A, secrets.get(A)!.password);
    expect(other.status).toBe(404);
    noSecretIn(other);
    // Two devices with the same file name each get their own.
    await expectOwnFile(A, from);
    await expectOwnFile(B, '127.0.0.17');
  });

  it('holds the rate limit against wrong passwords from many sources; the device keeps its file where it proved itself, other devices everywhere', async () => {
    await expectOwnFile(A); // A proves itself from 127.0.0.1 before the attack.
    const path = FILE[A]!;
    const statuses = new Map<string, number[]>();
    for (let i = 1; i <= 15; i++) {
      const from = `127.0.1.${i}`;
      const c = await challengeFor(from, path);
      const got: number[] = [];
      for (let nc = 1; nc <= 6; nc++) {
        const r = await rawRequest(at(from), { path, headers: { Authorization: digestAuthorization({ username: A, password: `guess-${i}-${nc}`, method: 'GET', uri: path, challenge: c, nc }) } });
        noSecretIn(r);
        got.push(r.status);
      }
      statuses.set(from, got);
    }
    // Each source: five wrong answers, then refused (the pair rule) and nothing but refusals.
    expect(statuses.get('127.0.1.1')).toEqual([401, 401, 401, 401, 401, 429]);
    for (const [from, got] of statuses) {
      expect(got.every((s) => s === 401 || s === 429), from).toBe(true);
      expect(got.at(-1), from).toBe(429);
    }
    // 75 failures for A across sources close A to new sources even with the right password...
    const fresh = await fetchOwn(A, '127.0.1.100');
    expect(fresh.status).toBe(429);
    expect(fresh.headers.get('retry-after')?.[0]).toMatch(/^\d+$/);
    noSecretIn(fresh);
    // ...but not where A proved itself, and not to other devices from anywhere.
    await expectOwnFile(A, '127.0.0.1');
    await expectOwnFile(C, '127.0.1.100');
    await expectOwnFile(B, '127.0.1.1');
  });

  it('stops URL token guessing from a source after five; the real token works from elsewhere', async () => {
    const from = '127.0.0.13';
    const got: number[] = [];
    for (let i = 0; i < 8; i++) {
      const guess = `${'G'.repeat(28)}${String(i).padStart(4, '0')}`;
      const r = await rawRequest(at(from), { path: `/d/${guess}${FILE[A]}` });
      noSecretIn(r);
      got.push(r.status);
    }
    expect(got).toEqual([404, 404, 404, 404, 404, 429, 429, 429]);
    // Implausible tokens (wrong length, odd characters, huge) are unknown tokens too.
    for (const t of ['x', '%00', 'A'.repeat(400)]) {
      expect((await rawRequest(at('127.0.0.15'), { path: `/d/${t}${FILE[A]}` })).status).toBe(404);
    }
    // The banned source does not get in with the real token either; another source does.
    expect((await rawRequest(at(from), { path: `/d/${secrets.get(A)!.token}${FILE[A]}` })).status).toBe(429);
    const ok = await rawRequest(at('127.0.0.16'), { path: `/d/${secrets.get(A)!.token}${FILE[A]}` });
    expect(ok.status).toBe(200);
    expect(ok.body).toContain(LINE_SECRET[A]);
    // Another device's file through A's token: 404.
    expect((await rawRequest(at('127.0.0.16'), { path: `/d/${secrets.get(A)!.token}${FILE[C]}` })).status).toBe(404);
  });

  it('logs each failing source once per interval, with the count it left unlogged', async () => {
    // Every source above failed many times in this minute of server time: one line each.
    for (const source of ['127.0.0.11', '127.0.0.13', '127.0.1.1', '127.0.1.15']) expect(warningsFrom(source), source).toHaveLength(1);
    await ts.advance(61_000);
    const r = await rawRequest(at('127.0.0.11'), { path: FILE[A]!, headers: { Authorization: 'garbage' } });
    expect(r.status).toBe(401);
    const lines = warningsFrom('127.0.0.11');
    expect(lines).toHaveLength(2);
    expect((lines[1]!.obj as { unloggedSinceLast?: number }).unloggedSinceLast).toBeGreaterThan(10);
  });

  it('never puts a device password, URL token or line password in a log line, the request log or a last fetch', async () => {
    await ts.server.provisioning!.flush();
    const logged = JSON.stringify(ts.log.entries) + JSON.stringify(ts.server.provisioning!.recent());
    const fetches = JSON.stringify(await Promise.all([A, B, C].map((m) => ts.server.store.devices.get(m).then((d) => d?.lastFetch))));
    expect(ts.server.provisioning!.recent().some((r) => r.file.startsWith('/d/'))).toBe(true);
    for (const mac of [A, B, C]) {
      for (const s of [secrets.get(mac)!.password, secrets.get(mac)!.token, LINE_SECRET[mac]!]) {
        expect(logged).not.toContain(s);
        expect(fetches).not.toContain(s);
      }
    }
  });
});
