// Where a stream's media goes, rewriting it, and the o= version.
//
// RFC 3264 §8: every changed description a party sends in one session carries
// an o= session version one higher than the last; a B2BUA that rewrites SDP on
// a leg owns that leg's numbering and must bump it on each change.

import { isIP } from 'node:net';
import type { Sdp, SdpAttribute } from './model.ts';
import { cloneSdp, findAttribute, mediaAt } from './model.ts';

export interface MediaEndpoint {
  /** Unicast address (a multicast "/ttl" suffix is cut off); "0.0.0.0" for an RFC 2543 hold. */
  address: string;
  /** "IP4" / "IP6" as written in c=. */
  addrType: string;
  port: number;
  /** From a=rtcp when present, the RTP port with a=rtcp-mux, else port + 1. */
  rtcpPort: number;
  /** a=rtcp's own address when it gives one, else `address`. */
  rtcpAddress: string;
}

function parseRtcp(a: SdpAttribute | null): { port: number; address: string | null } | null {
  if (!a || a.value === null) return null;
  const m = /^([0-9]{1,5})(?:[ \t]+\S+[ \t]+\S+[ \t]+(\S+))?[ \t]*$/.exec(a.value);
  if (!m) return null;
  const port = Number(m[1]);
  return port > 65535 ? null : { port, address: m[2] ?? null };
}

/**
 * Where stream `mediaIndex` wants its media sent: media-level c= over
 * session-level c=. Null when there is no c= for it or the stream is disabled
 * (port 0). RangeError for an index that does not exist.
 */
export function connectionOf(sdp: Sdp, mediaIndex: number): MediaEndpoint | null {
  const m = mediaAt(sdp, mediaIndex);
  const c = m.connections[0] ?? sdp.connection;
  if (!c || m.port === 0) return null;
  const address = c.address.split('/')[0] as string;
  const rtcp = parseRtcp(findAttribute(m.attributes, 'rtcp'));
  const mux = findAttribute(m.attributes, 'rtcp-mux') !== null;
  const rtcpPort = rtcp ? rtcp.port : mux ? m.port : Math.min(m.port + 1, 65535);
  return { address, addrType: c.addrType, port: m.port, rtcpPort, rtcpAddress: rtcp?.address ?? address };
}

export interface SetConnectionOptions {
  /** Written as a=rtcp when it is not port + 1. Without it any a=rtcp goes, since it named the old endpoint. */
  rtcpPort?: number;
}

/**
 * A copy in which stream `mediaIndex` receives at `address`:`port` (a relay's
 * or a NATed endpoint's real address). The stream's own c= is rewritten, or the
 * session c= when no other stream depends on it, or a stream c= is added.
 * a=rtcp is dropped or rewritten (see SetConnectionOptions); a=rtcp-mux stays.
 * RangeError for a bad index, address (IP literal required) or port.
 */
export function setConnection(sdp: Sdp, mediaIndex: number, address: string, port: number, opts: SetConnectionOptions = {}): Sdp {
  mediaAt(sdp, mediaIndex);
  const family = isIP(address);
  if (family === 0) throw new RangeError(`setConnection: ${JSON.stringify(address)} is not an IP address`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`setConnection: port ${port} is not 1-65535`);
  const { rtcpPort } = opts;
  if (rtcpPort !== undefined && (!Number.isInteger(rtcpPort) || rtcpPort < 1 || rtcpPort > 65535)) {
    throw new RangeError(`setConnection: rtcpPort ${rtcpPort} is not 1-65535`);
  }
  const out = cloneSdp(sdp);
  const m = out.media[mediaIndex] as (typeof out.media)[number];
  const conn = { netType: 'IN', addrType: family === 6 ? 'IP6' : 'IP4', address };
  const othersUseSession = out.media.some((x, i) => i !== mediaIndex && x.connections.length === 0);
  if (m.connections.length > 0) m.connections = [conn];
  else if (out.connection && !othersUseSession) out.connection = conn;
  else m.connections = [conn];
  m.port = port;

  const at = m.attributes.findIndex((a) => a.name.toLowerCase() === 'rtcp');
  m.attributes = m.attributes.filter((a) => a.name.toLowerCase() !== 'rtcp');
  if (rtcpPort !== undefined && rtcpPort !== port + 1) {
    const line = { name: 'rtcp', value: String(rtcpPort) };
    if (at >= 0) m.attributes.splice(at, 0, line);
    else m.attributes.push(line);
  }
  return out;
}

/** A copy whose o= session version is one higher (decimal, no 64-bit wrap: RFC 3264 only asks that it increase). */
export function bumpVersion(sdp: Sdp): Sdp {
  const out = cloneSdp(sdp);
  out.origin.sessionVersion = (BigInt(sdp.origin.sessionVersion) + 1n).toString();
  return out;
}

/**
 * A copy with o= version `version` (decimal digits or bigint): for a B2BUA
 * that numbers its own descriptions on a leg rather than bumping the peer's.
 */
export function withVersion(sdp: Sdp, version: bigint | string): Sdp {
  const v = typeof version === 'bigint' ? version.toString() : version;
  if (!/^[0-9]{1,20}$/.test(v)) throw new RangeError(`o= session version must be 1 to 20 digits, got ${JSON.stringify(v.slice(0, 40))}`);
  const out = cloneSdp(sdp);
  out.origin.sessionVersion = v;
  return out;
}
