// Codec catalogue and per-extension codec policy.
//
// A payload type is named by its a=rtpmap when there is one (RFC 8866 §6.6),
// otherwise by the static RTP/AVP table (RFC 3551 §6). Encoding names compare
// case-insensitively (RFC 4855 §3); known ones are reported in one canonical
// spelling so CDRs and policy lists do not depend on how a phone writes them.

import type { Sdp, SdpMedia } from './model.ts';
import { cloneSdp, isAudio, isRtpProto } from './model.ts';

export interface Codec {
  /** Canonical spelling for known codecs ("PCMU", "telephone-event", "opus"), else as written in a=rtpmap. */
  name: string;
  clockRate: number;
  /** Audio channels when the rtpmap or table gives them, else null. */
  channels: number | null;
  pt: number;
}

type StaticEntry = readonly [name: string, clockRate: number, channels?: number];

const STATIC_PT: ReadonlyMap<number, StaticEntry> = new Map<number, StaticEntry>([
  [0, ['PCMU', 8000]],
  [3, ['GSM', 8000]],
  [4, ['G723', 8000]],
  [5, ['DVI4', 8000]],
  [6, ['DVI4', 16000]],
  [7, ['LPC', 8000]],
  [8, ['PCMA', 8000]],
  // G.722 samples at 16 kHz but RFC 3551 §4.5.2 fixes its RTP clock at 8000.
  [9, ['G722', 8000]],
  [10, ['L16', 44100, 2]],
  [11, ['L16', 44100]],
  [12, ['QCELP', 8000]],
  [13, ['CN', 8000]],
  [14, ['MPA', 90000]],
  [15, ['G728', 8000]],
  [16, ['DVI4', 11025]],
  [17, ['DVI4', 22050]],
  [18, ['G729', 8000]],
  [25, ['CelB', 90000]],
  [26, ['JPEG', 90000]],
  [28, ['nv', 90000]],
  [31, ['H261', 90000]],
  [32, ['MPV', 90000]],
  [33, ['MP2T', 90000]],
  [34, ['H263', 90000]],
]);

export const TELEPHONE_EVENT = 'telephone-event';
export const COMFORT_NOISE = 'CN';

const CANONICAL: ReadonlyMap<string, string> = new Map(
  [
    ...[...STATIC_PT.values()].map((e) => e[0]),
    TELEPHONE_EVENT, 'opus', 'iLBC', 'speex', 'AMR', 'AMR-WB', 'G7221', 'G726-16', 'G726-24', 'G726-32', 'G726-40',
    'G729D', 'G729E', 'red', 'ulpfec', 'rtx', 'H264', 'H265', 'VP8', 'VP9', 'AV1',
  ].map((n) => [n.toLowerCase(), n]),
);

/** `name` in the catalogue's spelling when the catalogue knows it, else unchanged. */
export function canonicalCodecName(name: string): string {
  return CANONICAL.get(name.toLowerCase()) ?? name;
}

function parseRtpmap(value: string): Codec | null {
  const m = /^([0-9]{1,3})[ \t]+([^ \t/]+)\/([0-9]{1,10})(?:\/([0-9]{1,3}))?[ \t]*$/.exec(value);
  if (!m) return null;
  const pt = Number(m[1]);
  if (pt > 127) return null;
  return { pt, name: canonicalCodecName(m[2] as string), clockRate: Number(m[3]), channels: m[4] === undefined ? null : Number(m[4]) };
}

/** Payload type → codec from the a=rtpmap lines of `media` (first line wins for a repeated PT; malformed lines ignored). */
function rtpmaps(media: SdpMedia): Map<number, Codec> {
  const map = new Map<number, Codec>();
  for (const a of media.attributes) {
    if (a.value === null || a.name.toLowerCase() !== 'rtpmap') continue;
    const c = parseRtpmap(a.value);
    if (c && !map.has(c.pt)) map.set(c.pt, c);
  }
  return map;
}

function lookup(maps: ReadonlyMap<number, Codec>, pt: number): Codec | null {
  const mapped = maps.get(pt);
  if (mapped) return mapped;
  const s = STATIC_PT.get(pt);
  return s ? { pt, name: s[0], clockRate: s[1], channels: s[2] ?? null } : null;
}

function ptOf(fmt: number | string): number | null {
  if (typeof fmt === 'number') return Number.isInteger(fmt) && fmt >= 0 && fmt <= 127 ? fmt : null;
  return /^[0-9]{1,3}$/.test(fmt) && Number(fmt) <= 127 ? Number(fmt) : null;
}

/** The codec a payload type stands for in `media`, or null (not RTP, not a PT, dynamic without rtpmap). */
export function codecOf(media: SdpMedia, pt: number | string): Codec | null {
  if (!isRtpProto(media.proto)) return null;
  const n = ptOf(pt);
  return n === null ? null : lookup(rtpmaps(media), n);
}

