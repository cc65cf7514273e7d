// Media security policy on SDP (SPEC A-03..A-05, EC-01, EC-02, §4.8): pure
// functions the B2BUA calls with the descriptions it sends and receives.
//
//  - enforced: offers carry RTP/SAVP(F) with a=crypto only: no RTP/AVP
//    alternative and no RFC 5939 attributes, since a party that cannot do
//    capability negotiation fails a call offered both ways. Plain RTP
//    offers and answers are refused, and so is SDES on an RTP/AVP line.
//  - best-effort: offers are RTP/AVP(F) with SDES, either as a=crypto on the
//    m= line or, for parties known to do RFC 5939, as a potential
//    configuration; SRTP is used when the other side takes it, RTP otherwise.
//  - disabled: no crypto, no capability negotiation; SRTP-only offers fail.
//
// Crypto lines asking for UNENCRYPTED_SRTP, UNAUTHENTICATED_SRTP, a non-zero
// KDR, several keys, or a session parameter we must understand and do not,
// are never accepted; UNENCRYPTED_SRTCP only when encrypted SRTCP is not
// required (EC-02). Reasons name tags and suites, never keys.

import type { PotentialConfiguration, ChosenConfiguration } from './capneg.ts';
import { applyAcfg, capNegSrtpMedia, hasCapNeg, potentialConfigurations, stripCapNeg } from './capneg.ts';
import type { SdesCrypto } from './crypto.ts';
import { DEFAULT_SRTP_SUITES, cryptoAttribute, formatCrypto, generateKeySalt, makeCrypto, parseCrypto, suiteInfo } from './crypto.ts';
import type { Sdp, SdpAttribute, SdpMedia } from './model.ts';
import { cloneSdp, isAudio, isRtpProto } from './model.ts';

export type MediaSecurity = 'disabled' | 'best-effort' | 'enforced';

export type StreamSecurityKind =
  | 'rtp' // RTP/AVP(F), nothing secure offered
  | 'rtp+sdes' // RTP/AVP(F) with a=crypto on the m= line, no capability negotiation
  | 'rtp+capneg-srtp' // RTP/AVP(F) with an RFC 5939 potential configuration for RTP/SAVP(F)
  | 'srtp' // RTP/SAVP(F) with a=crypto, no alternative
  | 'srtp+rtp-alt' // RTP/SAVP(F) with an RFC 5939 potential configuration falling back to RTP/AVP(F)
  | 'srtp-no-sdes' // RTP/SAVP(F) without valid a=crypto (keyed some other way, or broken)
  | 'dtls-srtp' // UDP/TLS/RTP/SAVP(F) and the like
  | 'disabled' // port 0
  | 'other'; // not an RTP profile

export interface StreamSecurity {
  mediaIndex: number;
  kind: StreamSecurityKind;
  proto: string;
  /** Valid a=crypto lines of the m= line, in offer order. */
  cryptos: SdesCrypto[];
  /** Why the other a=crypto lines are invalid. */
  invalidCryptos: string[];
  configurations: PotentialConfiguration[];
}

const isAvp = (p: string): boolean => /^RTP\/AVPF?$/i.test(p);
const isSavp = (p: string): boolean => /^RTP\/SAVPF?$/i.test(p);
const isDtls = (p: string): boolean => /(^|\/)(D?TLS)\/RTP\//i.test(p);

function cryptosOf(attrs: readonly SdpAttribute[]): { valid: SdesCrypto[]; invalid: string[] } {
  const valid: SdesCrypto[] = [];
  const invalid: string[] = [];
  for (const a of attrs) {
    if (a.name.toLowerCase() !== 'crypto') continue;
    const r = parseCrypto(a.value ?? '');
    if (r.ok) valid.push(r.crypto);
    else invalid.push(r.reason);
  }
  return { valid, invalid };
}

