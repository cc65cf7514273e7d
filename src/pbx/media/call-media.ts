// The media of one call under the media security policy (SPEC §4.8, A-03..A-08,
// EC-01..EC-09). Every offer is judged by its sender's policy, then either
// passed through (direct media: both sides allow it, agree on security, SRTCP
// and DTMF, and neither is behind NAT) or anchored in the relay, where each
// side gets the protocol its own policy asks for (RTP/SAVP only for Enforced,
// RTP/AVP with crypto or RFC 5939 for Best Effort, plain RTP for Disabled)
// with our own fresh keys per side. A re-offer may move the call in or out of
// the relay. The call never sees any of this: it hands bodies to offer() and
// answer() (see ../call/media.ts).
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { formatHostPort } from '../../lib/net.ts';
import type { Logger } from '../../lib/log.ts';
import type { MediaRelay, PacketTransform, RelaySession, RelaySessionStats, RelaySide } from '../../media/relay.ts';
import { familyProblem } from '../../media/relay.ts';
import { SrtpTransform } from '../../media/srtp-transform.ts';
import { DtmfDetector, DtmfInjector } from '../../media/dtmf.ts';
import { PayloadTypeMap, payloadTypeMap } from '../../media/pt-map.ts';
import type { SrtpSuiteName } from '../../media/srtp.ts';
import type { Sdp, SdesCrypto, StreamDecision, StreamSecurity } from '../../sdp/index.ts';
import {
  answerCrypto, classifyOffer, connectionOf, cryptoAttribute, filterCodecs, isAudio, isHold, judgeAnswer, judgeOffer,
  masterKeys, negotiatedCodec, parseSdp, secureOffer, serializeSdp, setConnection, stripCapNeg,
} from '../../sdp/index.ts';
import type { LegMediaStats, MediaSession, MediaSide, MediaVerdict } from '../call/media.ts';
import type { MediaProfile } from './profile.ts';
import {
  freeDynamicPt, g729aAsG729, hasCrypto, ptList, telephoneEventPt, withG729A, withOfferedG729A, withPayloadTypes, withSingleCodec, withTelephoneEvent,
  withoutCrypto, withoutPayload,
} from './sdp-edits.ts';
import { canGoDirect } from './direct-media.ts';

export interface CallMediaDeps {
  /** The built-in relay; undefined when relaying is unavailable (calls needing it get 488). */
  relay: MediaRelay | undefined;
  replayWindow: number;
  log: Logger;
  /** Call reference, for logs. */
  label: string;
  /** A DTMF digit arrived as RFC 4733 from `from` for a side that wants SIP INFO. */
  onDtmf?: (from: RelaySide, digit: string, durationMs: number) => void;
}

interface OfferState {
  mode: 'direct' | 'relay';
  from: MediaSide;
  to: MediaSide;
  /** Relay only: the offer as judged by the offerer's policy, and what we sent the answerer. */
  decisions: StreamDecision[];
  sent: Sdp | undefined;
  /** Our answer crypto toward the offerer per stream, fixed at the first answer (18x and 200 agree). */
  ourAnswer: Map<number, SdesCrypto>;
  relayed: number[];
  kinds: StreamSecurity[];
  /** The offer as the offerer sent it (its telephone-event payload type, for DTMF injection). */
  offered: Sdp;
  /** Streams whose outbound transform toward the offerer is set (18x and 200 share it). */
  outboundSet?: Set<number>;
  /** telephone-event payload types we added to the offer (the offerer never offered them). */
  addedTe?: Map<number, number>;
}

const SESSION_ID = (): string => String(BigInt('0x' + randomBytes(6).toString('hex')));

export class CallMedia implements MediaSession {
  codec: string | undefined;
  held = false;
  mode: 'direct' | 'relay' | undefined;
  /** SRTP in use toward each side (status: "SRTP" / "RTP"). */
  readonly secure = { a: false, b: false };
  private readonly relays = new Map<number, RelaySession>();
  private state: OfferState | undefined;
  private closed = false;
  private readonly origin = { a: { id: SESSION_ID(), version: 0n }, b: { id: SESSION_ID(), version: 0n } };
  private readonly transforms: PacketTransform[] = [];
  private readonly injectors: Partial<Record<RelaySide, { injector: DtmfInjector; session: RelaySession }>> = {};
  /** Where each side's last SDP asked for media (first stream), for the call record. */
  private readonly sdpAddress: Record<RelaySide, string | null> = { a: null, b: null };

  constructor(private readonly deps: CallMediaDeps) {}

