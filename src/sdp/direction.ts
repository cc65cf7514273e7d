// Media direction and hold (RFC 3264 §5.1, §6.1, §8.4).
//
// A stream's direction is its own a=sendrecv/sendonly/recvonly/inactive, else
// the session-level one, else sendrecv. A connection address of 0.0.0.0 is
// the RFC 2543 way to hold: nobody can send to it, so the stream's receive
// half is off whatever the attribute says.

import type { Sdp, SdpAttribute, SdpMedia } from './model.ts';
import { cloneSdp, mediaAt } from './model.ts';

export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

const DIRECTIONS: ReadonlySet<string> = new Set<Direction>(['sendrecv', 'sendonly', 'recvonly', 'inactive']);

function isDirectionAttr(a: SdpAttribute): boolean {
  return a.value === null && DIRECTIONS.has(a.name.toLowerCase());
}

/** The first direction attribute in `attrs`, or null. */
export function directionAttribute(attrs: readonly SdpAttribute[]): Direction | null {
  for (const a of attrs) if (isDirectionAttr(a)) return a.name.toLowerCase() as Direction;
  return null;
}

function withoutReceive(d: Direction): Direction {
  if (d === 'sendrecv') return 'sendonly';
  if (d === 'recvonly') return 'inactive';
  return d;
}

function isSdp(x: Sdp | SdpMedia): x is Sdp {
  return 'origin' in x;
}

function rfc2543Hold(address: string | undefined): boolean {
  return address === '0.0.0.0';
}

/**
 * Direction of a stream as its sender means it. With a whole description,
 * stream `mediaIndex` (session-level attribute and c= as fallback; the
 * session's own direction when there is no media). With a media section alone,
 * only what it carries.
 */
export function mediaDirection(target: Sdp | SdpMedia, mediaIndex = 0): Direction {
  if (!isSdp(target)) {
    const d = directionAttribute(target.attributes) ?? 'sendrecv';
    return rfc2543Hold(target.connections[0]?.address) ? withoutReceive(d) : d;
  }
  const sessionDir = directionAttribute(target.attributes);
  if (target.media.length === 0) {
    const d = sessionDir ?? 'sendrecv';
    return rfc2543Hold(target.connection?.address) ? withoutReceive(d) : d;
  }
  const m = mediaAt(target, mediaIndex);
  const d = directionAttribute(m.attributes) ?? sessionDir ?? 'sendrecv';
  const address = m.connections[0]?.address ?? target.connection?.address;
  return rfc2543Hold(address) ? withoutReceive(d) : d;
}

/**
 * True when the description puts the call on hold: it has at least one
 * active stream (port not 0) and none of them asks to receive
 * (each is sendonly or inactive, counting c=0.0.0.0).
 */
export function isHold(sdp: Sdp): boolean {
  let active = 0;
  for (let i = 0; i < sdp.media.length; i++) {
    if ((sdp.media[i] as SdpMedia).port === 0) continue;
    active++;
    const d = mediaDirection(sdp, i);
    if (d === 'sendrecv' || d === 'recvonly') return false;
  }
  return active > 0;
}

/** The direction an answerer mirrors back (RFC 3264 §6.1): sendonly ↔ recvonly. */
export function answerDirection(offered: Direction): Direction {
  if (offered === 'sendonly') return 'recvonly';
  if (offered === 'recvonly') return 'sendonly';
  return offered;
}

function setOn(attrs: SdpAttribute[], direction: Direction): SdpAttribute[] {
  const first = attrs.findIndex(isDirectionAttr);
  const out = attrs.filter((a, i) => i === first || !isDirectionAttr(a));
  if (first < 0) out.push({ name: direction, value: null });
  else out[out.findIndex(isDirectionAttr)] = { name: direction, value: null };
  return out;
}

/**
 * A copy with `direction` on stream `mediaIndex`, or on every stream when it
 * is omitted. The stream's direction attribute is replaced where it stood
 * (extra ones dropped) or appended. RangeError for an index that does not exist.
 */
export function setDirection(sdp: Sdp, direction: Direction, mediaIndex?: number): Sdp {
  if (!DIRECTIONS.has(direction)) throw new RangeError(`not an SDP direction: ${String(direction)}`);
  if (mediaIndex !== undefined) mediaAt(sdp, mediaIndex);
  const out = cloneSdp(sdp);
  if (out.media.length === 0) {
    out.attributes = setOn(out.attributes, direction);
    return out;
  }
  out.media.forEach((m, i) => {
    if (mediaIndex === undefined || i === mediaIndex) m.attributes = setOn(m.attributes, direction);
  });
  return out;
}