function classify(sdp: Sdp, m: SdpMedia, mediaIndex: number): StreamSecurity {
  const { valid, invalid } = cryptosOf(m.attributes);
  const configurations = potentialConfigurations(m, sdp.attributes);
  const base = { mediaIndex, proto: m.proto, cryptos: valid, invalidCryptos: invalid, configurations };
  let kind: StreamSecurityKind;
  if (m.port === 0) kind = 'disabled';
  else if (isDtls(m.proto)) kind = 'dtls-srtp';
  else if (isSavp(m.proto)) {
    kind = configurations.some((c) => isAvp(c.proto)) ? 'srtp+rtp-alt' : valid.length > 0 ? 'srtp' : 'srtp-no-sdes';
  } else if (isAvp(m.proto)) {
    const capSrtp = configurations.some((c) => isSavp(c.proto) && cryptosOf(c.attributes).valid.length > 0);
    kind = capSrtp ? 'rtp+capneg-srtp' : valid.length > 0 ? 'rtp+sdes' : 'rtp';
  } else kind = 'other';
  return { ...base, kind };
}

/** How each audio stream of an offer is protected. */
export function classifyOffer(sdp: Sdp): StreamSecurity[] {
  const out: StreamSecurity[] = [];
  sdp.media.forEach((m, i) => {
    if (isAudio(m)) out.push(classify(sdp, m, i));
  });
  return out;
}

export interface SelectCryptoOptions {
  /** Refuse UNENCRYPTED_SRTCP (A-04, EC-02). Default true. */
  encryptedSrtcp?: boolean;
}

/** Why we cannot take `c`, or null when we can. */
function unusable(c: SdesCrypto, suites: readonly string[], opts: SelectCryptoOptions): string | null {
  const at = `crypto tag ${c.tag}`;
  if (!c.suiteInfo || !c.suiteInfo.supported) return `${at}: suite ${c.suite} is not supported`;
  if (!suites.some((s) => s.toUpperCase() === c.suiteInfo?.name)) return `${at}: suite ${c.suite} is not allowed here`;
  if (c.unencryptedSrtp || c.unauthenticatedSrtp) return `${at}: UNENCRYPTED_SRTP or UNAUTHENTICATED_SRTP is not accepted`;
  if ((opts.encryptedSrtcp ?? true) && c.unencryptedSrtcp) return `${at}: UNENCRYPTED_SRTCP but encrypted SRTCP is required`;
  if (c.kdr !== 0) return `${at}: key derivation rate KDR=${c.kdr} is not supported`;
  if (c.keys.length !== 1) return `${at}: several master keys in one line are not supported`;
  if (c.hasMandatoryUnknown) return `${at}: unknown session parameter`;
  return null;
}

function pick(cryptos: readonly SdesCrypto[], suites: readonly string[], opts: SelectCryptoOptions): SdesCrypto | string {
  const reasons: string[] = [];
  for (const c of cryptos) {
    const why = unusable(c, suites, opts);
    if (why === null) return c;
    reasons.push(why);
  }
  return reasons.length > 0 ? `no usable a=crypto (${reasons.join('; ')})` : 'no a=crypto';
}

export interface AnswerCryptoOptions {
  /** Fresh key and salt; generated from node:crypto when absent. */
  key?: Buffer;
  salt?: Buffer;
  random?: (n: number) => Buffer;
  lifetime?: number | string;
  mki?: number;
  mkiLength?: number;
}

