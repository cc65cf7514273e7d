// SIP digest authentication, client side: our UAC and the handset gateway
// registering upstream answer 401/407 challenges with this.

import { randomBytes } from 'node:crypto';
import { parseAuthHeader, quote } from './auth-params.ts';
import { digestResponse, ha1, hashHex, parseAlgorithm } from './digest.ts';
import type { DigestAlgorithm, QopInput } from './digest.ts';

/** Preference when several challenges are offered: strongest first (RFC 8760; OpenSIPS does the same). */
const STRENGTH: Record<DigestAlgorithm, number> = { 'MD5': 1, 'SHA-256': 2, 'SHA-512-256': 3 };

export interface DigestChallenge {
  realm: string;
  nonce: string;
  /** The algorithm token as the server wrote it, or undefined (meaning MD5). */
  algorithmToken?: string;
  algorithm: DigestAlgorithm;
  sess: boolean;
  /** Offered qop values, lower-case; empty for an RFC 2069 challenge. */
  qop: string[];
  opaque?: string;
  stale: boolean;
}

/** Parse a WWW-Authenticate / Proxy-Authenticate value; undefined unless it is a Digest challenge we can answer. */
export function parseDigestChallenge(value: string): DigestChallenge | undefined {
  const h = parseAuthHeader(value);
  if (h === undefined || h.scheme.toLowerCase() !== 'digest') return undefined;
  const realm = h.params.get('realm');
  const nonce = h.params.get('nonce');
  if (realm === undefined || nonce === undefined) return undefined;
  const algorithmToken = h.params.get('algorithm');
  const alg = parseAlgorithm(algorithmToken);
  if (alg === undefined) return undefined;
  const qopRaw = h.params.get('qop');
  const qop = qopRaw === undefined ? [] : qopRaw.split(',').map((q) => q.trim().toLowerCase()).filter((q) => q !== '');
  const c: DigestChallenge = {
    realm, nonce, algorithm: alg.algorithm, sess: alg.sess, qop,
    stale: h.params.get('stale')?.toLowerCase() === 'true',
  };
  if (algorithmToken !== undefined) c.algorithmToken = algorithmToken;
  const opaque = h.params.get('opaque');
  if (opaque !== undefined) c.opaque = opaque;
  return c;
}

/** Of several challenge values, the one with the strongest algorithm we support (first wins ties). */
export function chooseChallenge(values: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestRank = 0;
  for (const v of values) {
    const c = parseDigestChallenge(v);
    if (c === undefined) continue;
    if (c.qop.length > 0 && !c.qop.includes('auth') && !c.qop.includes('auth-int')) continue;
    const rank = STRENGTH[c.algorithm];
    if (rank > bestRank) { best = v; bestRank = rank; }
  }
  return best;
}

export interface DigestClientOptions {
  username: string;
  password: string;
  /** cnonce source; default 16 random bytes, hex. Injectable for test vectors. */
  cnonce?: () => string;
}

const CLIENT_NONCES = 32;

export class DigestClient {
  private readonly username: string;
  private readonly password: string;
  private readonly makeCnonce: () => string;
  /** nonce -> last nc used; a few recent nonces are enough for a UA. */
  private readonly ncByNonce = new Map<string, number>();

  constructor(opts: DigestClientOptions) {
    this.username = opts.username;
    this.password = opts.password;
    this.makeCnonce = opts.cnonce ?? (() => randomBytes(16).toString('hex'));
  }

  chooseChallenge(values: readonly string[]): string | undefined {
    return chooseChallenge(values);
  }

  /**
   * An Authorization / Proxy-Authorization value answering the challenge, or
   * undefined when it is not a Digest challenge we support. `uri` is the
   * Request-URI as it will be sent. Prefers qop=auth, uses auth-int only when
   * it is the sole qop offered.
   */
  authorize(challengeHeaderValue: string, method: string, uri: string, body?: Buffer): string | undefined {
    const c = parseDigestChallenge(challengeHeaderValue);
    if (c === undefined) return undefined;
    let qopName: 'auth' | 'auth-int' | undefined;
    if (c.qop.length > 0) {
      if (c.qop.includes('auth')) qopName = 'auth';
      else if (c.qop.includes('auth-int')) qopName = 'auth-int';
      else return undefined;
    }
    let qop: QopInput | undefined;
    let cnonce: string | undefined;
    if (qopName !== undefined || c.sess) cnonce = this.makeCnonce();
    if (qopName !== undefined && cnonce !== undefined) {
      const nc = this.nextNc(c.nonce);
      qop = { qop: qopName, nc: nc.toString(16).padStart(8, '0'), cnonce };
      if (body !== undefined) qop.body = body;
    }
    let secret = ha1(this.username, c.realm, this.password, c.algorithm);
    if (c.sess) secret = hashHex(c.algorithm, `${secret}:${c.nonce}:${cnonce ?? ''}`);
    const response = digestResponse(c.algorithm, secret, c.nonce, method, uri, qop);
    let out = `Digest username=${quote(this.username)}, realm=${quote(c.realm)}, nonce=${quote(c.nonce)}` +
      `, uri=${quote(uri)}, response="${response}"`;
    if (c.algorithmToken !== undefined) out += `, algorithm=${c.algorithmToken}`;
    if (cnonce !== undefined) out += `, cnonce=${quote(cnonce)}`;
    if (c.opaque !== undefined) out += `, opaque=${quote(c.opaque)}`;
    if (qop !== undefined) out += `, qop=${qop.qop}, nc=${qop.nc}`;
    return out;
  }

  private nextNc(nonce: string): number {
    const nc = ((this.ncByNonce.get(nonce) ?? 0) + 1) >>> 0;
    this.ncByNonce.delete(nonce);
    this.ncByNonce.set(nonce, nc);
    if (this.ncByNonce.size > CLIENT_NONCES) {
      const oldest = this.ncByNonce.keys().next();
      if (oldest.done !== true) this.ncByNonce.delete(oldest.value);
    }
    return nc;
  }
}
