// The built-in anchored media relay. A RelaySession is one media stream (one
// m= line) between two sides, A and B, each with its own local RTP/RTCP port
// pair. It knows nothing of SIP or SDP: the B2BUA hands it addresses from the
// SDP and packet transforms (SRTP) per side.
//
// Hot path (every packet): no closures, objects, regexes or logging of ours;
// the per-socket handlers are created once, counters are plain numbers.
import type { RemoteInfo } from 'node:dgram';
import { isIP } from 'node:net';
import type { Logger } from '../lib/log.ts';
import { silentLogger } from '../lib/log.ts';
import { isWildcard } from '../lib/net.ts';
import { monotonicClock } from '../lib/time.ts';
import type { Clock } from '../lib/time.ts';
import { MediaError, PortPool, type PortPair } from './port-pool.ts';
import { RTCP_HEADER_MIN, RTP_HEADER_MIN, RTP_VERSION, isRtcp, rtpPayloadType, rtpSeq, rtpSsrc, rtpTimestamp } from './rtp.ts';
import { SideStats, type SideStatsSnapshot } from './stats.ts';

export { MediaError, type MediaErrorCode } from './port-pool.ts';

/**
 * Changes packets on their way through one side (SRTP unprotect/protect).
 * null drops the packet (authentication or replay failure); `lastDrop`, when
 * the transform has it, names why. A transform may change and return the
 * packet it is given (the relay's own copy) or return a new Buffer; it must
 * not return a Buffer it reuses for later packets, because sends complete
 * after the call returns.
 */
export interface PacketTransform {
  rtp(packet: Buffer): Buffer | null;
  rtcp(packet: Buffer): Buffer | null;
  readonly lastDrop?: string | null;
}

export interface SideTransforms {
  /** Applied to what arrives from this side (decrypt). undefined keeps the current one, null removes it. */
  inbound?: PacketTransform | null;
  /** Applied to what the relay sends to this side (encrypt). */
  outbound?: PacketTransform | null;
}

export type RelaySide = 'a' | 'b';

/** Where a side's endpoint said (in its SDP) it receives media. */
export interface RemoteEndpoint {
  /** IP address; '0.0.0.0' / '::' mean "send nothing" (old-style hold). */
  address: string;
  /** 0 = no destination. */
  rtpPort: number;
  /** Default rtpPort + 1. */
  rtcpPort?: number;
  /** RFC 5761: RTCP on the RTP port, both ways. */
  rtcpMux?: boolean;
  /** Latch to the first source whatever its IP (endpoint behind a NAT that rewrites its address). */
  latchAny?: boolean;
}

/** The relay's address and ports for one side: what the B2BUA writes into the SDP it sends that side. */
export interface LocalEndpoint {
  address: string;
  rtpPort: number;
  rtcpPort: number;
}

export interface MediaRelayConfig {
  /** Address the media sockets bind to (an IP; a wildcard needs advertiseAddress). */
  host: string;
  /** Address written into SDP, when it differs from host (wildcard bind, 1:1 NAT). */
  advertiseAddress?: string;
  portMin: number;
  portMax: number;
}

export interface MediaRelayOptions {
  /** Milliseconds, monotonic; used for lastPacketAt, jitter and re-latching. Default monotonicClock. */
  clock?: Clock;
  logger?: Logger;
  /** A latched source must have been silent this long before another may take its place. Default 2000. */
  relatchAfterMs?: number;
}

export interface RelaySessionOptions {
  /** Shown in logs, e.g. the call id and stream index. Never per packet. */
  label?: string;
  /** Payload clock for jitter on both sides, Hz. Default 8000. */
  clockRate?: number;
}

export interface SideReport extends SideStatsSnapshot {
  local: LocalEndpoint | null;
  remote: { address: string; rtpPort: number; rtcpPort: number; rtcpMux: boolean; latchAny: boolean } | null;
  /** Where packets really come from (and go back to); null until latched. */
  latched: { rtp: { address: string; port: number } | null; rtcp: { address: string; port: number } | null };
}

export interface RelaySessionStats {
  a: SideReport;
  b: SideReport;
}