/** Our answer to an offered line: same tag and suite, our own fresh key, the offer's declarative parameters (RFC 4568 §6.3). */
export function answerCrypto(offered: SdesCrypto, opts: AnswerCryptoOptions = {}): SdesCrypto {
  const suite = offered.suiteInfo?.name ?? offered.suite;
  const fresh = opts.key && opts.salt ? { key: opts.key, salt: opts.salt } : generateKeySalt(suite, opts.random);
  const extra = offered.sessionParams.filter((p) => p.kind === 'KDR' || p.kind === 'FEC_ORDER').map((p) => ('text' in p ? p.text : ''));
  return makeCrypto({
    tag: offered.tag,
    suite,
    ...fresh,
    ...(opts.lifetime !== undefined ? { lifetime: opts.lifetime } : {}),
    ...(opts.mki !== undefined ? { mki: opts.mki } : {}),
    ...(opts.mkiLength !== undefined ? { mkiLength: opts.mkiLength } : {}),
    unencryptedSrtcp: offered.unencryptedSrtcp,
    unencryptedSrtp: offered.unencryptedSrtp,
    unauthenticatedSrtp: offered.unauthenticatedSrtp,
    extraParams: extra,
  });
}

/**
 * The offered line to accept, in offer order (the offerer's preference), and
 * our answer line for it; null when none is usable. Strings are a=crypto values.
 */
export function selectCrypto(
  offerCryptos: ReadonlyArray<string | SdesCrypto>,
  supportedSuites: readonly string[] = DEFAULT_SRTP_SUITES,
  opts: SelectCryptoOptions & AnswerCryptoOptions = {},
): { offered: SdesCrypto; answer: SdesCrypto } | null {
  const parsed: SdesCrypto[] = [];
  for (const c of offerCryptos) {
    if (typeof c !== 'string') parsed.push(c);
    else {
      const r = parseCrypto(c);
      if (r.ok) parsed.push(r.crypto);
    }
  }
  const chosen = pick(parsed, supportedSuites, opts);
  return typeof chosen === 'string' ? null : { offered: chosen, answer: answerCrypto(chosen, opts) };
}

export interface SecureOfferOptions {
  policy: MediaSecurity;
  /** Suites to offer, preferred first; default AES_CM_128_HMAC_SHA1_80 then _32. */
  suites?: readonly string[];
  /** keys[mediaIndex][suiteIndex]; any missing pair is generated. */
  keys?: ReadonlyArray<ReadonlyArray<{ key: Buffer; salt: Buffer } | undefined> | undefined>;
  unencryptedSrtcp?: boolean;
  /** Best effort only: offer SRTP through RFC 5939 rather than as a=crypto on the RTP/AVP line. */
  capneg?: boolean;
  lifetime?: number | string;
  mki?: number;
  mkiLength?: number;
  random?: (n: number) => Buffer;
}

export interface SecuredOffer {
  sdp: Sdp;
  /** The lines offered per secured stream; their keys are what the SRTP layer protects with. */
  streams: Array<{ mediaIndex: number; cryptos: SdesCrypto[] }>;
}

function withProto(proto: string, secure: boolean): string {
  const feedback = /F$/i.test(proto);
  return secure ? (feedback ? 'RTP/SAVPF' : 'RTP/SAVP') : feedback ? 'RTP/AVPF' : 'RTP/AVP';
}

/**
 * An offer that follows `opts.policy`: every active RTP/(S)AVP(F) stream is
 * rewritten; every a=crypto we did not make and every capability negotiation
 * attribute go from all streams and the session level.
 * RangeError for an unsupported suite or bad key, lifetime or MKI options.
 */