  async offer(from: MediaSide, to: MediaSide, body: Buffer): Promise<MediaVerdict> {
    const parsed = parseSdp(body);
    if (!parsed.ok) return { ok: false, status: 400, reason: 'Bad SDP' };
    const f = profile(from);
    const t = profile(to);
    const judged = judgeOffer(parsed.sdp, f.security, { suites: f.suites, capneg: f.capneg, encryptedSrtcp: f.encryptedSrtcp });
    if (!judged.ok) {
      this.deps.log.info({ call: this.deps.label, reason: judged.reason }, 'offer refused by media security policy');
      return { ok: false, status: 488, reason: 'Not Acceptable Here' };
    }
    // A side that names G.729 "G729A" is read as plain G.729 (payload type 18) from here on; the relay renumbers its packets.
    const mine = filterCodecs(f.g729a ? g729aAsG729(parsed.sdp) : parsed.sdp, f.codecs);
    const both = filterCodecs(mine.sdp, t.codecs);
    if (both.left === 0) return { ok: false, status: 488, reason: 'Not Acceptable Here' };
    // B-11 preferred codec: this side's order wins over the answerer's (the filter sorts by the list it is given).
    let sdp = f.answerPreferredCodec ? filterCodecs(both.sdp, f.codecs).sdp : both.sdp;
    // B-11 single codec: the offer goes on with one codec, so the answer can hold no other.
    if (f.answerSingleCodec) for (let i = 0; i < sdp.media.length; i++) if (isAudio(sdp.media[i]!)) sdp = withSingleCodec(sdp, i);
    this.held = isHold(sdp);
    const kinds = classifyOffer(parsed.sdp);
    const first = connectionOf(parsed.sdp, 0);
    this.sdpAddress[from.role] = first && !UNSPECIFIED.has(first.address) ? formatHostPort(first.address, first.port) : this.sdpAddress[from.role];
    if (!from.natted && from.signalAddress && first && first.address !== from.signalAddress && !UNSPECIFIED.has(first.address)) {
      // RFC-less but universal NAT test: the phone advertises an address it does not send from.
      from = { ...from, natted: true };
    }
    if (canGoDirect(from, to, kinds)) {
      const passed = t.security === 'disabled' ? withoutCrypto(sdp) : sdp;
      this.state = { mode: 'direct', from, to, decisions: judged.streams, sent: passed, ourAnswer: new Map(), relayed: [], kinds, offered: parsed.sdp };
      const unchanged = mine.removed.length === 0 && both.removed.length === 0 && !(t.security === 'disabled' && hasCrypto(sdp));
      return { ok: true, body: unchanged ? body : Buffer.from(serializeSdp(passed)) };
    }
    const relay = this.deps.relay;
    if (!relay) {
      this.deps.log.warn({ call: this.deps.label }, 'call needs the media relay, which is not available');
      return { ok: false, status: 488, reason: 'Not Acceptable Here' };
    }
    const relayed = judged.streams.filter((d) => (d.mode === 'srtp' || d.mode === 'rtp') && isAudio(sdp.media[d.mediaIndex]!)).map((d) => d.mediaIndex);
    if (!this.relayable(parsed.sdp, relayed, 'offer')) return { ok: false, status: 488, reason: 'Not Acceptable Here' };
    await Promise.all(relayed.map((i) => this.session(relay, i)));
    if (this.closed) return { ok: false, status: 487, reason: 'Request Terminated' };
    const fromRole = from.role;
    const toRole = other(fromRole);
    let out = sdp;
    for (let i = 0; i < out.media.length; i++) {
      if (!relayed.includes(i)) {
        out = { ...out, media: out.media.map((m, k) => (k === i ? { ...m, port: 0 } : m)) };
        continue;
      }
      const rs = this.relays.get(i)!;
      const conn = connectionOf(parsed.sdp, i);
      if (conn) rs.setRemote(fromRole, { address: conn.address, rtpPort: conn.port, rtcpPort: conn.rtcpPort, latchAny: from.natted });
      const d = judged.streams.find((x) => x.mediaIndex === i)!;
      rs.setTransforms(fromRole, { inbound: this.inboundFor(from, to, parsed.sdp, i, d.mode === 'srtp' ? d.crypto : null) });
      const local = rs.local(toRole)!;
      out = setConnection(out, i, local.address, local.rtpPort, { rtcpPort: local.rtcpPort });
      out = { ...out, media: out.media.map((m, k) => (k === i ? { ...m, attributes: m.attributes.filter((a) => !ICE.has(a.name.toLowerCase())) } : m)) };
    }
    // A SIP INFO phone may offer no telephone-event; the RFC 4733 phone must still be offered it, or we could not send it digits.
    const addedTe = new Map<number, number>();
    if (f.dtmf === 'info' && t.dtmf === 'rfc4733') {
      for (const i of relayed) {
        if (telephoneEventPt(out, i) !== undefined) continue;
        const pt = t.dtmfPayloadType !== undefined && !out.media[i]!.formats.includes(String(t.dtmfPayloadType)) ? t.dtmfPayloadType : freeDynamicPt(out, i);
        if (pt === undefined) continue;
        out = withTelephoneEvent(out, i, pt);
        addedTe.set(i, pt);
      }
    }
    // A side that wants its own telephone-event number (B-09) gets it; the relay renumbers between the sides.
    if (t.dtmfPayloadType !== undefined) {
      const want = t.dtmfPayloadType;
      for (const i of relayed) {
        const te = telephoneEventPt(out, i);
        if (te === undefined || te === want || out.media[i]!.formats.includes(String(want))) continue;
        out = withTelephoneEvent(withoutPayload(out, i, te), i, want);
      }
    }
    // B-11: the side that knows G.729 as G729A is offered that name too, on a dynamic payload type of its own.
    if (t.g729a) {
      for (const i of relayed) {
        // Not the side's telephone-event number, which a later re-offer may bring.
        const pt = freeDynamicPt(out, i, 96, t.dtmfPayloadType);
        if (pt !== undefined) out = withG729A(out, i, pt);
      }
    }
    const secured = secureOffer(out, { policy: t.security, suites: t.suites, capneg: t.capneg, unencryptedSrtcp: !t.encryptedSrtcp, ...t.sdes });
    const sent = this.withOrigin(secured.sdp, toRole, relayed[0]);
    this.state = { mode: 'relay', from, to, decisions: judged.streams, sent, ourAnswer: new Map(), relayed, kinds, offered: parsed.sdp, addedTe };
    return { ok: true, body: Buffer.from(serializeSdp(sent)) };
  }

