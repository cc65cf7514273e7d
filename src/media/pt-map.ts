// Payload type mapping between the legs of a relayed call: when one side
// numbers a codec (typically telephone-event) differently from the other,
// packets are renumbered on their way, so each side receives the numbers it
// declared (RFC 3264 §6.1 lets an answerer choose its own dynamic numbers).

/** Rewrites the RTP payload type byte (keeping the marker bit) by a table; everything else passes. */
export class PayloadTypeMap {
  private readonly table = new Int16Array(128).fill(-1);
  readonly size: number;
  lastDrop: string | null = null;

  constructor(
    map: ReadonlyMap<number, number>,
    private readonly next: { rtp(p: Buffer): Buffer | null; rtcp(p: Buffer): Buffer | null; readonly lastDrop?: string | null } | null,
  ) {
    for (const [from, to] of map) if (from >= 0 && from < 128 && to >= 0 && to < 128) this.table[from] = to;
    this.size = map.size;
  }

  rtp(packet: Buffer): Buffer | null {
    if (packet.length >= 12) {
      const to = this.table[packet[1]! & 0x7f]!;
      if (to >= 0) packet[1] = (packet[1]! & 0x80) | to;
    }
    const out = this.next ? this.next.rtp(packet) : packet;
    if (out === null) this.lastDrop = this.next?.lastDrop ?? 'outbound';
    return out;
  }

  rtcp(packet: Buffer): Buffer | null {
    return this.next ? this.next.rtcp(packet) : packet;
  }
}

/**
 * Numbers that differ between two lists of (payload type, codec key) — e.g.
 * [[101,'telephone-event/8000'], ...] — as a map from the first side's number
 * to the second side's, for the codecs both have.
 */
export function payloadTypeMap(from: ReadonlyArray<[number, string]>, to: ReadonlyArray<[number, string]>): Map<number, number> {
  const byKey = new Map<string, number>();
  for (const [pt, key] of to) if (!byKey.has(key)) byKey.set(key, pt);
  const out = new Map<number, number>();
  for (const [pt, key] of from) {
    const other = byKey.get(key);
    if (other !== undefined && other !== pt) out.set(pt, other);
  }
  return out;
}