export function secureOffer(sdp: Sdp, opts: SecureOfferOptions): SecuredOffer {
  const suites = opts.suites ?? DEFAULT_SRTP_SUITES;
  if (opts.policy !== 'disabled') {
    if (suites.length === 0) throw new RangeError('secureOffer: no crypto suite to offer');
    for (const s of suites) if (!suiteInfo(s)?.supported) throw new RangeError(`secureOffer: suite ${s} is not supported`);
  }
  const out = cloneSdp(sdp);
  out.attributes = stripCapNeg(out.attributes).filter((a) => a.name.toLowerCase() !== 'crypto');
  const streams: SecuredOffer['streams'] = [];
  let tcap = 1;
  let acap = 1;
  out.media = out.media.map((m, i) => {
    // Crypto lines we did not make are the other leg's keys: they never pass through, on any stream.
    const plain = stripCapNeg(m.attributes).filter((a) => a.name.toLowerCase() !== 'crypto');
    if (m.port === 0 || !(isAvp(m.proto) || isSavp(m.proto))) return { ...m, attributes: plain };
    if (opts.policy === 'disabled') return { ...m, proto: withProto(m.proto, false), attributes: plain };
    const cryptos = suites.map((suite, k) =>
      makeCrypto({
        tag: k + 1,
        suite,
        ...(opts.keys?.[i]?.[k] ?? generateKeySalt(suite, opts.random)),
        ...(opts.lifetime !== undefined ? { lifetime: opts.lifetime } : {}),
        ...(opts.mki !== undefined ? { mki: opts.mki } : {}),
        ...(opts.mkiLength !== undefined ? { mkiLength: opts.mkiLength } : {}),
        unencryptedSrtcp: opts.unencryptedSrtcp ?? false,
      }),
    );
    streams.push({ mediaIndex: i, cryptos });
    if (opts.policy === 'enforced') return { ...m, proto: withProto(m.proto, true), attributes: [...plain, ...cryptos.map(cryptoAttribute)] };
    if (opts.capneg) {
      const secured = capNegSrtpMedia({ ...m, attributes: plain }, cryptos.map(formatCrypto), { firstTcap: tcap, firstAcap: acap });
      tcap += 1;
      acap += cryptos.length;
      return secured;
    }
    return { ...m, proto: withProto(m.proto, false), attributes: [...plain, ...cryptos.map(cryptoAttribute)] };
  });
  return { sdp: out, streams };
}

export interface JudgeOptions extends SelectCryptoOptions {
  /** Suites this side accepts; default AES_CM_128_HMAC_SHA1_80 and _32. */
  suites?: readonly string[];
  /** Whether the party judging can do RFC 5939 (false for the gateway, E129). Default true. */
  capneg?: boolean;
}

export interface StreamDecision {
  mediaIndex: number;
  /** 'none': not an RTP/(S)AVP(F) stream or already disabled, answered as usual; 'reject': answer it with port 0. */
  mode: 'srtp' | 'rtp' | 'none' | 'reject';
  /** The m= proto the answer carries. */
  proto: string;
  /** The offered line taken, for 'srtp'; answer it with answerCrypto(). */
  crypto: SdesCrypto | null;
  /** Potential configuration taken: the answer uses its proto and carries a=acfg:<configuration.acfg>. */
  configuration: PotentialConfiguration | null;
  /** Why, for 'reject'. */
  reason: string | null;
}

export type OfferVerdict = { ok: true; streams: StreamDecision[] } | { ok: false; status: 488; reason: string };

type Decision = Omit<StreamDecision, 'mediaIndex' | 'reason'>;

