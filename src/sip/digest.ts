// SIP digest authentication (RFC 3261 §22, RFC 7616, RFC 8760): shared
// hashing and the server side. The client side is in digest-client.ts.
//
// Library level: nothing here knows users or the PBX. The server is handed
// HA1 by a lookup callback (the directory caches it), and works on header
// VALUES so that it does not depend on the message parser.
//
// Server design points:
// - Nonces are stateless and self-validating (timestamp + unique + HMAC), so
//   issuing challenges to an unauthenticated flood costs no memory.
// - Only responses proven correct are remembered (highest nonce-count per
//   nonce, bounded map), so the replay table cannot be filled by guessers.
// - verify() does the same hashing for unknown and known users, and only
//   answers `stale` when the response itself is right (RFC 7616 §3.3), so a
//   `stale` never acts as a password oracle.

import crypto, { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { detachString } from './syntax.ts';
import { parseAuthHeader, quote } from './auth-params.ts';
import type { AuthHeader } from './auth-params.ts';

export { parseAuthHeader, quote } from './auth-params.ts';
export type { AuthHeader } from './auth-params.ts';

export type DigestAlgorithm = 'MD5' | 'SHA-256' | 'SHA-512-256';
export type HashFn = (algorithm: DigestAlgorithm, input: string) => string;

const NODE_HASH: Record<DigestAlgorithm, string> = { 'MD5': 'md5', 'SHA-256': 'sha256', 'SHA-512-256': 'sha512-256' };
const HEX_LEN: Record<DigestAlgorithm, number> = { 'MD5': 32, 'SHA-256': 64, 'SHA-512-256': 64 };

// crypto.hash (Node >= 20.12) is the one-shot form: no Hash object per digest step.
const oneShot = (crypto as { hash?: (alg: string, data: string, enc: 'hex') => string }).hash;
export const hashHex: HashFn = oneShot
  ? (algorithm, input) => oneShot(NODE_HASH[algorithm], input, 'hex')
  : (algorithm, input) => createHash(NODE_HASH[algorithm]).update(input).digest('hex');

/** HA1 = H(username ":" realm ":" password), the value a directory stores or caches per user and algorithm. */
export function ha1(username: string, realm: string, password: string, algorithm: DigestAlgorithm = 'MD5'): string {
  return hashHex(algorithm, `${username}:${realm}:${password}`);
}

/** Parse an algorithm token case-insensitively; `sess` is true for the "-sess" variants. */
export function parseAlgorithm(token: string | undefined): { algorithm: DigestAlgorithm; sess: boolean } | undefined {
  if (token === undefined) return { algorithm: 'MD5', sess: false }; // RFC 2617 default
  let t = token.toUpperCase();
  const sess = t.endsWith('-SESS');
  if (sess) t = t.slice(0, -5);
  return t === 'MD5' || t === 'SHA-256' || t === 'SHA-512-256' ? { algorithm: t, sess } : undefined;
}

export interface QopInput {
  qop: 'auth' | 'auth-int';
  /** nonce-count exactly as sent, e.g. "00000001" */
  nc: string;
  cnonce: string;
  /** Message body, for auth-int only. */
  body?: Buffer;
}

/** The request-digest (RFC 7616 §3.4.1); without `qop` it is the RFC 2069 form. */
export function digestResponse(algorithm: DigestAlgorithm, ha1Hex: string, nonce: string, method: string,
  uri: string, qop?: QopInput, hash: HashFn = hashHex): string {
  let a2 = `${method}:${uri}`;
  if (qop?.qop === 'auth-int') {
    a2 += ':' + createHash(NODE_HASH[algorithm]).update(qop.body ?? Buffer.alloc(0)).digest('hex');
  }
  const ha2 = hash(algorithm, a2);
  return qop === undefined
    ? hash(algorithm, `${ha1Hex}:${nonce}:${ha2}`)
    : hash(algorithm, `${ha1Hex}:${nonce}:${qop.nc}:${qop.cnonce}:${qop.qop}:${ha2}`);
}

// ---------------------------------------------------------------------------
// Server side

export interface DigestServerOptions {
  realm: string;
  /** HMAC key for nonces; share it between nodes that must accept each other's nonces. Default: 32 random bytes. */
  secret?: Buffer;
  /** Nonce lifetime; an older nonce with a correct response yields `stale`. Default 300 000 ms. */
  nonceTtlMs?: number;
  /** Offered algorithms, in header order. Default ['SHA-256', 'MD5'] (RFC 8760: strongest first). */
  algorithms?: DigestAlgorithm[];
  now?: () => number;
  /** Accept credentials without qop (RFC 2069 style; no replay protection inside the nonce lifetime). Default false. */
  allowNoQop?: boolean;
  /** Optional opaque value sent in challenges and required back verbatim. */
  opaque?: string;
  /** Bound of the nonce-count table. Default 100 000. */
  maxTrackedNonces?: number;
  /** Hash used for HA2 and the response; injectable for instrumentation and tests. */
  hash?: HashFn;
}

export type FailReason = 'realm' | 'algorithm' | 'qop' | 'uri' | 'opaque' | 'nonce' | 'response';

export type VerifyResult =
  | { kind: 'ok'; username: string; algorithm: DigestAlgorithm }
  /** Right password, but the nonce is expired, its nc was replayed, or its replay state was evicted: re-challenge with stale=true. */
  | { kind: 'stale'; username: string; reason: 'expired' | 'replay' | 'evicted' }
  /**
   * Rejected. Only reason 'response' is evidence of a wrong password (or
   * unknown user, indistinguishably) and should be fed to the auth guard;
   * the others are protocol mismatches decided before any password work.
   * 'nonce' means a nonce we did not issue (forged, from before a secret
   * change or restart, or bound to another source): re-challenging with
   * stale=true is safe there because that answer does not depend on the
   * password, and it spares phones a credential prompt after a restart.
   */
  | { kind: 'fail'; reason: FailReason; username?: string }
  | { kind: 'malformed'; reason: string };

export type Ha1Lookup = (username: string, realm: string, algorithm: DigestAlgorithm) => string | undefined;

export interface ChallengeOptions {
  stale?: boolean;
  /** Bind the nonce to a value (e.g. the source address); verify() must be given the same `bind`. */
  bind?: string;
}

export interface VerifyOptions {
  bind?: string;
}

const NONCE_BYTES = 30; // 6 timestamp + 8 unique + 16 MAC
const NONCE_CHARS = 40; // base64url of 30 bytes, no padding
const MAC_BYTES = 16;

export class DigestServer {
  readonly realm: string;
  private readonly secret: Buffer;
  private readonly ttl: number;
  private readonly algorithms: readonly DigestAlgorithm[];
  private readonly now: () => number;
  private readonly allowNoQop: boolean;
  private readonly opaque: string | undefined;
  /** Half the nonce-count table cap: the size of one generation. */
  private readonly ncHalf: number;
  private readonly hash: HashFn;
  private readonly instance = randomBytes(4);
  private counter = 0;
  /** Pre-rendered challenge pieces: prefix up to the nonce, then one suffix per algorithm. */
  private readonly prefix: string;
  private readonly suffixes: string[];
  /** A per-server random HA1 per algorithm, so unknown users cost the same as known ones. */
  private readonly dummyHa1 = new Map<DigestAlgorithm, string>();
  // nonce -> highest nc accepted, in two generations so that dropping old
  // entries is O(1) (evicting one by one from a Map's head is not in V8).
  // The current generation turns old after one nonce lifetime, so a
  // time-based drop only ever forgets expired nonces.
  private ncCur = new Map<string, number>();
  private ncOld = new Map<string, number>();
  private ncStarted: number;
  private curMaxTs = -1;
  private oldMaxTs = -1;
  /** Newest nonce timestamp forgotten early (table full); unknown nonces at least that old are answered stale. */
  private evictedFloor = -1;

  constructor(opts: DigestServerOptions) {
    this.realm = opts.realm;
    this.secret = opts.secret ?? randomBytes(32);
    this.ttl = opts.nonceTtlMs ?? 300_000;
    this.algorithms = opts.algorithms && opts.algorithms.length > 0 ? [...opts.algorithms] : ['SHA-256', 'MD5'];
    this.now = opts.now ?? Date.now;
    this.allowNoQop = opts.allowNoQop ?? false;
    this.opaque = opts.opaque;
    this.ncHalf = Math.max(1, Math.ceil((opts.maxTrackedNonces ?? 100_000) / 2));
    this.hash = opts.hash ?? hashHex;
    this.prefix = `Digest realm=${quote(this.realm)}, nonce="`;
    const op = this.opaque === undefined ? '' : `, opaque=${quote(this.opaque)}`;
    this.suffixes = this.algorithms.map((a) => `"${op}, algorithm=${a}, qop="auth"`);
    this.ncStarted = this.now();
    for (const a of this.algorithms) this.dummyHa1.set(a, randomBytes(HEX_LEN[a] / 2).toString('hex'));
  }

  /** WWW-Authenticate / Proxy-Authenticate values, one per configured algorithm, sharing one nonce. */
  challenge(opts?: ChallengeOptions): string[] {
    const nonce = this.makeNonce(opts?.bind ?? '');
    const tail = opts?.stale === true ? ', stale=true' : '';
    return this.suffixes.map((s) => this.prefix + nonce + s + tail);
  }

  /** Number of nonces whose nonce-count is being tracked (for metrics). */
  get trackedNonces(): number {
    return this.ncCur.size + this.ncOld.size;
  }

  /**
   * Check an Authorization / Proxy-Authorization value (or one already parsed
   * with parseAuthHeader) against a request. Never throws.
   */
  verify(headerValue: string | AuthHeader, method: string, requestUri: string, lookupHa1: Ha1Lookup,
    opts?: VerifyOptions): VerifyResult {
    const h = typeof headerValue === 'string' ? parseAuthHeader(headerValue) : headerValue;
    if (h === undefined) return { kind: 'malformed', reason: 'syntax' };
    if (h.scheme.toLowerCase() !== 'digest') return { kind: 'malformed', reason: 'scheme' };
    const p = h.params;
    const username = p.get('username');
    const realm = p.get('realm');
    const nonce = p.get('nonce');
    const uri = p.get('uri');
    const response = p.get('response');
    if (username === undefined || realm === undefined || nonce === undefined || uri === undefined || response === undefined) {
      return { kind: 'malformed', reason: 'missing parameter' };
    }
    if (realm !== this.realm) return { kind: 'fail', reason: 'realm', username };
    const alg = parseAlgorithm(p.get('algorithm'));
    if (alg === undefined || alg.sess || !this.algorithms.includes(alg.algorithm)) {
      return { kind: 'fail', reason: 'algorithm', username };
    }
    const algorithm = alg.algorithm;
    const qopRaw = p.get('qop');
    let qop: QopInput | undefined;
    let nc = 0;
    if (qopRaw !== undefined) {
      if (qopRaw.toLowerCase() !== 'auth') return { kind: 'fail', reason: 'qop', username };
      const ncRaw = p.get('nc');
      const cnonce = p.get('cnonce');
      if (ncRaw === undefined || cnonce === undefined) return { kind: 'malformed', reason: 'missing nc/cnonce' };
      nc = parseNc(ncRaw);
      if (nc < 0) return { kind: 'malformed', reason: 'nc' };
      qop = { qop: 'auth', nc: ncRaw, cnonce };
    } else if (!this.allowNoQop) {
      return { kind: 'fail', reason: 'qop', username };
    }
    if (uri.trim() !== requestUri.trim()) return { kind: 'fail', reason: 'uri', username };
    if (this.opaque !== undefined && p.get('opaque') !== this.opaque) return { kind: 'fail', reason: 'opaque', username };
    // A nonce we never issued says nothing about the password, and answering
    // it before any lookup keeps forged-nonce floods cheap.
    const ts = this.checkNonce(nonce, opts?.bind ?? '');
    if (ts < 0) return { kind: 'fail', reason: 'nonce', username };

    // From here on known and unknown users take exactly the same path.
    const known = lookupHa1(username, realm, algorithm);
    const secretHa1 = known ?? (this.dummyHa1.get(algorithm) as string);
    const expected = digestResponse(algorithm, secretHa1, nonce, method, uri, qop, this.hash);
    const matches = constantTimeEqual(expected, response.toLowerCase()) && known !== undefined;
    if (!matches) return { kind: 'fail', reason: 'response', username };

    const age = this.now() - ts;
    if (age > this.ttl || age < -this.ttl) return { kind: 'stale', username, reason: 'expired' };
    if (qop !== undefined) {
      const inCur = this.ncCur.get(nonce);
      const seen = inCur !== undefined ? inCur : this.ncOld.get(nonce);
      if (seen === undefined) {
        if (ts <= this.evictedFloor) return { kind: 'stale', username, reason: 'evicted' };
        this.track(nonce, ts, nc);
      } else if (nc <= seen) {
        return { kind: 'stale', username, reason: 'replay' };
      } else {
        (inCur !== undefined ? this.ncCur : this.ncOld).set(nonce, nc);
      }
    }
    return { kind: 'ok', username, algorithm };
  }

  private makeNonce(bind: string): string {
    const buf = Buffer.allocUnsafe(NONCE_BYTES);
    const ts = Math.min(Math.max(0, Math.floor(this.now())), 0xffff_ffff_ffff);
    buf.writeUIntBE(ts, 0, 6);
    this.instance.copy(buf, 6);
    this.counter = (this.counter + 1) >>> 0;
    buf.writeUInt32BE(this.counter, 10);
    this.mac(buf, bind).copy(buf, 14, 0, MAC_BYTES);
    return buf.toString('base64url');
  }

  private mac(buf: Buffer, bind: string): Buffer {
    return createHmac('sha256', this.secret).update(buf.subarray(0, 14))
      .update(`${bind.length}:${bind}:${this.realm}`).digest();
  }

  /** The nonce's timestamp when it is ours (and bound to `bind`), else -1. Age is checked by the caller. */
  private checkNonce(nonce: string, bind: string): number {
    if (nonce.length !== NONCE_CHARS) return -1;
    for (let i = 0; i < NONCE_CHARS; i++) if (sextet(nonce.charCodeAt(i)) < 0) return -1;
    const buf = Buffer.from(nonce, 'base64url');
    if (buf.length !== NONCE_BYTES) return -1;
    const mac = this.mac(buf, bind);
    if (!timingSafeEqual(buf.subarray(14), mac.subarray(0, MAC_BYTES))) return -1;
    return buf.readUIntBE(0, 6);
  }

  private track(nonce: string, ts: number, nc: number): void {
    const now = this.now();
    if (now - this.ncStarted >= this.ttl) {
      if (now - this.ncStarted >= 2 * this.ttl) this.rotateNc(now, false);
      this.rotateNc(now, false);
    }
    // Detached: a slice would keep the whole REGISTER text alive while the nonce is tracked.
    this.ncCur.set(detachString(nonce), nc);
    if (ts > this.curMaxTs) this.curMaxTs = ts;
    if (this.ncCur.size >= this.ncHalf) this.rotateNc(now, true);
  }

  private rotateNc(now: number, full: boolean): void {
    // Forgetting fresh nonces would reopen them to replay, so when the table
    // is full every nonce as old as the dropped ones is treated as stale.
    if (full && this.oldMaxTs > this.evictedFloor) this.evictedFloor = this.oldMaxTs;
    this.ncOld = this.ncCur;
    this.oldMaxTs = this.curMaxTs;
    this.ncCur = new Map();
    this.curMaxTs = -1;
    this.ncStarted = now;
  }
}

function sextet(c: number): number {
  if (c >= 0x41 && c <= 0x5a) return c - 0x41;
  if (c >= 0x61 && c <= 0x7a) return c - 0x61 + 26;
  if (c >= 0x30 && c <= 0x39) return c - 0x30 + 52;
  if (c === 0x2d) return 62;
  if (c === 0x5f) return 63;
  return -1;
}

/** nc is 8 hex digits (RFC 7616); 1..8 are accepted. Returns -1 when invalid. */
function parseNc(s: string): number {
  if (s.length === 0 || s.length > 8) return -1;
  let v = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

function constantTimeEqual(expected: string, given: string): boolean {
  const a = Buffer.from(expected, 'latin1');
  if (given.length !== expected.length) {
    timingSafeEqual(a, a);
    return false;
  }
  return timingSafeEqual(a, Buffer.from(given, 'latin1'));
}