  /**
   * The relay sends media only to IP addresses: a c= with a host name (RFC
   * 4566 §5.7 allows one; we resolve none) makes the offer or answer
   * unusable, refused before any relay port is touched.
   */
  private relayable(sdp: Sdp, streams: readonly number[], what: 'offer' | 'answer'): boolean {
    for (const i of streams) {
      if (i >= sdp.media.length) continue;
      const conn = connectionOf(sdp, i);
      if (conn === null) continue;
      const pool = this.deps.relay?.pool;
      const problem = isIP(conn.address) === 0 ? 'its connection address is not an IP address'
        : pool ? familyProblem(conn.address, pool.family, pool.host) : undefined;
      if (problem === undefined) continue;
      // A phone's SDP the relay cannot serve (a hostile or misconfigured one): 488, not a failed call set-up.
      this.deps.log.info({ call: this.deps.label, stream: i }, `${what} refused: ${problem}`);
      return false;
    }
    return true;
  }

  answer(from: MediaSide, to: MediaSide, body: Buffer): Promise<MediaVerdict> {
    return Promise.resolve(this.answerNow(from, to, body));
  }

  private answerNow(from: MediaSide, to: MediaSide, body: Buffer): MediaVerdict {
    const parsed = parseSdp(body);
    if (!parsed.ok) return { ok: false, status: 502, reason: 'Bad SDP in answer' };
    const answered = connectionOf(parsed.sdp, 0);
    if (answered && !UNSPECIFIED.has(answered.address)) this.sdpAddress[from.role] = formatHostPort(answered.address, answered.port);
    const st = this.state;
    if (!st || st.mode === 'direct') {
      if (st?.sent) {
        // End to end, but the offerer's policy still decides what it may be answered with (an Enforced side never gets plain RTP).
        const f = profile(st.from);
        const v = judgeAnswer(parsed.sdp, f.security, { offer: st.sent, suites: f.suites, encryptedSrtcp: f.encryptedSrtcp });
        if (!v.ok) {
          this.deps.log.info({ call: this.deps.label, reason: v.reason }, 'answer refused by media security policy');
          return { ok: false, status: 488, reason: 'Not Acceptable Here' };
        }
      }
      if (this.mode === 'relay' && st) this.leaveRelay();
      this.mode = 'direct';
      this.codec = negotiatedCodec(parsed.sdp) ?? this.codec;
      const secure = classifyOffer(parsed.sdp).some((k) => k.kind === 'srtp' || k.cryptos.length > 0);
      this.secure.a = this.secure.b = secure;
      return { ok: true, body };
    }
    const a = profile(from);
    const verdict = judgeAnswer(parsed.sdp, a.security, { offer: st.sent, suites: a.suites, encryptedSrtcp: a.encryptedSrtcp });
    if (!verdict.ok) {
      this.deps.log.info({ call: this.deps.label, reason: verdict.reason }, 'answer refused by media security policy');
      return { ok: false, status: 488, reason: 'Not Acceptable Here' };
    }
    if (!this.relayable(parsed.sdp, st.relayed, 'answer')) return { ok: false, status: 488, reason: 'Not Acceptable Here' };
    const answerer = from.role;
    const offerer = to.role;
    const offererG729a = profile(to).g729a === true;
    // The offerer sees G.729 by the name it offered: G729 for a phone, G729A back to a side that offered only that.
    const answerSdp = a.g729a ? g729aAsG729(parsed.sdp) : parsed.sdp;
    let out = answerSdp;
    for (const i of st.relayed) {
      const rs = this.relays.get(i);
      if (!rs || i >= out.media.length) continue;
      const ad = verdict.streams.find((s) => s.mediaIndex === i);
      const conn = connectionOf(parsed.sdp, i);
      if (conn) rs.setRemote(answerer, { address: conn.address, rtpPort: conn.port, rtcpPort: conn.rtcpPort, latchAny: from.natted });
      const theirs = ad?.mode === 'srtp' ? ad.crypto : null;
      const ours = ad?.mode === 'srtp' ? ad.offered : null;
      const first = i === st.relayed[0];
      // Each side receives payload types in its own numbering (an answerer may renumber dynamic types).
      const offerPts = ptList(st.offered, i, offererG729a);
      const answerPts = ptList(parsed.sdp, i, a.g729a);
      rs.setTransforms(answerer, {
        inbound: this.inboundFor(from, to, parsed.sdp, i, theirs),
        outbound: remap(payloadTypeMap(offerPts, answerPts), this.outboundFor(rs, from, to, first ? parsed.sdp : undefined, i, this.srtp(ours, 'protect', from))),
      });
      this.secure[answerer] = theirs !== null;
      // The offerer's side: its own offered key decrypts what it sends (set at offer time); ours encrypts toward it.
      const od = st.decisions.find((d) => d.mediaIndex === i)!;
      let ourCrypto: SdesCrypto | null = null;
      if (od.mode === 'srtp' && od.crypto) {
        ourCrypto = st.ourAnswer.get(i) ?? answerCrypto(od.crypto, profile(to).sdes);
      }
      if (!st.ourAnswer.has(i) && !st.outboundSet?.has(i)) {
        if (ourCrypto) st.ourAnswer.set(i, ourCrypto);
        (st.outboundSet ??= new Set()).add(i);
        const toOfferer = this.outboundFor(rs, to, from, i === st.relayed[0] ? st.offered : undefined, i, this.srtp(ourCrypto, 'protect', to));
        rs.setTransforms(offerer, { outbound: remap(payloadTypeMap(answerPts, offerPts), toOfferer) });
      }
      this.secure[offerer] = ourCrypto !== null;
      const local = rs.local(offerer)!;
      // RFC 3264 §6.1: the offerer is answered in its own numbers (a handset's 101, not the upstream's 96); the relay renumbers the packets.
      out = withPayloadTypes(out, i, payloadTypeMap(answerPts, offerPts));
      if (offererG729a) out = withOfferedG729A(out, st.offered, i);
      out = setConnection(out, i, local.address, local.rtpPort, { rtcpPort: local.rtcpPort });
      out = {
        ...out,
        media: out.media.map((m, k) => {
          if (k !== i) return m;
          const attributes = stripCapNeg(m.attributes).filter((x) => x.name.toLowerCase() !== 'crypto' && !ICE.has(x.name.toLowerCase()));
          if (ourCrypto) attributes.push(cryptoAttribute(ourCrypto));
          if (od.configuration) attributes.push({ name: 'acfg', value: od.configuration.acfg });
          return { ...m, proto: od.proto, attributes };
        }),
      };
    }
    for (const i of st.relayed) {
      if (i >= out.media.length) continue;
      // What we added for the RFC 4733 answerer is not the INFO offerer's to see (an answer cannot add formats) ...
      const theirTe = telephoneEventPt(parsed.sdp, i);
      if (st.addedTe?.has(i) && theirTe !== undefined) out = withoutPayload(out, i, theirTe);
      // ... and an RFC 4733 offerer keeps the telephone-event it offered even when the INFO answerer drops it:
      // the relay takes its digits out of the stream and sends them as SIP INFO.
      const offeredTe = telephoneEventPt(st.offered, i);
      if (offeredTe !== undefined && theirTe === undefined && profile(st.from).dtmf === 'rfc4733' && profile(from).dtmf === 'info') {
        out = withTelephoneEvent(out, i, offeredTe);
      }
    }
    out = { ...out, attributes: stripCapNeg(out.attributes) };
    this.mode = 'relay';
    this.codec = negotiatedCodec(answerSdp) ?? this.codec;
    return { ok: true, body: Buffer.from(serializeSdp(this.withOrigin(out, offerer, st.relayed[0]))) };
  }