function decide(sdp: Sdp, m: SdpMedia, policy: MediaSecurity, opts: JudgeOptions): Decision | string {
  const suites = opts.suites ?? DEFAULT_SRTP_SUITES;
  const none = { crypto: null, configuration: null };
  if (m.port === 0) return { ...none, mode: 'none', proto: m.proto };
  if (isDtls(m.proto)) return `${m.proto} (DTLS-SRTP) is not supported`;
  if (!isAvp(m.proto) && !isSavp(m.proto)) return { ...none, mode: 'none', proto: m.proto };
  const configs = (opts.capneg ?? true) ? potentialConfigurations(m, sdp.attributes) : [];
  const own = cryptosOf(m.attributes).valid;
  if (isSavp(m.proto)) {
    let why = 'media security is Disabled and the offer is RTP/SAVP only';
    if (policy !== 'disabled') {
      const c = pick(own, suites, opts);
      if (typeof c !== 'string') return { crypto: c, configuration: null, mode: 'srtp', proto: m.proto };
      why = c;
    }
    const alt = policy === 'enforced' ? undefined : configs.find((c) => isAvp(c.proto));
    if (alt) return { crypto: null, configuration: alt, mode: 'rtp', proto: alt.proto };
    return why;
  }
  if (policy === 'disabled') return { ...none, mode: 'rtp', proto: m.proto };
  let capWhy: string | null = null;
  for (const cfg of configs) {
    if (!isSavp(cfg.proto)) continue;
    const c = pick(cryptosOf(cfg.attributes).valid, suites, opts);
    if (typeof c !== 'string') return { crypto: c, configuration: cfg, mode: 'srtp', proto: cfg.proto };
    capWhy ??= `potential configuration ${cfg.config}: ${c}`;
  }
  if (policy === 'enforced') {
    if (!(opts.capneg ?? true) && hasCapNeg(m)) {
      return 'Enforced media security needs RTP/SAVP; the offer is RTP/AVP with RFC 5939 capability negotiation, which this party does not support';
    }
    if (capWhy) return `Enforced media security needs SRTP; ${capWhy}`;
    return own.length > 0
      ? 'Enforced media security needs RTP/SAVP; a=crypto on an RTP/AVP line is not accepted'
      : 'Enforced media security needs RTP/SAVP; the offer is plain RTP/AVP';
  }
  const c = pick(own, suites, opts);
  if (typeof c !== 'string') return { crypto: c, configuration: null, mode: 'srtp', proto: m.proto };
  return { ...none, mode: 'rtp', proto: m.proto };
}

/**
 * Judge an incoming offer by the offering (or receiving) party's policy.
 * A stream that cannot meet it is declined (port 0) when another audio stream
 * can; when no audio stream can, the whole offer gets 488 with the first reason.
 * EC-01: a party without RFC 5939 takes an RTP/SAVP stream when the offer has one.
 */
export function judgeOffer(sdp: Sdp, policy: MediaSecurity, opts: JudgeOptions = {}): OfferVerdict {
  const streams: StreamDecision[] = [];
  let firstReason: string | null = null;
  let audioAccepted = false;
  let audioFailed = false;
  let anyAccepted = false;
  sdp.media.forEach((m, i) => {
    const d = decide(sdp, m, policy, opts);
    if (typeof d === 'string') {
      firstReason ??= `stream ${i}: ${d}`;
      if (isAudio(m)) audioFailed = true;
      streams.push({ mediaIndex: i, mode: 'reject', proto: m.proto, crypto: null, configuration: null, reason: d });
      return;
    }
    const accepted = d.mode === 'rtp' || d.mode === 'srtp';
    anyAccepted ||= accepted;
    if (isAudio(m) && accepted) audioAccepted = true;
    streams.push({ ...d, mediaIndex: i, reason: null });
  });
  if (firstReason !== null && (audioFailed ? !audioAccepted : !anyAccepted)) return { ok: false, status: 488, reason: firstReason };
  return { ok: true, streams };
}

export interface AnswerDecision {
  mediaIndex: number;
  mode: 'srtp' | 'rtp' | 'none';
  /** The answer's a=crypto, for 'srtp'. */
  crypto: SdesCrypto | null;
  /** Our offered line with the same tag, when the offer was given. */
  offered: SdesCrypto | null;
  configuration: ChosenConfiguration | null;
}

export type AnswerVerdict = { ok: true; streams: AnswerDecision[] } | { ok: false; reason: string };

export interface JudgeAnswerOptions extends SelectCryptoOptions {
  /** The offer we sent: tags, suites and declarative parameters are checked against it. */
  offer?: Sdp;
  suites?: readonly string[];
}

/**
 * Lines of our offer an answer may pick from: those of the configuration its
 * a=acfg names, else the m= line's; an RTP/SAVP answer that forgot a=acfg may
 * also use those of our SRTP potential configurations.
 */
