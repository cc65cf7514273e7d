// The media of one call anchored in rtpengine (media.backend "rtpengine"):
// the same policy judgement as the built-in path (offers and answers are
// judged by their sender's media security), then every relayed call goes
// through rtpengine, which gives each side the profile its policy asks for
// (RTP/SAVP with SDES toward Enforced sides, plain RTP/AVP toward the others).
// Direct media is not attempted with this backend: deployments choose
// rtpengine to anchor media at scale.
import type { Logger } from '../../lib/log.ts';
import type { NgClient } from '../../media/rtpengine.ts';
import { RtpengineSession } from '../../media/rtpengine-session.ts';
import type { RtpengineSideOptions } from '../../media/rtpengine-session.ts';
import { classifyOffer, filterCodecs, isHold, judgeOffer, negotiatedCodec, parseSdp, serializeSdp } from '../../sdp/index.ts';
import type { LegMediaStats, MediaSession, MediaSide, MediaVerdict } from '../call/media.ts';
import type { MediaProfile } from './profile.ts';

function sideOptions(p: MediaProfile): RtpengineSideOptions {
  if (p.security === 'enforced') return { transportProtocol: 'RTP/SAVP', sdes: { only: p.suites, ...(p.encryptedSrtcp ? {} : { unencryptedSrtcp: true }) } };
  return { transportProtocol: 'RTP/AVP', sdes: { off: true } };
}

export class RtpengineMedia implements MediaSession {
  codec: string | undefined;
  held = false;
  private readonly session: RtpengineSession;
  private secure = { a: false, b: false };

  constructor(client: NgClient, private readonly log: Logger, label: string) {
    this.session = new RtpengineSession({ client, callId: `sb-${label}`, logger: log });
  }

  async offer(from: MediaSide, to: MediaSide, body: Buffer): Promise<MediaVerdict> {
    const parsed = parseSdp(body);
    if (!parsed.ok) return { ok: false, status: 400, reason: 'Bad SDP' };
    const f = from.profile;
    const judged = judgeOffer(parsed.sdp, f.security, { suites: f.suites, capneg: f.capneg, encryptedSrtcp: f.encryptedSrtcp });
    if (!judged.ok) return { ok: false, status: 488, reason: 'Not Acceptable Here' };
    const both = filterCodecs(filterCodecs(parsed.sdp, f.codecs).sdp, to.profile.codecs);
    if (both.left === 0) return { ok: false, status: 488, reason: 'Not Acceptable Here' };
    this.held = isHold(both.sdp);
    this.secure[from.role] = classifyOffer(parsed.sdp).some((k) => k.kind === 'srtp');
    this.session.setSide(from.role, sideOptions(f));
    this.session.setSide(to.role, sideOptions(to.profile));
    return this.session.offer(from.role, Buffer.from(serializeSdp(both.sdp)));
  }

  async answer(from: MediaSide, to: MediaSide, body: Buffer): Promise<MediaVerdict> {
    const parsed = parseSdp(body);
    if (!parsed.ok) return { ok: false, status: 502, reason: 'Bad SDP in answer' };
    this.codec = negotiatedCodec(parsed.sdp) ?? this.codec;
    this.secure[from.role] = classifyOffer(parsed.sdp).some((k) => k.kind === 'srtp');
    this.secure[to.role] = to.profile.security === 'enforced';
    const verdict = await this.session.answer(from.role, body);
    if (!verdict.ok) this.log.info({ call: this.session.callId, status: verdict.status }, 'rtpengine refused the answer');
    return verdict;
  }

  get streams(): { a: string; b: string } {
    return { a: this.secure.a ? 'SRTP' : 'RTP', b: this.secure.b ? 'SRTP' : 'RTP' };
  }

  get connectionType(): string {
    const { a, b } = this.streams;
    return a === b ? `${a} relayed (rtpengine)` : `${a}-${b} relayed (rtpengine)`;
  }

  legStats(): { a: LegMediaStats; b: LegMediaStats } | null {
    // rtpengine keeps its counters; `switchboard status` shows the built-in relay's only.
    return null;
  }

  close(): void {
    void this.session.close();
  }
}