  get streams(): { a: string; b: string } {
    return { a: this.secure.a ? 'SRTP' : 'RTP', b: this.secure.b ? 'SRTP' : 'RTP' };
  }

  /** "SRTP Direct Media", "RTP relayed", "SRTP-RTP relayed" ... (SPEC status view, A-06, A-22). */
  get connectionType(): string {
    if (this.mode === 'relay') {
      const a = this.secure.a ? 'SRTP' : 'RTP';
      const b = this.secure.b ? 'SRTP' : 'RTP';
      return a === b ? `${a} relayed` : `${a}-${b} relayed`;
    }
    return `${this.secure.a ? 'SRTP' : 'RTP'} Direct Media`;
  }

  /** Relay statistics of the first relayed stream (packets, loss, jitter per side), or null for direct media. */
  stats(): RelaySessionStats | null {
    if (this.mode !== 'relay') return null;
    const first = this.relays.values().next();
    return first.done === true ? null : first.value.stats();
  }

  legStats(): { a: LegMediaStats; b: LegMediaStats } | null {
    const s = this.stats();
    if (!s) return null;
    const leg = (r: RelaySessionStats['a'], secure: boolean): LegMediaStats => ({
      packetsIn: r.rtp.packetsIn,
      packetsOut: r.rtp.packetsOut,
      lost: r.receive.lost,
      lossPercent: r.receive.lossPercent,
      jitterMs: r.receive.jitterMs,
      dropped: Object.entries(r.drops.reasons).reduce((n, [why, x]) => (why === 'dtmf' ? n : n + x), 0),
      stream: secure ? 'SRTP' : 'RTP',
    });
    return { a: leg(s.a, this.secure.a), b: leg(s.b, this.secure.b) };
  }