function offeredCryptos(offer: Sdp, i: number, answerProto: string, chosen: ChosenConfiguration | null): SdesCrypto[] {
  const om = offer.media[i];
  if (!om) return [];
  if (chosen?.offered) return cryptosOf(chosen.offered.attributes).valid;
  const own = cryptosOf(om.attributes).valid;
  if (!isSavp(answerProto) || isSavp(om.proto)) return own;
  const configs = potentialConfigurations(om, offer.attributes).filter((c) => isSavp(c.proto));
  return [...own, ...configs.flatMap((c) => cryptosOf(c.attributes).valid)];
}

function judgeAnswerStream(answer: Sdp, i: number, policy: MediaSecurity, opts: JudgeAnswerOptions, chosen: ChosenConfiguration | null): AnswerDecision | string {
  const m = answer.media[i] as SdpMedia;
  const base = { mediaIndex: i, configuration: chosen };
  if (m.port === 0 || (!isRtpProto(m.proto) && !isDtls(m.proto))) return { ...base, mode: 'none', crypto: null, offered: null };
  if (isDtls(m.proto) || (!isAvp(m.proto) && !isSavp(m.proto))) return `${m.proto} answer is not supported`;
  const { valid, invalid } = cryptosOf(m.attributes);
  if (invalid.length > 0) return invalid[0] as string;
  if (valid.length > 1) return 'an answer must carry one a=crypto per stream';
  const c = valid[0];
  if (!c) {
    if (isSavp(m.proto)) return 'RTP/SAVP answer without a=crypto';
    if (policy === 'enforced') return 'plain RTP answer to an Enforced offer';
    return { ...base, mode: 'rtp', crypto: null, offered: null };
  }
  if (policy === 'disabled') return 'SRTP answer to an offer without SRTP';
  if (policy === 'enforced' && !isSavp(m.proto)) return 'RTP/AVP answer to an Enforced RTP/SAVP offer';
  const why = unusable(c, opts.suites ?? DEFAULT_SRTP_SUITES, opts);
  if (why) return why;
  let offered: SdesCrypto | null = null;
  if (opts.offer) {
    offered = offeredCryptos(opts.offer, i, m.proto, chosen).find((o) => o.tag === c.tag) ?? null;
    if (!offered) return `crypto tag ${c.tag} was not offered`;
    if (offered.suiteInfo?.name !== c.suiteInfo?.name) return `crypto tag ${c.tag}: suite ${c.suite} differs from the offered ${offered.suite}`;
    // Declarative parameters hold for both directions, so the answer must repeat them (RFC 4568 §6.3.2).
    if (offered.unencryptedSrtcp !== c.unencryptedSrtcp || offered.unencryptedSrtp !== c.unencryptedSrtp || offered.unauthenticatedSrtp !== c.unauthenticatedSrtp) {
      return `crypto tag ${c.tag}: UNENCRYPTED_SRTCP/UNENCRYPTED_SRTP/UNAUTHENTICATED_SRTP differ from the offer`;
    }
  }
  return { ...base, mode: 'srtp', crypto: c, offered };
}

/**
 * Judge the answer to an offer we made under `offerPolicy`. Refused: plain RTP
 * answering an Enforced offer, SRTP answering a Disabled one, a crypto line
 * that was not offered or that we cannot run, and UNENCRYPTED_SRTCP while
 * encrypted SRTCP is required (EC-02).
 */
export function judgeAnswer(answer: Sdp, offerPolicy: MediaSecurity, opts: JudgeAnswerOptions = {}): AnswerVerdict {
  const chosen = applyAcfg(answer, opts.offer);
  const streams: AnswerDecision[] = [];
  for (let i = 0; i < answer.media.length; i++) {
    const d = judgeAnswerStream(answer, i, offerPolicy, opts, chosen[i] ?? null);
    if (typeof d === 'string') return { ok: false, reason: `stream ${i}: ${d}` };
    streams.push(d);
  }
  return { ok: true, streams };
}
