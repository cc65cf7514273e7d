// SDES key exchange in SDP: the a=crypto attribute (RFC 4568), for the SRTP
// suites of RFC 4568 §6.2 and RFC 6188.
//
// A parsed line keeps the text of every part (lifetime as "2^31" or decimal,
// MKI digits, unknown session parameters) so formatCrypto() gives back the
// line it was parsed from; only blank runs between fields become one space and
// leading zeros of the tag are dropped. Key material lives in KeyMaterial,
// whose toString, toJSON and util.inspect forms never show it, so a parsed
// line can be logged; raw SDP text cannot, and goes through redactSdp().

import { randomBytes } from 'node:crypto';
import type { SdpAttribute } from './model.ts';

export interface SrtpSuiteInfo {
  name: string;
  /** Master key and master salt octets (RFC 4568 §6.2, RFC 6188 §7). */
  keyLength: number;
  saltLength: number;
  /** Authentication tag octets of SRTP packets. */
  tagLength: number;
  /** False for suites we recognise but cannot run (F8, AES-192): never selected, never offered. */
  supported: boolean;
}

const SUITE_LIST: readonly SrtpSuiteInfo[] = [
  { name: 'AES_CM_128_HMAC_SHA1_80', keyLength: 16, saltLength: 14, tagLength: 10, supported: true },
  { name: 'AES_CM_128_HMAC_SHA1_32', keyLength: 16, saltLength: 14, tagLength: 4, supported: true },
  { name: 'AES_256_CM_HMAC_SHA1_80', keyLength: 32, saltLength: 14, tagLength: 10, supported: true },
  { name: 'AES_256_CM_HMAC_SHA1_32', keyLength: 32, saltLength: 14, tagLength: 4, supported: true },
  { name: 'F8_128_HMAC_SHA1_80', keyLength: 16, saltLength: 14, tagLength: 10, supported: false },
  { name: 'AES_192_CM_HMAC_SHA1_80', keyLength: 24, saltLength: 14, tagLength: 10, supported: false },
  { name: 'AES_192_CM_HMAC_SHA1_32', keyLength: 24, saltLength: 14, tagLength: 4, supported: false },
];

/** Known suites by upper-case name. */
export const SRTP_SUITES: ReadonlyMap<string, SrtpSuiteInfo> = new Map(SUITE_LIST.map((s) => [s.name, s]));

/** SPEC §4.8: _80 first (the default), then _32. */
export const DEFAULT_SRTP_SUITES: readonly string[] = Object.freeze(['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32']);

export function suiteInfo(name: string): SrtpSuiteInfo | null {
  return SRTP_SUITES.get(name.toUpperCase()) ?? null;
}

const REDACTED = '[redacted]';

/** Base64 key||salt text. Shown as "[redacted]" by toString, JSON.stringify and util.inspect. */
export class KeyMaterial {
  readonly #text: string;
  constructor(base64: string) {
    this.#text = base64;
  }
  /** The base64 text as written; for building SDP and for the media layer, never for logs. */
  reveal(): string {
    return this.#text;
  }
  bytes(): Buffer {
    return Buffer.from(this.#text, 'base64');
  }
  toString(): string {
    return REDACTED;
  }
  toJSON(): string {
    return REDACTED;
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `KeyMaterial ${REDACTED}`;
  }
}

export interface SdesLifetime {
  /** As written: "2^31" or "1048576". */
  text: string;
  /** Packets; at most 2^48 (RFC 3711 §9.2). */
  packets: number;
}

export interface SdesMki {
  /** As written, "1:1". */
  text: string;
  value: number;
  /** Octets on the wire, 1-4 (SPEC §3.5). */
  length: number;
}

export interface SdesKeyParam {
  /** "inline" as written; other methods only occur with unknown suites. */
  method: string;
  key: KeyMaterial;
  lifetime: SdesLifetime | null;
  mki: SdesMki | null;
}

export type SdesFlag = 'UNENCRYPTED_SRTCP' | 'UNENCRYPTED_SRTP' | 'UNAUTHENTICATED_SRTP';

export type SdesSessionParam =
  | { kind: SdesFlag; text: string }
  | { kind: 'KDR'; text: string; rate: number }
  | { kind: 'FEC_ORDER'; text: string; order: 'FEC_SRTP' | 'SRTP_FEC' }
  | { kind: 'FEC_KEY'; prefix: string; keys: SdesKeyParam[] }
  | { kind: 'WSH'; text: string; size: number }
  /** Kept verbatim. Without a leading "-" the receiver must understand it (RFC 4568 §6.3). */
  | { kind: 'unknown'; text: string };

/** One a=crypto line. Treat as immutable: the flags are derived from `sessionParams` when it is built. */
export interface SdesCrypto {
  tag: number;
  /** As written. */
  suite: string;
  /** Null for a suite not in SRTP_SUITES. */
  suiteInfo: SrtpSuiteInfo | null;
  keys: SdesKeyParam[];
  sessionParams: SdesSessionParam[];
  unencryptedSrtcp: boolean;
  unencryptedSrtp: boolean;
  unauthenticatedSrtp: boolean;
  /** log2 of the key derivation rate, 0 when absent. */
  kdr: number;
  /** A session parameter we do not know and may not ignore (no leading "-", RFC 4568 §6.3). */
  hasMandatoryUnknown: boolean;
}

export type ParseCryptoResult = { ok: true; crypto: SdesCrypto } | { ok: false; reason: string };

const MAX_LIFETIME = 2 ** 48;
const MAX_KEYS = 16;

class CryptoError extends Error {}

function fail(msg: string): never {
  throw new CryptoError(msg);
}

function isBase64(s: string): boolean {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(s)) return false;
  return s.includes('=') ? s.length % 4 === 0 : s.length % 4 !== 1;
}

