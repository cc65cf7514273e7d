// The identity a TLS peer proved with its client certificate (RFC 5922 §7.1,
// RFC 6125 §6.4.4): what the transport reports; who it trusts is the user's business.
import type { PeerCertificate } from 'node:tls';

/** A peer whose client certificate chained to a CA the listener trusts. */
export interface TlsPeer {
  /** Lower case, no trailing dot: its DNS subjectAltNames, or its one CN when it has none. */
  readonly names: readonly string[];
}

/** Letters, digits, hyphens, dots (and "*" for a wildcard label, reported as it is; callers decide). */
const DNS_NAME = /^[a-z0-9*]([a-z0-9*-]*[a-z0-9*])?(\.[a-z0-9*]([a-z0-9*-]*[a-z0-9*])?)*$/;

function clean(name: string): string | undefined {
  let n = name.trim().toLowerCase();
  if (n.endsWith('.')) n = n.slice(0, -1);
  return n.length > 0 && n.length <= 253 && DNS_NAME.test(n) ? n : undefined;
}

/**
 * The DNS names a certificate asserts: its subjectAltName DNS entries; only
 * when it has none, its subject CN (RFC 6125 §6.4.4). Runs once per
 * connection. Node quotes a SAN value holding a comma or quote: such a
 * value is no DNS name and is dropped.
 */
export function certificateNames(cert: Pick<PeerCertificate, 'subjectaltname' | 'subject'>): string[] {
  const out: string[] = [];
  const san = cert.subjectaltname ?? '';
  for (const part of san.split(', ')) {
    if (!part.startsWith('DNS:')) continue;
    const n = clean(part.slice(4));
    if (n !== undefined && !out.includes(n)) out.push(n);
  }
  if (out.length > 0 || /(^|, )DNS:/.test(san)) return out;
  const cn = cert.subject?.CN as unknown;
  // Several CNs: which one names the host is ambiguous, so none does.
  const n = typeof cn === 'string' ? clean(cn) : undefined;
  return n === undefined ? [] : [n];
}