const DEFAULT_RELATCH_MS = 2000;
const REJECT = 0;
const ACCEPT = 1;
/** Allowed to latch once the inbound transform accepts it (so a forged packet cannot steal the latch). */
const CANDIDATE = 2;

/** Source address:port a socket's traffic is pinned to. */
class Latch {
  address: string | null = null;
  port = 0;
  seenAt = 0;

  clear(): void {
    this.address = null;
    this.port = 0;
  }
}

type RemoteView = NonNullable<SideReport['remote']>;

class Leg {
  /** The other side; set right after both exist. */
  peer: Leg = this;
  pair: PortPair | null = null;
  local: LocalEndpoint | null = null;
  remote: RemoteView | null = null;
  /** remote.address in the socket's family form; null = none. */
  sigAddress: string | null = null;
  readonly rtpLatch = new Latch();
  readonly rtcpLatch = new Latch();
  inbound: PacketTransform | null = null;
  outbound: PacketTransform | null = null;
  readonly stats = new SideStats();
  warnedForeign = false;

  constructor(readonly side: RelaySide) {}
}

export class RelaySession {
  readonly label: string;
  readonly #relay: MediaRelay;
  readonly #a: Leg;
  readonly #b: Leg;
  #closed = false;
  #allocating: Promise<{ a: LocalEndpoint; b: LocalEndpoint }> | null = null;