  /** Relayed: where each side's RTP really came from (latched), else where its SDP asked for it. */
  addresses(): { a: string | null; b: string | null } {
    const s = this.stats();
    const latched = (side: RelaySide): string | null => {
      const rtp = s?.[side].latched.rtp;
      return rtp ? formatHostPort(rtp.address, rtp.port) : this.sdpAddress[side];
    };
    return { a: latched('a'), b: latched('b') };
  }

  close(): void {
    this.closed = true;
    this.leaveRelay();
  }

  private leaveRelay(): void {
    delete this.injectors.a;
    delete this.injectors.b;
    for (const rs of this.relays.values()) void rs.close();
    this.relays.clear();
    for (const t of this.transforms) (t as SrtpTransform).destroy?.();
    this.transforms.length = 0;
  }

  private async session(relay: MediaRelay, index: number): Promise<RelaySession> {
    let rs = this.relays.get(index);
    if (!rs) {
      rs = relay.createSession({ label: `${this.deps.label}/${index}` });
      this.relays.set(index, rs);
    }
    await rs.allocate();
    if (this.closed) void rs.close();
    return rs;
  }

  private srtp(crypto: SdesCrypto | null, direction: 'protect' | 'unprotect', side: MediaSide): SrtpTransform | null {
    if (!crypto || !crypto.suiteInfo) return null;
    const k = masterKeys(crypto)[0];
    if (!k) return null;
    const t = new SrtpTransform({
      suite: crypto.suiteInfo.name as SrtpSuiteName,
      masterKey: k.masterKey,
      masterSalt: k.masterSalt,
      ...(k.mki ? { mki: k.mki } : {}),
      ...(k.lifetime ? { lifetime: Math.min(k.lifetime, 2 ** 48) } : {}),
      replayWindow: this.deps.replayWindow,
      encryptRtcp: !crypto.unencryptedSrtcp && profile(side).encryptedSrtcp,
    }, direction);
    this.transforms.push(t);
    return t;
  }

