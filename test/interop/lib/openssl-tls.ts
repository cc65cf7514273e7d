// Debian's openssl as an outside witness of what a TLS listener presents
// (`openssl s_client -showcerts`) and as the maker of certificates nobody
// here wrote (a small CA, an identity it signs, a PKCS#12 export of both).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeRun, requireTool, runTool } from '../process.ts';

async function openssl(args: string[], cwd?: string): Promise<string> {
  const r = await runTool(requireTool('openssl'), args, { timeoutMs: 30_000, cwd });
  if (r.code !== 0) throw new Error(`openssl failed\n${describeRun(r)}`);
  return r.stdout;
}

/** The certificates a new handshake on host:port is shown, leaf first (PEM each). */
export async function presentedChain(port: number, workDir: string, host = '127.0.0.1'): Promise<string[]> {
  // stdin closed: s_client ends right after the handshake.
  const out = await openssl(['s_client', '-connect', `${host}:${port}`, '-servername', 'localhost', '-showcerts']);
  const chain = out.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (chain.length === 0) throw new Error(`s_client showed no certificate on ${host}:${port}\n${out}`);
  writeFileSync(join(workDir, `presented-${port}.pem`), chain[0]!);
  return chain;
}

/** SHA-256 fingerprint of a PEM certificate as openssl prints it ("AB:CD:…"), i.e. Node's fingerprint256 form. */
export async function opensslFingerprint(pem: string, workDir: string): Promise<string> {
  const file = join(workDir, `fp-${Date.now()}-${Math.random().toString(16).slice(2)}.pem`);
  writeFileSync(file, pem);
  const out = await openssl(['x509', '-in', file, '-noout', '-fingerprint', '-sha256']);
  const m = /Fingerprint=([0-9A-F:]+)/i.exec(out);
  if (m === null) throw new Error(`no fingerprint in: ${out}`);
  return m[1]!.toUpperCase();
}

/** Fingerprint of the leaf a new handshake on the port is shown. */
export async function presentedFingerprint(port: number, workDir: string, host = '127.0.0.1'): Promise<string> {
  return opensslFingerprint((await presentedChain(port, workDir, host))[0]!, workDir);
}

export interface OpensslIdentity {
  caPem: string;
  certPem: string;
  /** The same as PEM files: the CA, the identity's certificate and its key (unencrypted). */
  caFile: string;
  certFile: string;
  keyFile: string;
  /** The PKCS#12 file: key, certificate and the CA. */
  p12File: string;
  fingerprint: string;
}

/**
 * A CA made with `openssl req -x509`, an RSA-2048 identity it signs for
 * `names` (DNS and IP SANs), and `openssl pkcs12 -export` of the identity with
 * its key and CA under `password` (an empty one is a p12 without password).
 */
export async function opensslP12(workDir: string, cn: string, names: string[], password: string): Promise<OpensslIdentity> {
  const at = (f: string) => join(workDir, f);
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '30', '-subj', '/CN=Interop Test Root/O=Debian openssl',
    '-keyout', at('p12-ca.key'), '-out', at('p12-ca.crt'), '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-subj', `/CN=${cn}/O=Debian openssl`, '-keyout', at('p12-id.key'), '-out', at('p12-id.csr')]);
  writeFileSync(at('p12-id.ext'), `subjectAltName=${names.join(',')}\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n`);
  await openssl(['x509', '-req', '-in', at('p12-id.csr'), '-CA', at('p12-ca.crt'), '-CAkey', at('p12-ca.key'), '-CAcreateserial', '-days', '30', '-sha256',
    '-extfile', at('p12-id.ext'), '-out', at('p12-id.crt')]);
  await openssl(['pkcs12', '-export', '-inkey', at('p12-id.key'), '-in', at('p12-id.crt'), '-certfile', at('p12-ca.crt'), '-name', cn,
    '-passout', `pass:${password}`, '-out', at('identity.p12')]);
  const certPem = readFileSync(at('p12-id.crt'), 'utf8');
  return {
    caPem: readFileSync(at('p12-ca.crt'), 'utf8'), certPem, caFile: at('p12-ca.crt'), certFile: at('p12-id.crt'), keyFile: at('p12-id.key'),
    p12File: at('identity.p12'), fingerprint: await opensslFingerprint(certPem, workDir),
  };
}