  /** Use MediaRelay.createSession. */
  constructor(relay: MediaRelay, opts: RelaySessionOptions = {}) {
    this.#relay = relay;
    this.label = opts.label ?? '';
    this.#a = new Leg('a');
    this.#b = new Leg('b');
    this.#a.peer = this.#b;
    this.#b.peer = this.#a;
    if (opts.clockRate !== undefined) {
      this.setPayloadFormat('a', { clockRate: opts.clockRate });
      this.setPayloadFormat('b', { clockRate: opts.clockRate });
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Binds a port pair for each side; repeated calls give the same endpoints. */
  allocate(): Promise<{ a: LocalEndpoint; b: LocalEndpoint }> {
    if (this.#closed) return Promise.reject(new MediaError('closed', 'media session is closed'));
    this.#allocating ??= this.#allocateBoth();
    return this.#allocating;
  }

  local(side: RelaySide): LocalEndpoint | null {
    return this.#leg(side).local;
  }

  /** Sets where a side receives media (from its SDP). A changed address or port forgets that side's latched sources. */
  setRemote(side: RelaySide, remote: RemoteEndpoint): void {
    const leg = this.#leg(side);
    const { view, sigAddress } = checkRemote(remote, this.#relay.pool.family, this.#relay.pool.host);
    const old = leg.remote;
    const changed =
      old === null || leg.sigAddress !== sigAddress || old.rtpPort !== view.rtpPort || old.rtcpPort !== view.rtcpPort || old.rtcpMux !== view.rtcpMux;
    leg.remote = view;
    leg.sigAddress = sigAddress;
    if (changed) {
      leg.rtpLatch.clear();
      leg.rtcpLatch.clear();
      leg.warnedForeign = false;
    }
  }

  /** Swaps a side's transforms (re-key); takes effect with the next packet. */
  setTransforms(side: RelaySide, t: SideTransforms): void {
    const leg = this.#leg(side);
    if (t.inbound !== undefined) leg.inbound = checkTransform(t.inbound, 'inbound');
    if (t.outbound !== undefined) leg.outbound = checkTransform(t.outbound, 'outbound');
  }

  /** Payload clock of the RTP this side sends (for jitter), and optionally the one payload type to measure jitter on. */
  setPayloadFormat(side: RelaySide, f: { clockRate: number; payloadType?: number }): void {
    this.#leg(side).stats.receive.setClock(f.clockRate, f.payloadType ?? -1);
  }

  /** When the last packet accepted from this side arrived (relay clock, ms); null before any. */
  lastPacketAt(side: RelaySide): number | null {
    return this.#leg(side).stats.lastPacketAt;
  }

  stats(): RelaySessionStats {
    return { a: report(this.#a), b: report(this.#b) };
  }

  /** Releases both port pairs. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#relay.forget(this);
    await Promise.all([this.#releaseLeg(this.#a), this.#releaseLeg(this.#b)]);
  }

  /**
   * Sends an RTP packet we made (RFC 4733 events for a SIP INFO digit) to
   * `side` as it is: the caller has already put it through whatever that
   * side's outbound transform does (numbering, SRTP).
   */
  inject(side: RelaySide, packet: Buffer): void {
    if (this.#closed) return;
    const to = this.#leg(side);
    this.#forward(to.peer, to, packet, false, false);
  }

  #leg(side: RelaySide): Leg {
    if (side === 'a') return this.#a;
    if (side === 'b') return this.#b;
    throw new MediaError('invalid', `side must be 'a' or 'b', got '${String(side)}'`);
  }

  async #allocateBoth(): Promise<{ a: LocalEndpoint; b: LocalEndpoint }> {
    try {
      const a = await this.#allocateLeg(this.#a);
      const b = await this.#allocateLeg(this.#b);
      return { a, b };
    } catch (err) {
      await Promise.all([this.#releaseLeg(this.#a), this.#releaseLeg(this.#b)]);
      this.#allocating = null;
      throw err;
    }
  }

  async #allocateLeg(leg: Leg): Promise<LocalEndpoint> {
    const pair = await this.#relay.pool.allocate();
    leg.pair = pair;
    if (this.#closed) throw new MediaError('closed', 'media session was closed while allocating ports');
    // One handler per socket for the session's life, not one per packet.
    const onError = (): void => {
      leg.stats.drops.socketErrors++;
    };
    pair.rtp.on('message', (msg: Buffer, rinfo: RemoteInfo) => this.#guarded(leg, msg, rinfo, leg.rtpLatch)).on('error', onError);
    pair.rtcp.on('message', (msg: Buffer, rinfo: RemoteInfo) => this.#guarded(leg, msg, rinfo, leg.rtcpLatch)).on('error', onError);
    leg.local = { address: this.#relay.advertiseAddress, rtpPort: pair.rtpPort, rtcpPort: pair.rtcpPort };
    return leg.local;
  }

  async #releaseLeg(leg: Leg): Promise<void> {
    const pair = leg.pair;
    if (pair === null) return;
    leg.pair = null;
    await this.#relay.pool.release(pair);
  }

  /** A transform that throws (a bug) costs that packet, never the process. */
  #guarded(leg: Leg, msg: Buffer, rinfo: RemoteInfo, latch: Latch): void {
    try {
      this.#receive(leg, msg, rinfo, latch);
    } catch (err) {
      leg.stats.drops.errors++;
      if (leg.stats.drops.errors === 1) {
        this.#relay.logger.error({ session: this.label, side: leg.side, err: (err as Error)?.message ?? String(err) }, 'media packet handling failed');
      }
    }
  }

  #receive(leg: Leg, msg: Buffer, rinfo: RemoteInfo, latch: Latch): void {
    if (this.#closed) return;
    const stats = leg.stats;
    const now = this.#relay.now();
    const verdict = this.#admit(leg, latch, rinfo.address, rinfo.port, now);
    if (verdict === REJECT) {
      stats.drops.foreignSource++;
      if (!leg.warnedForeign) {
        leg.warnedForeign = true;
        this.#relay.logger.info({ session: this.label, side: leg.side, from: `${rinfo.address}:${rinfo.port}` }, 'media from an unexpected source dropped');
      }
      return;
    }
    // RFC 5761 §4: on the RTP port RTCP is told apart by its packet type (clear text in SRTCP too).
    const rtcp = latch === leg.rtcpLatch || isRtcp(msg);
    const dir = rtcp ? stats.rtcp : stats.rtp;
    dir.packetsIn++;
    dir.bytesIn += msg.length;
    let plain: Buffer | null = msg;
    const inbound = leg.inbound;
    if (inbound !== null) {
      plain = rtcp ? inbound.rtcp(msg) : inbound.rtp(msg);
      if (plain === null) {
        stats.drops.inbound++;
        stats.dropReason(inbound.lastDrop);
        return;
      }
    }
    if (verdict === CANDIDATE) this.#latch(leg, latch, rinfo, now);
    latch.seenAt = now;
    stats.lastPacketAt = now;
    if (plain.length < (rtcp ? RTCP_HEADER_MIN : RTP_HEADER_MIN) || plain[0]! >>> 6 !== RTP_VERSION) {
      stats.drops.malformed++;
      return;
    }
    if (rtcp) stats.rtcpReport(plain, now);
    else stats.receive.record(rtpSeq(plain), rtpTimestamp(plain), rtpSsrc(plain), rtpPayloadType(plain), now);
    this.#forward(leg, leg.peer, plain, rtcp);
  }

  #admit(leg: Leg, latch: Latch, address: string, port: number, now: number): number {
    if (latch.address !== null) {
      if (latch.port === port && latch.address === address) return ACCEPT;
      if (now - latch.seenAt < this.#relay.relatchAfterMs) return REJECT;
    }
    if ((leg.sigAddress !== null && address === leg.sigAddress) || leg.remote?.latchAny === true) return CANDIDATE;
    return REJECT;
  }

  #latch(leg: Leg, latch: Latch, rinfo: RemoteInfo, now: number): void {
    const previous = latch.address === null ? null : `${latch.address}:${latch.port}`;
    latch.address = rinfo.address;
    latch.port = rinfo.port;
    latch.seenAt = now;
    this.#relay.logger.debug(
      { session: this.label, side: leg.side, socket: latch === leg.rtpLatch ? 'rtp' : 'rtcp', source: `${rinfo.address}:${rinfo.port}`, previous },
      previous === null ? 'media source latched' : 'media source re-latched after silence',
    );
  }

  #forward(from: Leg, to: Leg, plain: Buffer, rtcp: boolean, transform = true): void {
    const pair = to.pair;
    const remote = to.remote;
    const viaRtcp = rtcp && remote?.rtcpMux !== true;
    const l = viaRtcp ? to.rtcpLatch : to.rtpLatch;
    const address = l.address ?? to.sigAddress;
    const port = l.address !== null ? l.port : remote === null ? 0 : viaRtcp ? remote.rtcpPort : remote.rtpPort;
    if (pair === null || address === null || port === 0) {
      from.stats.drops.noDestination++;
      return;
    }
    let out: Buffer | null = plain;
    const outbound = transform ? to.outbound : null;
    if (outbound !== null) {
      out = rtcp ? outbound.rtcp(plain) : outbound.rtp(plain);
      if (out === null) {
        from.stats.drops.outbound++;
        return;
      }
    }
    const dir = rtcp ? to.stats.rtcp : to.stats.rtp;
    dir.packetsOut++;
    dir.bytesOut += out.length;
    // Sent from the destination side's own socket: the address it was given in SDP (symmetric RTP).
    (viaRtcp ? pair.rtcp : pair.rtp).send(out, port, address);
  }
}

/**
 * Why media sockets bound to `host` (of `family`) cannot reach `address`, or
 * undefined when they can: an IPv6 peer from IPv4 sockets, an IPv4 peer from
 * IPv6 sockets that are not dual-stack (bound to '::').
 */
export function familyProblem(address: string, family: 4 | 6, host: string): string | undefined {
  if (isWildcard(address)) return undefined;
  const fam = isIP(address);
  if (fam === 6 && family === 4) return `remote.address ${address} is IPv6 but media binds IPv4 ${host}`;
  if (fam === 4 && family === 6 && host !== '::') return `remote.address ${address} is IPv4 but media binds IPv6 ${host}`;
  return undefined;
}

function checkTransform(t: PacketTransform | null, field: string): PacketTransform | null {
  if (t === null) return null;
  if (typeof t !== 'object' || typeof t.rtp !== 'function' || typeof t.rtcp !== 'function') {
    throw new MediaError('invalid', `${field} transform must have rtp() and rtcp() methods`);
  }
  return t;
}

function checkPort(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 65535) {
    throw new MediaError('invalid', `remote.${field} must be an integer in 0..65535, got ${String(v)}`);
  }
  return v;
}

function checkRemote(r: RemoteEndpoint, family: 4 | 6, host: string): { view: RemoteView; sigAddress: string | null } {
  if (r === null || typeof r !== 'object') throw new MediaError('invalid', 'remote must be an object');
  const fam = typeof r.address === 'string' ? isIP(r.address) : 0;
  if (fam === 0) throw new MediaError('invalid', `remote.address must be an IP address, got '${String(r.address)}'`);
  const rtpPort = checkPort(r.rtpPort, 'rtpPort');
  const rtcpPort = r.rtcpPort === undefined ? (rtpPort === 0 || rtpPort === 65535 ? 0 : rtpPort + 1) : checkPort(r.rtcpPort, 'rtcpPort');
  if (r.rtcpMux !== undefined && typeof r.rtcpMux !== 'boolean') throw new MediaError('invalid', 'remote.rtcpMux must be a boolean');
  if (r.latchAny !== undefined && typeof r.latchAny !== 'boolean') throw new MediaError('invalid', 'remote.latchAny must be a boolean');
  let sigAddress: string | null = r.address;
  const unreachable = familyProblem(r.address, family, host);
  if (unreachable !== undefined) throw new MediaError('invalid', unreachable);
  if (isWildcard(r.address)) sigAddress = null;
  // A dual-stack socket sees and addresses IPv4 peers in mapped form.
  else if (fam === 4 && family === 6) sigAddress = `::ffff:${r.address}`;
  return { view: { address: r.address, rtpPort, rtcpPort, rtcpMux: r.rtcpMux ?? false, latchAny: r.latchAny ?? false }, sigAddress };
}

function report(leg: Leg): SideReport {
  const latched = (l: Latch): { address: string; port: number } | null => (l.address === null ? null : { address: l.address, port: l.port });
  return {
    ...leg.stats.snapshot(),
    local: leg.local === null ? null : { ...leg.local },
    remote: leg.remote === null ? null : { ...leg.remote },
    latched: { rtp: latched(leg.rtpLatch), rtcp: leg.remote?.rtcpMux === true ? null : latched(leg.rtcpLatch) },
  };
}

/** Owns the port pool and every session; one per server. */
export class MediaRelay {
  readonly pool: PortPool;
  readonly advertiseAddress: string;
  readonly logger: Logger;
  readonly relatchAfterMs: number;
  readonly #clock: Clock;
  readonly #sessions = new Set<RelaySession>();
  #closed = false;

  constructor(config: MediaRelayConfig, opts: MediaRelayOptions = {}) {
    this.pool = new PortPool({ host: config.host, portMin: config.portMin, portMax: config.portMax });
    const adv = config.advertiseAddress;
    if (adv !== undefined && isIP(adv) === 0) throw new MediaError('invalid', `media advertiseAddress must be an IP address, got '${String(adv)}'`);
    if (adv === undefined && isWildcard(config.host)) {
      throw new MediaError('invalid', `media advertiseAddress is required when host is the wildcard ${config.host}`);
    }
    this.advertiseAddress = adv ?? config.host;
    const relatch = opts.relatchAfterMs ?? DEFAULT_RELATCH_MS;
    if (!Number.isFinite(relatch) || relatch < 0) throw new MediaError('invalid', `relatchAfterMs must be a number ≥ 0, got ${relatch}`);
    this.relatchAfterMs = relatch;
    this.logger = opts.logger ?? silentLogger;
    this.#clock = opts.clock ?? monotonicClock;
  }

  now(): number {
    return this.#clock.now();
  }

  /** Open sessions. */
  get sessions(): number {
    return this.#sessions.size;
  }

  createSession(opts: RelaySessionOptions = {}): RelaySession {
    if (this.#closed) throw new MediaError('closed', 'media relay is closed');
    const s = new RelaySession(this, opts);
    this.#sessions.add(s);
    return s;
  }

  /** Called by RelaySession.close. */
  forget(session: RelaySession): void {
    this.#sessions.delete(session);
  }

  /** Closes every session and refuses new ones. */
  async close(): Promise<void> {
    this.#closed = true;
    this.pool.close();
    await Promise.all([...this.#sessions].map((s) => s.close()));
  }
}
