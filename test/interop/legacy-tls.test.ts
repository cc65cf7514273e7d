// SPEC EC-03, Appendix A #13: the "legacy TLS" switch, both directions,
// against Debian's openssl as the other side. Off (default): our ClientHello
// offers TLS 1.2+ with modern suites (a TLS-1.2-only server with one AEAD
// suite accepts it) and a TLS 1.0/1.1-only peer is refused with a version
// reason. On: that old peer is accepted. The SIP listener logs the version
// and suites of an old client it refused.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRootCa, issueCertificate } from '../../src/security/ca.ts';
import type { CaMaterial } from '../../src/security/ca.ts';
import { classifyTlsError, tlsClientOptions } from '../../src/security/tls-policy.ts';
import { startTestServer, type TestServer } from '../integration/lib/server.ts';
import { LOOPBACK, describeRun, freePort, makeTempDir, removeDir, requireTool, runTool, stopChild } from './process.ts';

const PEER = 'peer.example.test';
let dir: string;
let ca: CaMaterial;
let identity: { certPem: string; keyPem: string; caCertPem: string };
const children: ChildProcess[] = [];

beforeAll(async () => {
  requireTool('openssl');
  dir = makeTempDir('sb-legacy-tls-');
  ca = await createRootCa();
  const peer = await issueCertificate(ca, { commonName: PEER, dns: [PEER], days: 5 });
  writeFileSync(join(dir, 'peer.crt'), peer.certPem);
  writeFileSync(join(dir, 'peer.key'), peer.keyPem);
  // What our side presents when asked (not here): an identity of the same CA.
  const ours = await issueCertificate(ca, { commonName: 'gw.example.test', dns: ['gw.example.test'], days: 5, keys: peer.keys });
  identity = { certPem: ours.certPem, keyPem: ours.keyPem, caCertPem: ca.certPem };
});

afterAll(async () => {
  for (const c of children) await stopChild(c, 2000);
  if (dir) removeDir(dir);
});

/** `openssl s_server` on a fresh loopback port with the given protocol flags, listening once "ACCEPT" is printed. */
async function opensslServer(flags: string[]): Promise<{ port: number; output: () => string }> {
  const port = await freePort();
  // stdin stays open: s_server ends at EOF on it.
  const child = spawn(requireTool('openssl'), ['s_server', '-accept', `${LOOPBACK}:${port}`, '-cert', join(dir, 'peer.crt'), '-key', join(dir, 'peer.key'), ...flags], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (out += c));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`s_server did not start: ${out}`)), 10_000);
    const check = () => {
      if (out.includes('ACCEPT')) {
        clearTimeout(t);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', () => reject(new Error(`s_server ended: ${out}`)));
  });
  return { port, output: () => out };
}

type Outcome = { ok: true; protocol: string | null; cipher: string } | { ok: false; error: NodeJS.ErrnoException };

/** One handshake of our TLS client (as the gateway's lines build it) with the openssl server. */
function connect(port: number, legacyTls: boolean): Promise<Outcome> {
  return new Promise((resolve) => {
    const opts = tlsClientOptions(identity, { legacyTls, rejectUnauthorized: true, servername: PEER });
    const s = tls.connect({ ...opts, host: LOOPBACK, port });
    const t = setTimeout(() => s.destroy(new Error('handshake timed out')), 10_000);
    s.once('secureConnect', () => {
      clearTimeout(t);
      resolve({ ok: true, protocol: s.getProtocol(), cipher: s.getCipher().name });
      s.destroy();
    });
    s.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(t);
      resolve({ ok: false, error });
    });
  });
}

describe('our TLS client against openssl servers', () => {
  it('a TLS-1.2-only server with one AEAD suite accepts our default ClientHello', async () => {
    const srv = await opensslServer(['-tls1_2', '-cipher', 'ECDHE-RSA-AES128-GCM-SHA256']);
    expect(await connect(srv.port, false)).toEqual({ ok: true, protocol: 'TLSv1.2', cipher: 'ECDHE-RSA-AES128-GCM-SHA256' });
  });

  it('a TLS-1.1-only server is refused with a version reason by default, and accepted with legacy TLS on', async () => {
    const old = await opensslServer(['-tls1_1', '-cipher', 'DEFAULT:@SECLEVEL=0']);
    const refused = await connect(old.port, false);
    expect(refused.ok).toBe(false);
    const info = classifyTlsError((refused as { error: Error }).error, { legacyTls: false });
    expect(info.category).toBe('version');
    expect(info.message).toMatch(/legacy TLS is off/);
    const accepted = await connect(old.port, true);
    expect(accepted).toMatchObject({ ok: true, protocol: 'TLSv1.1' });
    // The modern server still gets TLS 1.2+ when legacy is on: the switch widens, it never downgrades.
    const modern = await opensslServer(['-tls1_2', '-cipher', 'ECDHE-RSA-AES128-GCM-SHA256']);
    expect(await connect(modern.port, true)).toMatchObject({ ok: true, protocol: 'TLSv1.2' });
  });
});

describe('an old openssl client against our SIP TLS listener', () => {
  let strict: TestServer;
  let legacy: TestServer;
  beforeAll(async () => {
    strict = await startTestServer();
    legacy = await startTestServer({ config: { sip: { legacyTls: true } } });
  });
  afterAll(async () => {
    await strict?.stop();
    await legacy?.stop();
  });

  const oldClient = (port: number) => runTool(requireTool('openssl'), [
    's_client', '-connect', `${LOOPBACK}:${port}`, '-tls1_1', '-cipher', 'DEFAULT:@SECLEVEL=0',
  ], { timeoutMs: 15_000 });

  it('is refused by default and the listener logs the version and suites it refused', async () => {
    const r = await oldClient(strict.tlsPort);
    expect(r.stdout, describeRun(r)).toMatch(/Cipher is \(NONE\)/);
    const line = strict.log.entries.find((e) => (e.obj as { kind?: string }).kind === 'tls-handshake');
    expect(line, JSON.stringify(strict.log.entries.slice(-5))).toBeDefined();
    const detail = (line!.obj as { detail: string }).detail;
    expect(detail).toMatch(/legacy TLS is off/);
    expect(detail).toMatch(/client offered up to TLS 1\.1, suites [A-Z0-9-]+/);
  });

  it('is accepted with sip.legacyTls on', async () => {
    const r = await oldClient(legacy.tlsPort);
    expect(r.stdout, describeRun(r)).toMatch(/Protocol\s*: TLSv1\.1/);
    expect(r.stdout).not.toMatch(/Cipher is \(NONE\)/);
  });
});
