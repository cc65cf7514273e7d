// Host and host:port text as SIP, URIs and our configuration write it: an IPv6
// literal goes in brackets wherever a port may follow (RFC 3986 §3.2.2,
// RFC 3261 §25.1 "IPv6reference"), so "::1" alone never reads as host ":" port.
import os from 'node:os';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

/** The host as it goes before ":port" or into a URI: IPv6 literals bracketed, anything else unchanged. */
export function bracketHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** The bare address of a possibly bracketed host ("[::1]" -> "::1"), for sockets and comparisons. */
export function unbracketHost(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** "host:port", "[v6]:port". */
export function formatHostPort(host: string, port: number): string {
  return `${bracketHost(host)}:${port}`;
}

export interface HostPort {
  host: string;
  port: number;
}

/**
 * Reads "host:port", "[v6]:port", and, when a default port is given, "host"
 * and "[v6]". Undefined when malformed: a bare IPv6 address (the port would
 * be ambiguous), an empty host, a port that is not 0-65535.
 */
export function parseHostPort(s: string, defaultPort?: number): HostPort | undefined {
  let host: string;
  let portText: string | undefined;
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0) return undefined;
    host = s.slice(1, end);
    const rest = s.slice(end + 1);
    if (rest !== '' && !rest.startsWith(':')) return undefined;
    portText = rest === '' ? undefined : rest.slice(1);
  } else {
    const colon = s.indexOf(':');
    if (colon >= 0 && s.indexOf(':', colon + 1) >= 0) return undefined;
    host = colon >= 0 ? s.slice(0, colon) : s;
    portText = colon >= 0 ? s.slice(colon + 1) : undefined;
  }
  if (host === '') return undefined;
  if (portText === undefined) return defaultPort === undefined ? undefined : { host, port: defaultPort };
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) return undefined;
  return { host, port: Number(portText) };
}

/** True for the any-address binds, which name no address a peer could reach. */
export function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::';
}

/** This host's non-loopback interface addresses (IPv6 zone ids dropped), optionally of one family. */
export function externalAddresses(family?: 'IPv4' | 'IPv6'): string[] {
  const out: string[] = [];
  for (const list of Object.values(os.networkInterfaces())) {
    for (const i of list ?? []) {
      if (!i.internal && (family === undefined || i.family === family)) out.push(i.address.split('%')[0]!);
    }
  }
  return out;
}

/** Every address a host name resolves to (the literal itself for an IP); [] when it does not resolve. */
export async function resolveAddresses(host: string): Promise<string[]> {
  if (isIP(host)) return [host];
  try {
    return (await lookup(host, { all: true })).map((a) => a.address);
  } catch {
    return [];
  }
}
