// Where the certificate set lives under <dataDir>/certs and how it is
// written (SPEC §4.3, A-17): write-then-rename, private keys 0600, and the
// small metadata file each identity carries.
import { chmod, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** SPEC §3.5: the source shows 2555 days (7 years) for the identity. */
export const DEFAULT_IDENTITY_DAYS = 2555;

export type IdentityRole = 'main' | 'telephony';
/** 'auto': made at start and re-made when the names change; 'issued'/'imported': the administrator's, never replaced at start. */
export type IdentitySource = 'auto' | 'issued' | 'imported';

export interface IdentityMeta {
  source: IdentitySource;
  /** A-17 "Offer ID Certificate Chain": send the intermediates in handshakes. */
  offerChain: boolean;
  /** ISO time of the last change. */
  updatedAt: string;
}

/** An identity as TLS listeners need it. */
export interface TlsIdentityMaterial {
  certPem: string;
  keyPem: string;
  /** Sent after the certificate when offerChain (intermediates, leaf-side first; the CA for our own). */
  chainPems: string[];
  offerChain: boolean;
  source: IdentitySource;
  fingerprintSha256: string;
  notAfter: Date;
}

export interface IdentityPaths {
  cert: string;
  key: string;
  /** Intermediates (and for our own issued identity, the CA), leaf excluded. */
  chain: string;
  meta: string;
}

export interface CertificatePaths {
  dir: string;
  caCert: string;
  caKey: string;
  cert: string;
  key: string;
}

export function certificatePaths(dataDir: string): CertificatePaths {
  const dir = join(dataDir, 'certs');
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    cert: join(dir, 'server.crt'),
    key: join(dir, 'server.key'),
  };
}

export function identityPaths(dataDir: string, role: IdentityRole): IdentityPaths {
  const dir = join(dataDir, 'certs');
  const base = role === 'main' ? 'server' : 'telephony';
  return {
    cert: join(dir, `${base}.crt`),
    key: join(dir, `${base}.key`),
    chain: join(dir, `${base}-chain.pem`),
    meta: join(dir, `${base}.meta.json`),
  };
}

export async function readIfExists(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/**
 * Write-then-rename so a crash never leaves a half-written PEM; a crash
 * between key and certificate leaves a mismatch, which the next start detects
 * ('key-mismatch').
 */
export async function writeAtomic(path: string, data: string, mode: number): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, data, { mode });
  await chmod(tmp, mode); // a restrictive umask is fine, a loose one is not
  await rename(tmp, path);
}

/** Existing key files from an older run or copied in by hand may be world-readable; tighten them. */
export async function tightenKeyMode(path: string): Promise<void> {
  const st = await stat(path);
  if ((st.mode & 0o077) !== 0) await chmod(path, 0o600);
}

const SOURCES: readonly IdentitySource[] = ['auto', 'issued', 'imported'];

/**
 * The metadata on disk. A missing file reads as 'auto' without chain offer
 * (what older versions had); a damaged one as 'imported', so an
 * administrator's identity is never replaced at start by mistake.
 */
export async function readIdentityMeta(paths: IdentityPaths): Promise<IdentityMeta> {
  const text = await readIfExists(paths.meta);
  const fallback: IdentityMeta = { source: 'auto', offerChain: false, updatedAt: new Date(0).toISOString() };
  if (text === null) return fallback;
  try {
    const v = JSON.parse(text) as Partial<IdentityMeta>;
    return {
      source: SOURCES.includes(v.source as IdentitySource) ? (v.source as IdentitySource) : 'auto',
      offerChain: v.offerChain === true,
      updatedAt: typeof v.updatedAt === 'string' ? v.updatedAt : fallback.updatedAt,
    };
  } catch {
    return { ...fallback, source: 'imported' };
  }
}

export async function writeIdentityMeta(paths: IdentityPaths, meta: IdentityMeta): Promise<void> {
  await writeAtomic(paths.meta, `${JSON.stringify(meta, null, 2)}\n`, 0o644);
}