function parseLifetime(text: string, where: string): SdesLifetime {
  const pow = /^2\^([0-9]{1,2})$/.exec(text);
  let packets: number;
  if (pow) packets = 2 ** Number(pow[1]);
  else if (/^[0-9]{1,15}$/.test(text)) packets = Number(text);
  else fail(`${where}: lifetime ${quote(text)} is neither 2^n nor a decimal number`);
  if (packets < 1 || packets > MAX_LIFETIME) fail(`${where}: lifetime ${quote(text)} is not 1 to 2^48 packets`);
  return { text, packets };
}

function parseMki(text: string, where: string): SdesMki {
  const m = /^([0-9]{1,10}):([0-9]{1,3})$/.exec(text);
  if (!m) fail(`${where}: MKI ${quote(text)} is not <value>:<length>`);
  const value = Number(m[1]);
  const length = Number(m[2]);
  if (length < 1 || length > 4) fail(`${where}: MKI length ${length} is not 1-4`);
  if (value >= 2 ** (8 * length)) fail(`${where}: MKI value ${value} does not fit in ${length} byte(s)`);
  return { text, value, length };
}

/** key-params (RFC 4568 §9.2): key-param *(";" key-param). `suite` null = unknown suite, syntax only. */
function parseKeyParams(text: string, suite: SrtpSuiteInfo | null, where: string): SdesKeyParam[] {
  const parts = text.split(';');
  if (parts.length > MAX_KEYS) fail(`${where}: more than ${MAX_KEYS} keys`);
  const keys = parts.map((p, i): SdesKeyParam => {
    const at = parts.length > 1 ? `${where} key ${i + 1}` : where;
    const colon = p.indexOf(':');
    if (colon <= 0) fail(`${at}: key parameter is not <method>:<info>`);
    const method = p.slice(0, colon);
    const info = p.slice(colon + 1);
    if (method.toLowerCase() !== 'inline') {
      if (suite) fail(`${at}: key method ${quote(method)} is not inline`);
      if (info.length === 0) fail(`${at}: empty key info`);
      return { method, key: new KeyMaterial(info), lifetime: null, mki: null };
    }
    const [keySalt = '', ...rest] = info.split('|');
    if (!isBase64(keySalt)) fail(`${at}: key is not valid base64`);
    if (suite) {
      const want = suite.keyLength + suite.saltLength;
      const got = Buffer.from(keySalt, 'base64').length;
      if (got !== want) fail(`${at}: key||salt is ${got} bytes, ${suite.name} needs ${want}`);
    }
    let lifetime: SdesLifetime | null = null;
    let mki: SdesMki | null = null;
    if (rest.length > 2) fail(`${at}: too many "|" fields after the key`);
    for (const f of rest) {
      if (f.includes(':')) {
        if (mki) fail(`${at}: two MKI fields`);
        mki = parseMki(f, at);
      } else {
        if (lifetime || mki) fail(`${at}: lifetime must come once, before the MKI`);
        lifetime = parseLifetime(f, at);
      }
    }
    return { method, key: new KeyMaterial(keySalt), lifetime, mki };
  });
  if (keys.length > 1 && suite) {
    // RFC 4568 §6.1: with several keys the MKI tells them apart, so each needs one of the same length.
    const len = keys[0]?.mki?.length;
    if (keys.some((k) => !k.mki || k.mki.length !== len)) fail(`${where}: with several keys every key needs an MKI of the same length`);
    if (new Set(keys.map((k) => k.mki?.value)).size !== keys.length) fail(`${where}: two keys share an MKI value`);
  }
  return keys;
}