  /**
   * What we send to `side`: SRTP-protected with our key for it, and, when it
   * wants RFC 4733 while the other side sends SIP INFO, numbered so that we can
   * slip event packets into the stream (injectDtmf). `sdp` is the side's own
   * SDP (its telephone-event payload type), given for the first relayed stream.
   */
  private outboundFor(rs: RelaySession, side: MediaSide, other: MediaSide, sdp: Sdp | undefined, index: number, protect: SrtpTransform | null): PacketTransform | null {
    if (!sdp || profile(side).dtmf !== 'rfc4733' || profile(other).dtmf !== 'info') return protect;
    const pt = telephoneEventPt(sdp, index);
    if (pt === undefined) return protect;
    const injector = new DtmfInjector(pt, protect);
    this.injectors[side.role] = { injector, session: rs };
    return injector;
  }

  /**
   * A digit from the side that sends SIP INFO, for `to`, which wants RFC 4733:
   * event packets in its stream. False when that cannot be done (direct media,
   * no telephone-event negotiated, no packet seen yet): the caller relays the INFO instead.
   */
  injectDtmf(to: RelaySide, digit: string, durationMs: number): boolean {
    const target = this.injectors[to];
    if (this.mode !== 'relay' || !target) return false;
    const st = this.state;
    const side = st?.from.role === to ? st.from : st?.to;
    const packets = target.injector.packets(digit, (side && profile(side).dtmfDurationMs) ?? durationMs);
    if (!packets) return false;
    for (const p of packets) target.session.inject(to, p);
    return true;
  }

  /**
   * What arrives from `from`: SRTP-decrypted with its key, and, when `from`
   * sends RFC 4733 but `to` wants SIP INFO, telephone-events taken out of the
   * stream and reported as digits.
   */
  private inboundFor(from: MediaSide, to: MediaSide, sdp: Sdp, index: number, crypto: SdesCrypto | null): PacketTransform | null {
    const decrypt = this.srtp(crypto, 'unprotect', from);
    if (profile(from).dtmf === profile(to).dtmf || profile(to).dtmf !== 'info' || !this.deps.onDtmf) return decrypt;
    const pt = telephoneEventPt(sdp, index);
    if (pt === undefined) return decrypt;
    const detector = new DtmfDetector(pt);
    const onDtmf = this.deps.onDtmf;
    const role = from.role;
    const transform = {
      lastDrop: null as string | null,
      rtp(packet: Buffer): Buffer | null {
        const plain = decrypt ? decrypt.rtp(packet) : packet;
        if (plain === null) {
          transform.lastDrop = decrypt?.lastDrop ?? 'srtp';
          return null;
        }
        if (!detector.isEvent(plain)) return plain;
        const digit = detector.feed(plain);
        if (digit) onDtmf(role, digit.digit, digit.duration / 8);
        // The INFO side gets the digit as SIP INFO, not as RTP: taken out, not lost.
        transform.lastDrop = 'dtmf';
        return null;
      },
      rtcp: (packet: Buffer) => (decrypt ? decrypt.rtcp(packet) : packet),
    };
    return transform;
  }

  /** Our own o= toward a relayed side: one session id per side, the version moving with every SDP we send it. */
  private withOrigin(sdp: Sdp, role: RelaySide, streamIndex: number | undefined): Sdp {
    const o = this.origin[role];
    o.version++;
    const local = streamIndex !== undefined ? this.relays.get(streamIndex)?.local(role) : undefined;
    const address = local?.address ?? sdp.origin.address;
    return { ...sdp, origin: { username: 'switchboard', sessionId: o.id, sessionVersion: o.version.toString(), netType: 'IN', addrType: address.includes(':') ? 'IP6' : 'IP4', address } };
  }
}

const UNSPECIFIED = new Set(['0.0.0.0', '::']);

/** ICE attributes name the endpoint's own addresses: they must not cross a relay. */
const ICE = new Set(['candidate', 'ice-ufrag', 'ice-pwd', 'ice-options', 'remote-candidates', 'end-of-candidates']);

function profile(side: MediaSide): MediaProfile {
  return side.profile;
}

function other(role: RelaySide): RelaySide {
  return role === 'a' ? 'b' : 'a';
}




/** The transform with payload types renumbered first, when any need it. */
function remap(map: Map<number, number>, next: PacketTransform | null): PacketTransform | null {
  return map.size === 0 ? next : new PayloadTypeMap(map, next);
}
