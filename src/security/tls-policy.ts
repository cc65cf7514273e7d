// TLS versions, suites and handshake diagnostics for every listener and
// client (SPEC §4.2, A-18, EC-03, EC-12).
import type { ConnectionOptions, PeerCertificate, TlsOptions } from 'node:tls';
import { checkServerIdentity } from 'node:tls';
import { isIP } from 'node:net';

/**
 * Default policy: TLS 1.2 and 1.3 only, forward-secret AEAD suites only.
 * The TLS 1.3 names are listed explicitly so the policy is readable in one
 * place rather than inherited from Node's defaults.
 */
const TLS13_SUITES = 'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256';
const MODERN_TLS12_SUITES = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'DHE-RSA-AES128-GCM-SHA256',
  'DHE-RSA-AES256-GCM-SHA384',
].join(':');

/**
 * Legacy additions, appended after the modern suites so they are only chosen
 * when the peer offers nothing better: CBC-SHA suites (the only ones TLS 1.0
 * and 1.1 have) and static-RSA key exchange (old phones and IP500-class call
 * servers without ECDHE). 3DES and RC4 stay out (Sweet32, RFC 7465).
 */
const LEGACY_SUITES = [
  'ECDHE-ECDSA-AES128-SHA',
  'ECDHE-RSA-AES128-SHA',
  'ECDHE-ECDSA-AES256-SHA',
  'ECDHE-RSA-AES256-SHA',
  'DHE-RSA-AES128-SHA',
  'DHE-RSA-AES256-SHA',
  'AES128-GCM-SHA256',
  'AES256-GCM-SHA384',
  'AES128-SHA256',
  'AES256-SHA256',
  'AES128-SHA',
  'AES256-SHA',
].join(':');

export const DEFAULT_CIPHERS = `${TLS13_SUITES}:${MODERN_TLS12_SUITES}`;

/**
 * OpenSSL 3 refuses TLS 1.0/1.1 at its default security level 1: their
 * handshake signatures use MD5+SHA-1, which level 1 forbids, so a
 * "minVersion: TLSv1" alone still fails ("no suitable signature algorithm").
 * @SECLEVEL=0 lifts that. Side effect, on the client side: a peer certificate
 * with a short key or SHA-1 signature is no longer rejected for that reason
 * alone (it must still chain to a trusted CA when verification is on).
 */
export const LEGACY_CIPHERS = `${DEFAULT_CIPHERS}:${LEGACY_SUITES}:@SECLEVEL=0`;

/**
 * The "legacy TLS" switch (SPEC EC-03, issue note 13) WIDENS what we accept
 * and offer; it never narrows or downgrades:
 *
 * - off (default): TLS 1.2 minimum, the modern AEAD suites above. A peer that
 *   only speaks TLS 1.0/1.1 or only CBC/static-RSA suites is refused.
 * - on: TLS 1.0 minimum, the modern suites first and the legacy ones after
 *   them, at OpenSSL security level 0. Our ClientHello still advertises
 *   TLS 1.3 as the highest version and the modern suites first, and as a
 *   server we still pick the highest version the peer offers and our own
 *   suite order, so a peer capable of TLS 1.2+ still gets TLS 1.2+.
 *
 * The source product's gateway reached TLS 1.2 only after its "Enable legacy
 * TLS" was switched on, i.e. its default ClientHello was the old one. Ours is
 * the other way round: the default ClientHello is already TLS 1.2+.
 */
export interface TlsPolicyOptions {
  legacyTls: boolean;
}

/** Minimal view of CertificateSet (certs.ts) that TLS needs. */
export interface TlsIdentity {
  certPem: string;
  keyPem: string;
  caCertPem: string;
  /** What "offer chain" sends after the identity (intermediates, leaf-side first); default the CA. */
  chainPems?: readonly string[];
}

export interface TlsServerPolicyOptions extends TlsPolicyOptions {
  /**
   * A-17 "Offer ID Certificate Chain": send the chain (intermediates, or
   * our CA) after the identity, for endpoints that have the root but not
   * the intermediates. Default off.
   */
  offerChain?: boolean;
  /**
   * Trusted-server mode (SPEC D-06): ask every TLS client for a certificate
   * and verify one it sends against these CAs (the connection then reports
   * the names it proves, src/sip/transport/tls-peer.ts). Clients without one
   * still connect. Absent: no certificate is requested.
   */
  clientCas?: readonly string[];
}