function parseSessionParam(text: string, suite: SrtpSuiteInfo | null): SdesSessionParam {
  const upper = text.toUpperCase();
  if (upper === 'UNENCRYPTED_SRTCP' || upper === 'UNENCRYPTED_SRTP' || upper === 'UNAUTHENTICATED_SRTP') {
    return { kind: upper, text };
  }
  const eq = text.indexOf('=');
  const name = eq < 0 ? '' : upper.slice(0, eq);
  const value = text.slice(eq + 1);
  switch (name) {
    case 'KDR': {
      if (!/^[0-9]{1,2}$/.test(value) || Number(value) > 24) fail('session parameter KDR is not 0-24');
      return { kind: 'KDR', text, rate: Number(value) };
    }
    case 'FEC_ORDER': {
      const order = value.toUpperCase();
      if (order !== 'FEC_SRTP' && order !== 'SRTP_FEC') fail('session parameter FEC_ORDER is not FEC_SRTP or SRTP_FEC');
      return { kind: 'FEC_ORDER', text, order };
    }
    case 'FEC_KEY':
      return { kind: 'FEC_KEY', prefix: text.slice(0, eq + 1), keys: parseKeyParams(value, suite, 'FEC_KEY') };
    case 'WSH': {
      if (!/^[0-9]{2,10}$/.test(value) || Number(value) < 64) fail('session parameter WSH is not a number >= 64');
      return { kind: 'WSH', text, size: Number(value) };
    }
    default:
      // A second "inline:" after the key parameters is a lost ";" or a mangled line, not an extension.
      if (/inline:/i.test(text)) fail('a session parameter holds a key (missing ";" between keys?)');
      return { kind: 'unknown', text };
  }
}

/** A token for a reason: short ones as written, longer ones only by length, since a mangled line may hold a key anywhere. */
function quote(s: string): string {
  return s.length <= 12 ? `"${s}"` : `(${s.length} characters)`;
}

function build(tag: number, suite: string, keys: SdesKeyParam[], sessionParams: SdesSessionParam[]): SdesCrypto {
  const has = (k: SdesFlag): boolean => sessionParams.some((p) => p.kind === k);
  const kdr = sessionParams.find((p) => p.kind === 'KDR');
  return {
    tag,
    suite,
    suiteInfo: suiteInfo(suite),
    keys,
    sessionParams,
    unencryptedSrtcp: has('UNENCRYPTED_SRTCP'),
    unencryptedSrtp: has('UNENCRYPTED_SRTP'),
    unauthenticatedSrtp: has('UNAUTHENTICATED_SRTP'),
    kdr: kdr && kdr.kind === 'KDR' ? kdr.rate : 0,
    hasMandatoryUnknown: sessionParams.some((p) => p.kind === 'unknown' && !p.text.startsWith('-')),
  };
}

/**
 * Parse an a=crypto value ("1 AES_CM_128_HMAC_SHA1_80 inline:..."); a leading
 * "a=crypto:" or "crypto:" is skipped. Never throws; reasons never quote key material.
 */
export function parseCrypto(text: string): ParseCryptoResult {
  try {
    const value = text.replace(/^(?:a=)?crypto:/i, '');
    const f = value.split(/[ \t]+/).filter((x) => x.length > 0);
    if (f.length < 3) return { ok: false, reason: 'a=crypto needs a tag, a crypto suite and key parameters' };
    const [tagText, suite, keyText] = f as [string, string, string];
    if (!/^[0-9]{1,9}$/.test(tagText) || Number(tagText) < 1) return { ok: false, reason: `a=crypto tag ${quote(tagText)} is not 1-999999999` };
    if (!/^[A-Za-z0-9_]+$/.test(suite)) return { ok: false, reason: `a=crypto suite ${quote(suite)} is not a suite name` };
    const info = suiteInfo(suite);
    const keys = parseKeyParams(keyText, info, 'a=crypto');
    const params = f.slice(3).map((p) => parseSessionParam(p, info));
    return { ok: true, crypto: build(Number(tagText), suite, keys, params) };
  } catch (err) {
    if (err instanceof CryptoError) return { ok: false, reason: err.message };
    return { ok: false, reason: 'unparseable a=crypto' };
  }
}

