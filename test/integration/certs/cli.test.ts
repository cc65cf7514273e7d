// `switchboard cert ...` against a real running server (issue 14 items 1 and 3):
// each command changes the data directory and the server presents the
// result at once, the command printing what each listener presented before
// and presents now; show lists the identities, trusted CAs and warnings.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';
import { startTestServer } from '../lib/server.ts';
import type { TestServer } from '../lib/server.ts';
import { cli } from '../lib/cli.ts';
import { tlsConnect } from '../../interop/lib/tls-probe.ts';
import { makeIdentity, toP12 } from './material.ts';

let ts: TestServer;
let httpPort = 0;
const file = (name: string, data: string | Buffer): string => {
  const p = join(ts.dataDir, `test-${name}`);
  writeFileSync(p, data);
  return p;
};
const cert = (...args: string[]) => cli('cert', ...args, '--data-dir', ts.dataDir);
/** The certificates a new handshake is shown, leaf first. */
async function presented(port: number): Promise<string[]> {
  const s = await tlsConnect(port);
  try {
    const out: string[] = [];
    for (let c: tls.DetailedPeerCertificate | undefined = s.getPeerCertificate(true); c && out.length < 5; c = c.issuerCertificate === c ? undefined : c.issuerCertificate) {
      out.push(c.fingerprint256);
    }
    return out;
  } finally {
    s.destroy();
  }
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const show = async (): Promise<any> => JSON.parse((await cert('show', '--json', '--domain', 'test.local')).stdout);

beforeAll(async () => {
  ts = await startTestServer({ http: true });
  httpPort = ts.server.http!.address().port;
}, 60_000);
afterAll(() => ts.stop());

describe('switchboard cert on a running server', () => {
  it('show lists the identity each listener presents and the root', async () => {
    const o = await show();
    const main = o.identities.find((i: { role: string }) => i.role === 'main');
    expect(main.source).toBe('auto');
    expect(main.presentedBy).toEqual(['SIP TLS', 'HTTPS']);
    expect(main.certificate.fingerprintSha256).toBe(ts.server.certificates.fingerprintSha256);
    expect(o.ca.fingerprintSha256).toBe(ts.server.certificates.caFingerprintSha256);
    const text = await cert('show', '--domain', 'test.local');
    expect(text.stdout).toContain(`SHA-256: ${ts.server.certificates.fingerprintSha256}`);
    expect(text.stdout).toContain('main identity (auto; presented by SIP TLS and HTTPS; offer chain off)');
  });

  it('issue with extra names applies at once and is kept as the administrator\'s', async () => {
    const old = ts.server.certificates.fingerprintSha256;
    const r = await cert('issue', '--cn', 'pbx.test.local', '--san', 'DNS:pbx.test.local,DNS:localhost,IP:127.0.0.1,URI:sip:test.local', '--days', '400', '--domain', 'test.local');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^issued main identity: CN=pbx\.test\.local/m);
    const now = ts.server.certificates.fingerprintSha256;
    expect(now).not.toBe(old);
    expect(r.stdout).toContain(`applied: SIP TLS and HTTPS management now present ${now} (was ${old})`);
    expect((await presented(ts.tlsPort))[0]).toBe(now);
    expect((await presented(httpPort))[0]).toBe(now);
    const main = (await show()).identities.find((i: { role: string }) => i.role === 'main');
    expect(main.source).toBe('issued');
    expect(main.certificate.subjectAltNames).toContain('DNS:pbx.test.local');
  });

  it('issue without --san proposes the SPEC §4.3 names from the running server\'s domain and addresses', async () => {
    const r = await cert('issue');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^proposed names: .*URI:sip:test\.local/m);
    expect(r.stdout).toMatch(/^proposed names: .*IP:127\.0\.0\.1/m);
  });

  it('import --p12 (with its password) is served; a wrong password is refused with a clear error and changes nothing', async () => {
    const made = await makeIdentity({ cn: 'imported.test.local' });
    const p12 = file('id.p12', toP12(made, 'Export-pw-1'));
    const before = ts.server.certificates.fingerprintSha256;
    const wrong = await cert('import', '--p12', p12, '--password', 'not-it');
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/password/i);
    expect(ts.server.certificates.fingerprintSha256).toBe(before);

    const r = await cert('import', '--p12', p12, '--password-file', file('p12-password', 'Export-pw-1\n'), '--domain', 'test.local');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`applied: SIP TLS and HTTPS management now present ${made.fingerprint} (was ${before})`);
    expect((await presented(ts.tlsPort))[0]).toBe(made.fingerprint);
    expect((await show()).identities.find((i: { role: string }) => i.role === 'main').source).toBe('imported');
  });

  it('import --key --chain (PEM) is served; offer-chain on sends its CA after it', async () => {
    const made = await makeIdentity({ cn: 'pem.test.local' });
    const r = await cert('import', '--key', file('id.key', made.keyPem), '--chain', file('chain.pem', made.certPem + made.caPem), '--domain', 'test.local');
    expect(r.code, r.stderr).toBe(0);
    expect((await presented(ts.tlsPort))[0]).toBe(made.fingerprint);
    expect(await presented(ts.tlsPort)).toHaveLength(1);
    const on = await cert('offer-chain', 'on');
    expect(on.code, on.stderr).toBe(0);
    expect(on.stdout).toContain('main identity: offer chain on');
    const chain = await presented(ts.tlsPort);
    expect(chain).toHaveLength(2);
    expect(chain[0]).toBe(made.fingerprint);
    expect((await cert('offer-chain', 'off')).code).toBe(0);
    expect(await presented(ts.tlsPort)).toHaveLength(1);
  });

  it('a telephony identity is what SIP TLS presents, HTTPS keeps the main one; removed, SIP TLS presents the main one again', async () => {
    const main = ts.server.certificates.fingerprintSha256;
    const r = await cert('issue', '--telephony', '--cn', 'sip.test.local', '--san', 'DNS:sip.test.local,IP:127.0.0.1', '--domain', 'test.local');
    expect(r.code, r.stderr).toBe(0);
    const line = /^applied: SIP TLS now presents (\S+) \(was (\S+)\)$/m.exec(r.stdout);
    expect(line, r.stdout).not.toBeNull();
    expect(line![2]).toBe(main);
    expect(r.stdout).toContain(`applied: HTTPS management now presents ${main} (unchanged)`);
    expect((await presented(ts.tlsPort))[0]).toBe(line![1]);
    expect((await presented(httpPort))[0]).toBe(main);
    const removed = await cert('remove-telephony');
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toContain(`applied: SIP TLS and HTTPS management now present ${main}`);
    expect((await presented(ts.tlsPort))[0]).toBe(main);
    expect((await cert('remove-telephony')).code).toBe(2);
  });

  it('trust add, list, export and remove a CA', async () => {
    const other = await makeIdentity();
    const add = await cert('trust', 'add', file('upstream.pem', other.caPem), '--label', 'Upstream root');
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toMatch(/^trusted Upstream root: /m);
    const list = await cert('trust', 'list');
    expect(list.stdout).toContain('Upstream root');
    const fingerprint = list.stdout.trim().split(/\s+/)[0]!;
    const out = join(ts.dataDir, 'test-export.cer');
    expect((await cert('trust', 'export', fingerprint.slice(0, 12), '--out', out, '--der')).code).toBe(0);
    expect((await show()).trusted.map((t: { label: string }) => t.label)).toEqual(['Upstream root']);
    const rm = await cert('trust', 'remove', fingerprint.slice(0, 12));
    expect(rm.code, rm.stderr).toBe(0);
    expect((await cert('trust', 'list')).stdout.trim()).toBe('no trusted CAs besides the internal root');
    // Not a CA: refused, nothing written.
    const leaf = await cert('trust', 'add', file('leaf.pem', other.certPem));
    expect(leaf.code).toBe(2);
  });

  it('families: an identity lacking what a selected family checks gets a warning naming the family', async () => {
    // The identity in use has no DNS entry for the LAN address, which E129 phones check (SPEC §4.3, Appendix A #25).
    const r = await cert('families', 'set', 'avaya-e129', '--domain', 'test.local');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^warning: main identity: .*E129/m);
    const o = await show();
    expect(o.clientFamilies.selected).toEqual(['avaya-e129']);
    expect(o.warnings.some((w: { kind: string; family?: string }) => w.kind === 'san' && w.family === 'avaya-e129')).toBe(true);
    expect((await cert('families', 'set', 'not-a-family')).code).toBe(2);
    expect((await cert('families', 'set', 'none')).stdout).toContain('client families: none');
  });
});