function policy(legacyTls: boolean): Pick<TlsOptions, 'minVersion' | 'maxVersion' | 'ciphers'> {
  return legacyTls
    ? { minVersion: 'TLSv1', maxVersion: 'TLSv1.3', ciphers: LEGACY_CIPHERS }
    : { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', ciphers: DEFAULT_CIPHERS };
}

/**
 * Options for tls.createServer / new TLSSocket({isServer}) on SIP/TLS and
 * HTTPS listeners. No client certificate is requested unless
 * `clientCas` is given.
 */
export function tlsServerOptions(certs: TlsIdentity, opts: TlsServerPolicyOptions): TlsOptions {
  return {
    key: certs.keyPem,
    cert: opts.offerChain ? certs.certPem + (certs.chainPems ?? [certs.caCertPem]).join('') : certs.certPem,
    ...policy(opts.legacyTls),
    honorCipherOrder: true,
    requestCert: opts.clientCas !== undefined,
    rejectUnauthorized: false,
    ...(opts.clientCas !== undefined ? { ca: [...opts.clientCas] } : {}),
  };
}

export interface TlsClientPolicyOptions extends TlsPolicyOptions {
  /** Verify the peer chain and name. Off only for the gateway's "TLS allow insecure". */
  rejectUnauthorized: boolean;
  /**
   * Name the peer certificate must carry. A DNS name is also sent as SNI; an
   * IP address is checked against IP SANs and not sent (RFC 6066 §3 forbids
   * literal addresses in SNI). Default: the `host` given to tls.connect.
   */
  servername?: string;
  /** Present our identity, for mutual TLS towards a trusted-server peer (D-06). Default off. */
  presentIdentity?: boolean;
  /** CAs trusted besides our own root (the gateway's imported CA list, B-18). */
  extraCas?: readonly string[];
}

/** Options for tls.connect; the caller adds host and port. */
export function tlsClientOptions(certs: TlsIdentity, opts: TlsClientPolicyOptions): ConnectionOptions {
  const out: ConnectionOptions = {
    ...policy(opts.legacyTls),
    ca: [certs.caCertPem, ...(opts.extraCas ?? [])],
    rejectUnauthorized: opts.rejectUnauthorized,
  };
  const name = opts.servername;
  if (name !== undefined) {
    if (isIP(name) === 0) out.servername = name;
    else out.checkServerIdentity = (_host: string, cert: PeerCertificate) => checkServerIdentity(name, cert);
  }
  if (opts.presentIdentity) {
    out.key = certs.keyPem;
    out.cert = certs.certPem;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Handshake diagnostics

export type TlsErrorCategory =
  | 'version' // no TLS version in common
  | 'cipher' // no suite (or signature algorithm) in common
  | 'clock' // a certificate outside its validity period (EC-12)
  | 'trust' // chain does not lead to a trusted CA
  | 'hostname' // certificate does not name the host dialled
  | 'certificate' // peer refused our certificate for another reason
  | 'not-tls' // plaintext (SIP, HTTP) on a TLS port, or garbage
  | 'network' // reset/closed mid-handshake
  | 'other';

export interface TlsErrorInfo {
  category: TlsErrorCategory;
  /** True when fixing the clock (NTP) on one side is the likely cure. */
  clockProblem: boolean;
  /** One line, no newline, suitable for a log message. */
  message: string;
}

export interface TlsErrorContext {
  /** From parseClientHello on the rejected connection's first bytes (server side). */
  clientHello?: ClientHelloSummary | null;
  /** Our own policy, to say what we required. */
  legacyTls?: boolean;
}

const CLOCK_HINT = 'check the system clock and NTP on both sides';

const BY_CODE: Record<string, [TlsErrorCategory, string]> = {
  ERR_SSL_UNSUPPORTED_PROTOCOL: ['version', 'TLS version offered/selected by the peer is below our minimum'],
  ERR_SSL_VERSION_TOO_LOW: ['version', 'TLS version offered/selected by the peer is below our minimum'],
  ERR_SSL_WRONG_SSL_VERSION: ['version', 'peer used a TLS version we do not allow'],
  ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION: ['version', 'peer refused every TLS version we offered (protocol_version alert)'],
  ERR_SSL_NO_PROTOCOLS_AVAILABLE: ['version', 'no TLS version enabled by the local policy'],
  ERR_SSL_NO_SHARED_CIPHER: ['cipher', 'no cipher suite in common with the peer'],
  ERR_SSL_NO_CIPHERS_AVAILABLE: ['cipher', 'no cipher suite enabled by the local policy'],
  ERR_SSL_NO_SUITABLE_SIGNATURE_ALGORITHM: ['cipher', 'no signature algorithm in common (legacy peer needs legacy TLS)'],
  ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE: ['cipher', 'peer aborted the handshake (handshake_failure alert): usually no suite or version in common'],
  ERR_SSL_TLSV1_ALERT_INSUFFICIENT_SECURITY: ['cipher', 'peer found our suites too weak (insufficient_security alert)'],
  CERT_NOT_YET_VALID: ['clock', `peer certificate is not yet valid: ${CLOCK_HINT}`],
  CERT_HAS_EXPIRED: ['clock', `peer certificate has expired, or our clock is ahead: ${CLOCK_HINT}`],
  ERROR_IN_CERT_NOT_BEFORE_FIELD: ['clock', `peer certificate has an invalid notBefore: ${CLOCK_HINT}`],
  ERROR_IN_CERT_NOT_AFTER_FIELD: ['clock', `peer certificate has an invalid notAfter: ${CLOCK_HINT}`],
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED: ['clock', `peer rejected our certificate as expired or not yet valid: ${CLOCK_HINT}`],
  DEPTH_ZERO_SELF_SIGNED_CERT: ['trust', 'peer certificate is self-signed and not trusted'],
  SELF_SIGNED_CERT_IN_CHAIN: ['trust', 'peer chain ends in an untrusted root'],
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: ['trust', 'peer certificate issuer is not trusted (import its CA)'],
  UNABLE_TO_GET_ISSUER_CERT: ['trust', 'peer certificate issuer is not trusted (import its CA)'],
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: ['trust', 'peer certificate issuer is not trusted (import its CA, or enable the chain on the peer)'],
  CERT_SIGNATURE_FAILURE: ['trust', 'peer certificate signature does not verify'],
  CERT_REVOKED: ['trust', 'peer certificate is revoked'],
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: ['trust', 'peer does not trust our CA: install ca.crt on it (switchboard cert export-ca)'],
  ERR_TLS_CERT_ALTNAME_INVALID: ['hostname', 'peer certificate does not name the host dialled'],
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: ['certificate', 'peer rejected our certificate (bad_certificate alert)'],
  ERR_SSL_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE: ['certificate', 'peer rejected our certificate type (unsupported_certificate alert)'],
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN: ['certificate', 'peer rejected our certificate (certificate_unknown alert): trust, name or clock on its side'],
  ERR_SSL_WRONG_VERSION_NUMBER: ['not-tls', 'peer did not send TLS (plaintext on a TLS port?)'],
  // OpenSSL 3.5 (Node 24) reads a SIP request line as HTTP: say what both mean.
  ERR_SSL_HTTP_REQUEST: ['not-tls', 'peer did not send TLS (a plaintext SIP or HTTP request on a TLS port)'],
  ERR_SSL_PACKET_LENGTH_TOO_LONG: ['not-tls', 'peer did not send TLS (plaintext on a TLS port?)'],
  ECONNRESET: ['network', 'connection reset during the TLS handshake'],
  EPIPE: ['network', 'connection closed during the TLS handshake'],
};

function firstLine(s: string): string {
  const nl = s.indexOf('\n');
  return (nl < 0 ? s : s.slice(0, nl)).trim();
}

/** Classifies a TLS error from 'tlsClientError', a client 'error', or authorizationError. */
export function classifyTlsError(err: unknown, ctx: TlsErrorContext = {}): TlsErrorInfo {
  const e = (err ?? {}) as { code?: unknown; message?: unknown; reason?: unknown };
  const code = typeof e.code === 'string' ? e.code : typeof err === 'string' ? err : '';
  const raw = typeof e.message === 'string' ? firstLine(e.message) : '';
  const known = BY_CODE[code];
  let category: TlsErrorCategory;
  let text: string;
  if (known) {
    [category, text] = known;
    if (category === 'hostname' && typeof e.reason === 'string') text += ` (${firstLine(e.reason)})`;
  } else if (code === 'ERR_TLS_HANDSHAKE_TIMEOUT') {
    [category, text] = ['network', 'TLS handshake timed out'];
  } else {
    category = 'other';
    text = raw || 'TLS handshake failed';
  }
  if ((category === 'version' || category === 'cipher') && ctx.legacyTls === false) {
    text += '; legacy TLS is off (TLS 1.2+, AEAD suites only)';
  }
  let message = code ? `${text} [${code}]` : text;
  if (ctx.clientHello) message += `; client offered ${formatClientHello(ctx.clientHello)}`;
  return { category, clockProblem: category === 'clock', message: message.replace(/[\r\n]+/g, ' ') };
}

/** One-line reason for a rejected or failed handshake (EC-03, EC-12). */
export function describeTlsError(err: unknown, ctx?: TlsErrorContext): string {
  return classifyTlsError(err, ctx).message;
}

// ---------------------------------------------------------------------------
// ClientHello summary (EC-03: log the versions and suites we rejected).
// Node's 'tlsClientError' carries no ClientHello, so a listener that wants this
// reads the first chunk itself: net.Server, socket.once('data'), parse,
// socket.pause() (a flowing socket loses the bytes otherwise), unshift, then
// new tls.TLSSocket(socket, { isServer: true, secureContext }) and log its
// 'error' with describeTlsError(err, { clientHello }). See tls-policy.test.ts.
// Runs once per connection, never per SIP message.

export interface ClientHelloSummary {
  /** Record-layer and ClientHello legacy_version, e.g. 0x0301. */
  recordVersion: number;
  clientVersion: number;
  /** From the supported_versions extension (TLS 1.3 clients), GREASE removed. */
  supportedVersions: number[];
  /** Cipher suite code points in the client's order, GREASE and SCSVs kept. */
  cipherSuites: number[];
  serverName?: string;
  /** The hello did not fit in the bytes given; lists may be incomplete. */
  truncated: boolean;
}

const VERSION_NAMES: Record<number, string> = {
  0x0300: 'SSL 3.0',
  0x0301: 'TLS 1.0',
  0x0302: 'TLS 1.1',
  0x0303: 'TLS 1.2',
  0x0304: 'TLS 1.3',
};

export function tlsVersionName(v: number): string {
  return VERSION_NAMES[v] ?? `0x${v.toString(16).padStart(4, '0')}`;
}

// OpenSSL names, as used in our cipher strings, for suites a SIP peer is
// likely to offer; anything else is logged as its code point.
const SUITE_NAMES: Record<number, string> = {
  0x1301: 'TLS_AES_128_GCM_SHA256', 0x1302: 'TLS_AES_256_GCM_SHA384', 0x1303: 'TLS_CHACHA20_POLY1305_SHA256',
  0xc02b: 'ECDHE-ECDSA-AES128-GCM-SHA256', 0xc02f: 'ECDHE-RSA-AES128-GCM-SHA256',
  0xc02c: 'ECDHE-ECDSA-AES256-GCM-SHA384', 0xc030: 'ECDHE-RSA-AES256-GCM-SHA384',
  0xcca9: 'ECDHE-ECDSA-CHACHA20-POLY1305', 0xcca8: 'ECDHE-RSA-CHACHA20-POLY1305',
  0x009e: 'DHE-RSA-AES128-GCM-SHA256', 0x009f: 'DHE-RSA-AES256-GCM-SHA384',
  0xc023: 'ECDHE-ECDSA-AES128-SHA256', 0xc024: 'ECDHE-ECDSA-AES256-SHA384',
  0xc027: 'ECDHE-RSA-AES128-SHA256', 0xc028: 'ECDHE-RSA-AES256-SHA384',
  0x0067: 'DHE-RSA-AES128-SHA256', 0x006b: 'DHE-RSA-AES256-SHA256',
  0xc009: 'ECDHE-ECDSA-AES128-SHA', 0xc00a: 'ECDHE-ECDSA-AES256-SHA',
  0xc013: 'ECDHE-RSA-AES128-SHA', 0xc014: 'ECDHE-RSA-AES256-SHA',
  0x0033: 'DHE-RSA-AES128-SHA', 0x0039: 'DHE-RSA-AES256-SHA',
  0x009c: 'AES128-GCM-SHA256', 0x009d: 'AES256-GCM-SHA384',
  0x003c: 'AES128-SHA256', 0x003d: 'AES256-SHA256', 0x002f: 'AES128-SHA', 0x0035: 'AES256-SHA',
  0x000a: 'DES-CBC3-SHA', 0x0005: 'RC4-SHA', 0x0004: 'RC4-MD5',
  0x00ff: 'EMPTY-RENEGOTIATION-INFO-SCSV', 0x5600: 'FALLBACK-SCSV',
};

export function cipherSuiteName(code: number): string {
  return SUITE_NAMES[code] ?? `0x${code.toString(16).padStart(4, '0')}`;
}

/** RFC 8701 GREASE values (0x?A?A) carry no meaning and would clutter logs. */
function isGrease(v: number): boolean {
  return (v & 0x0f0f) === 0x0a0a && v >> 8 === (v & 0xff);
}

/**
 * Summarises a TLS ClientHello from the first bytes of a connection (the
 * first record only). Returns null when the bytes are not a TLS handshake
 * record carrying a ClientHello. Never throws.
 */
export function parseClientHello(buf: Uint8Array): ClientHelloSummary | null {
  // Record header (5) + handshake header (4) + legacy_version (2).
  if (buf.length < 11 || buf[0] !== 0x16 || buf[5] !== 0x01) return null;
  const recordVersion = (buf[1]! << 8) | buf[2]!;
  const declaredEnd = 5 + ((buf[3]! << 8) | buf[4]!);
  const recordEnd = Math.min(buf.length, declaredEnd);
  const out: ClientHelloSummary = {
    recordVersion,
    clientVersion: (buf[9]! << 8) | buf[10]!,
    supportedVersions: [],
    cipherSuites: [],
    truncated: true,
  };
  const u16 = (p: number): number => (buf[p]! << 8) | buf[p + 1]!;
  let p = 11 + 32; // random
  if (p >= recordEnd) return out;
  p += 1 + buf[p]!; // session_id
  if (p + 2 > recordEnd) return out;
  const suitesEnd = p + 2 + u16(p);
  for (p += 2; p + 2 <= Math.min(suitesEnd, recordEnd); p += 2) out.cipherSuites.push(u16(p));
  if (suitesEnd >= recordEnd) return out;
  p = suitesEnd;
  p += 1 + buf[p]!; // compression_methods
  if (p + 2 > recordEnd) {
    // A hello without extensions is legal (old TLS 1.0 stacks).
    out.truncated = p !== recordEnd || recordEnd !== declaredEnd;
    return out;
  }
  const extsEnd = Math.min(recordEnd, p + 2 + u16(p));
  for (p += 2; p + 4 <= extsEnd; ) {
    const type = u16(p);
    const len = u16(p + 2);
    const body = p + 4;
    if (body + len > extsEnd) return out;
    if (type === 0x0000 && len >= 5 && buf[body + 2] === 0) {
      const nameLen = u16(body + 3);
      if (body + 5 + nameLen <= body + len) out.serverName = printable(buf, body + 5, nameLen);
    } else if (type === 0x002b && len >= 1) {
      const end = Math.min(body + 1 + buf[body]!, body + len);
      for (let q = body + 1; q + 2 <= end; q += 2) {
        const v = u16(q);
        if (!isGrease(v)) out.supportedVersions.push(v);
      }
    }
    p = body + len;
  }
  out.truncated = recordEnd !== declaredEnd;
  return out;
}

/** The SNI is attacker-chosen and ends up in logs: printable ASCII only, bounded. */
function printable(buf: Uint8Array, start: number, len: number): string {
  let s = '';
  for (let i = start; i < start + Math.min(len, 255); i++) {
    const c = buf[i]!;
    s += c >= 0x21 && c <= 0x7e ? String.fromCharCode(c) : '?';
  }
  return s;
}

/** "up to TLS 1.1, suites ECDHE-RSA-AES256-SHA, AES128-SHA, … (+3), sni pbx.example.com". */
export function formatClientHello(h: ClientHelloSummary, maxSuites = 12): string {
  let s: string;
  if (h.supportedVersions.length > 0) {
    const lo = Math.min(...h.supportedVersions);
    const hi = Math.max(...h.supportedVersions);
    s = lo === hi ? tlsVersionName(hi) : `${tlsVersionName(lo)}–${tlsVersionName(hi)}`;
  } else {
    // Before TLS 1.3 a client states only its highest version.
    s = `up to ${tlsVersionName(h.clientVersion)}`;
  }
  const suites = h.cipherSuites.filter((c) => !isGrease(c));
  s += `, suites ${suites.slice(0, maxSuites).map(cipherSuiteName).join(', ') || '(none)'}`;
  if (suites.length > maxSuites) s += ` … (+${suites.length - maxSuites})`;
  if (h.serverName !== undefined) s += `, sni ${h.serverName}`;
  if (h.truncated) s += ' (truncated hello)';
  return s;
}