/** Every format of `media` with its codec (null where unknown), in m= line order. */
export function codecsOf(media: SdpMedia): Array<{ format: string; codec: Codec | null }> {
  const rtp = isRtpProto(media.proto);
  const maps = rtp ? rtpmaps(media) : new Map<number, Codec>();
  return media.formats.map((format) => {
    const n = rtp ? ptOf(format) : null;
    return { format, codec: n === null ? null : lookup(maps, n) };
  });
}

function isEvent(c: Codec | null): boolean {
  return c !== null && c.name.toLowerCase() === TELEPHONE_EVENT;
}

function isCn(c: Codec | null): boolean {
  return c !== null && c.name.toLowerCase() === 'cn';
}

/** Neither DTMF events nor comfort noise: a codec that can carry a voice. */
export function isVoiceCodec(c: Codec | null): c is Codec {
  return c !== null && !isEvent(c) && !isCn(c);
}

function activeRtpAudio(m: SdpMedia): boolean {
  return m.port !== 0 && isAudio(m) && isRtpProto(m.proto);
}

interface AllowedEntry {
  name: string;
  rate: number | null;
}

function parseAllowed(allowed: readonly string[]): AllowedEntry[] {
  return allowed.map((entry) => {
    const [name = '', rate] = entry.trim().split('/');
    const r = rate !== undefined && /^[0-9]{1,10}$/.test(rate) ? Number(rate) : null;
    return { name: name.toLowerCase(), rate: r };
  });
}

function allowedIndex(entries: readonly AllowedEntry[], c: Codec): number {
  const name = c.name.toLowerCase();
  return entries.findIndex((e) => e.name === name && (e.rate === null || e.rate === c.clockRate));
}

const PT_ATTRIBUTES = new Set(['rtpmap', 'fmtp', 'rtcp-fb']);

/** The payload type an a=rtpmap / a=fmtp / a=rtcp-fb line is about, or null for other lines ("rtcp-fb:*" included). */
function attributePt(name: string, value: string | null): number | null {
  if (value === null || !PT_ATTRIBUTES.has(name.toLowerCase())) return null;
  const m = /^([0-9]{1,3})(?:[ \t]|$)/.exec(value);
  return m ? Number(m[1]) : null;
}

export interface FilterResult {
  sdp: Sdp;
  /** Names of the codecs taken out (payload type numbers for unknown dynamic ones), each once. */
  removed: string[];
  /** Voice codecs left across the active audio streams; 0 means the call cannot go ahead (answer 488). */
  left: number;
}

/**
 * Apply an extension's codec list to an offer: in each active RTP audio stream
 * keep the payload types whose codec is in `allowed` ("PCMU", "G722",
 * "opus/48000"; case-insensitive), in `allowed` order (stable within one
 * entry); telephone-event is always kept, after them, and comfort noise only
 * when `allowed` lists CN. The a=rtpmap/fmtp/rtcp-fb lines of removed payload
 * types go too. Other media are untouched. A stream left without a voice codec
 * is disabled (port 0) and keeps one format so its m= line stays valid.
 */
export function filterCodecs(sdp: Sdp, allowed: readonly string[]): FilterResult {
  const out = cloneSdp(sdp);
  const entries = parseAllowed(allowed);
  const removed = new Set<string>();
  let left = 0;
  for (const m of out.media) {
    if (!activeRtpAudio(m)) continue;
    const listed = codecsOf(m);
    const ranked: Array<{ format: string; codec: Codec | null; rank: number; order: number }> = [];
    const seen = new Set<number | string>();
    listed.forEach(({ format, codec }, order) => {
      // A payload type listed twice is kept once.
      const key = ptOf(format) ?? format;
      if (seen.has(key)) return;
      seen.add(key);
      const idx = codec ? allowedIndex(entries, codec) : -1;
      if (idx >= 0) ranked.push({ format, codec, rank: idx, order });
      else if (isEvent(codec)) ranked.push({ format, codec, rank: entries.length, order });
      else removed.add(codec ? codec.name : format);
    });
    ranked.sort((a, b) => a.rank - b.rank || a.order - b.order);
    const keep = ranked.map((r) => r.format);
    const voice = ranked.filter((r) => isVoiceCodec(r.codec)).length;
    left += voice;
    let formats = keep;
    if (voice === 0) {
      m.port = 0;
      if (formats.length === 0 && listed[0]) formats = [listed[0].format];
    }
    const kept = new Set(formats.map(ptOf));
    // Payload types compare as numbers: "08" on the m= line is rtpmap:8.
    const dropped = new Set(m.formats.map(ptOf).filter((pt) => !kept.has(pt)));
    m.formats = formats;
    m.attributes = m.attributes.filter((a) => {
      const pt = attributePt(a.name, a.value);
      return pt === null || !dropped.has(pt);
    });
  }
  return { sdp: out, removed: [...removed], left };
}

/**
 * The codec an answer settled on: the first voice codec of the first active
 * RTP audio stream (for CDRs and status), or null when there is none.
 */
export function negotiatedCodec(answer: Sdp): string | null {
  for (const m of answer.media) {
    if (!activeRtpAudio(m)) continue;
    for (const { codec } of codecsOf(m)) if (isVoiceCodec(codec)) return codec.name;
    return null;
  }
  return null;
}