function formatKeys(keys: readonly SdesKeyParam[]): string {
  return keys.map((k) => `${k.method}:${k.key.reveal()}${k.lifetime ? `|${k.lifetime.text}` : ''}${k.mki ? `|${k.mki.text}` : ''}`).join(';');
}

/** The a=crypto value (without "a=crypto:"). Contains the key: build SDP with it, do not log it. */
export function formatCrypto(c: SdesCrypto): string {
  const params = c.sessionParams.map((p) => (p.kind === 'FEC_KEY' ? p.prefix + formatKeys(p.keys) : p.text));
  return [String(c.tag), c.suite, formatKeys(c.keys), ...params].join(' ');
}

export function cryptoAttribute(c: SdesCrypto): SdpAttribute {
  return { name: 'crypto', value: formatCrypto(c) };
}

export interface MasterKey {
  masterKey: Buffer;
  masterSalt: Buffer;
  /** Big-endian MKI of its declared length, null without MKI. */
  mki: Buffer | null;
  /** Packets, null when the line gives none (RFC 3711 default 2^48 applies). */
  lifetime: number | null;
}

/** The master keys of a line of a known suite, split into key and salt, for the SRTP layer. Empty for unknown suites. */
export function masterKeys(c: SdesCrypto): MasterKey[] {
  const s = c.suiteInfo;
  if (!s) return [];
  return c.keys.map((k) => {
    const b = k.key.bytes();
    const mki = k.mki ? Buffer.alloc(k.mki.length) : null;
    if (mki && k.mki) mki.writeUIntBE(k.mki.value, 0, k.mki.length);
    return { masterKey: b.subarray(0, s.keyLength), masterSalt: b.subarray(s.keyLength), mki, lifetime: k.lifetime?.packets ?? null };
  });
}

export interface MakeCryptoOptions {
  tag: number;
  suite: string;
  key: Buffer;
  salt: Buffer;
  /** Packets (a power of two is written 2^n) or text ("2^31"). 0 or absent: no lifetime. Else >= 1024 or 2^n (SPEC §3.5). */
  lifetime?: number | string;
  /** MKI value; with mkiLength alone it is 1 (D-09: MKI 1 at session start). */
  mki?: number;
  /** 1-4 octets, default 1 when an MKI is wanted. */
  mkiLength?: number;
  unencryptedSrtcp?: boolean;
  /** Declarative flags copied from an offer into an answer (RFC 4568 §6.3.2). */
  unencryptedSrtp?: boolean;
  unauthenticatedSrtp?: boolean;
  /** Session parameters appended verbatim after the flags (e.g. "KDR=0", "FEC_ORDER=FEC_SRTP"). */
  extraParams?: readonly string[];
}

function lifetimeText(l: number | string): string | null {
  const n = typeof l === 'string' ? parseLifetime(l, 'makeCrypto').packets : l;
  if (n === 0) return null;
  const pow2 = Number.isInteger(n) && n > 0 && Number.isInteger(Math.log2(n));
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIFETIME || (n < 1024 && !pow2)) {
    throw new RangeError(`makeCrypto: lifetime ${l} is not >= 1024 or a power of two up to 2^48`);
  }
  if (typeof l === 'string') return l;
  return pow2 ? `2^${Math.log2(n)}` : String(n);
}

