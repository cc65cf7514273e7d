// SRTP as a relay PacketTransform: "inbound" unprotects what a side sends us,
// "outbound" protects what we send it. One SrtpSession per direction and side,
// since each direction has its own master key (RFC 4568: each side keys what it sends).
import type { PacketTransform } from './relay.ts';
import { SrtpSession } from './srtp.ts';
import type { SrtpSessionOptions } from './srtp.ts';

export class SrtpTransform implements PacketTransform {
  readonly session: SrtpSession;
  lastDrop: string | null = null;

  constructor(
    opts: SrtpSessionOptions,
    private readonly direction: 'protect' | 'unprotect',
  ) {
    this.session = new SrtpSession(opts);
  }

  rtp(packet: Buffer): Buffer | null {
    // Unprotect in place: the relay hands us its own copy. Protect grows the packet, so it gets a new one.
    const out = this.direction === 'protect' ? this.session.protectRtp(packet) : this.session.unprotectRtp(packet, packet);
    if (out === null) this.lastDrop = 'srtp';
    return out;
  }

  rtcp(packet: Buffer): Buffer | null {
    const out = this.direction === 'protect' ? this.session.protectRtcp(packet) : this.session.unprotectRtcp(packet, packet);
    if (out === null) this.lastDrop = 'srtcp';
    return out;
  }

  destroy(): void {
    this.session.destroy();
  }
}