/** A line we send. RangeError for a bad tag, an unsupported suite, wrong key/salt sizes, a bad lifetime or MKI. */
export function makeCrypto(o: MakeCryptoOptions): SdesCrypto {
  if (!Number.isInteger(o.tag) || o.tag < 1 || o.tag > 999_999_999) throw new RangeError(`makeCrypto: tag ${o.tag} is not 1-999999999`);
  const s = suiteInfo(o.suite);
  if (!s || !s.supported) throw new RangeError(`makeCrypto: suite ${o.suite} is not supported`);
  if (o.key.length !== s.keyLength) throw new RangeError(`makeCrypto: ${s.name} needs a ${s.keyLength}-byte key, got ${o.key.length}`);
  if (o.salt.length !== s.saltLength) throw new RangeError(`makeCrypto: ${s.name} needs a ${s.saltLength}-byte salt, got ${o.salt.length}`);
  let info = Buffer.concat([o.key, o.salt]).toString('base64');
  try {
    const lt = o.lifetime === undefined ? null : lifetimeText(o.lifetime);
    if (lt) info += `|${lt}`;
    if (o.mki !== undefined || o.mkiLength !== undefined) info += `|${parseMki(`${o.mki ?? 1}:${o.mkiLength ?? 1}`, 'makeCrypto').text}`;
  } catch (err) {
    if (err instanceof CryptoError) throw new RangeError(err.message);
    throw err;
  }
  const params: string[] = [];
  if (o.unencryptedSrtcp) params.push('UNENCRYPTED_SRTCP');
  if (o.unencryptedSrtp) params.push('UNENCRYPTED_SRTP');
  if (o.unauthenticatedSrtp) params.push('UNAUTHENTICATED_SRTP');
  for (const p of o.extraParams ?? []) {
    if (p.length === 0 || /[ \t\r\n\0]/.test(p)) throw new RangeError('makeCrypto: a session parameter is empty or contains a blank');
    params.push(p);
  }
  const r = parseCrypto(`${o.tag} ${s.name} inline:${info} ${params.join(' ')}`);
  if (!r.ok) throw new RangeError(`makeCrypto: ${r.reason}`);
  return r.crypto;
}

export function makeCryptoAttribute(o: MakeCryptoOptions): SdpAttribute {
  return cryptoAttribute(makeCrypto(o));
}

/** Fresh random key and salt for `suite` (node:crypto CSPRNG unless `random` is given, for tests). */
export function generateKeySalt(suite: string, random: (n: number) => Buffer = randomBytes): { key: Buffer; salt: Buffer } {
  const s = suiteInfo(suite);
  if (!s) throw new RangeError(`generateKeySalt: unknown suite ${suite}`);
  const b = random(s.keyLength + s.saltLength);
  if (b.length !== s.keyLength + s.saltLength) throw new RangeError('generateKeySalt: random source returned the wrong length');
  return { key: Buffer.from(b.subarray(0, s.keyLength)), salt: Buffer.from(b.subarray(s.keyLength)) };
}

const INLINE_KEY = /inline:(?!\[redacted\])[^|; \t\r\n]*/gi;
// 20 or more base64 characters in a row: a key (or another secret such as an ice-pwd) wherever a line has it.
const LONG_BASE64 = /[A-Za-z0-9+/]{20,}={0,2}/g;

function scrub(line: string): string {
  return line.replace(INLINE_KEY, `inline:${REDACTED}`).replace(LONG_BASE64, (run) => (/^[0-9]+$/.test(run) ? run : REDACTED));
}

function redactKeyParams(text: string): string {
  return text
    .split(';')
    .map((p) => {
      const colon = p.indexOf(':');
      if (colon < 0) return REDACTED;
      const bar = p.indexOf('|', colon);
      return `${p.slice(0, colon + 1)}${REDACTED}${bar < 0 ? '' : p.slice(bar)}`;
    })
    .join(';');
}

/**
 * A crypto line or value safe for logs: every key is replaced by "[redacted]",
 * lifetime, MKI and session parameters stay. Accepts "a=crypto:...",
 * "crypto:...", a bare value, or an "a=acap:N crypto:..." line.
 */
export function redactCrypto(line: string): string {
  if (line.includes('\n')) return redactSdp(line);
  const m = /^((?:a=)?(?:acap:[0-9]+[ \t]+)?(?:crypto:)?[ \t]*[^ \t]+[ \t]+[^ \t]+[ \t]+)([^ \t\r\n]+)(.*)$/is.exec(line);
  if (!m) return scrub(line);
  const rest = (m[3] as string).replace(/(FEC_KEY=)([^ \t\r\n]*)/gi, (_all, p: string, k: string) => p + redactKeyParams(k));
  // scrub() catches keys of lines whose fields are not where the grammar puts them.
  return scrub(`${m[1] as string}${redactKeyParams(m[2] as string)}${rest}`);
}

/**
 * An SDP body (or any text) for logs: the keys of its a=crypto and a=acap
 * crypto lines are redacted, and so is any run of 20 or more base64
 * characters on any line (keys in mangled lines, a=ice-pwd and the like).
 */
export function redactSdp(text: string): string {
  return text
    .split('\n')
    .map((l) => (/^a=(?:crypto:|acap:[0-9]+[ \t]+crypto:)/i.test(l) ? redactCrypto(l) : scrub(l)))
    .join('\n');
}
