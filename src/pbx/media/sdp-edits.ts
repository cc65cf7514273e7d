// SDP edits the media controller makes on the way between legs: crypto
// removal for Disabled sides, telephone-event added or removed for DTMF
// interworking, G.729 under the name G729A for a side that uses it, and the
// payload type lists used to renumber between legs.
import type { Codec, Sdp, SdpAttribute } from '../../sdp/index.ts';
import { codecsOf, isAudio, isRtpProto, stripCapNeg } from '../../sdp/index.ts';

export function hasCrypto(sdp: Sdp): boolean {
  return sdp.media.some((m) => m.attributes.some((a) => a.name.toLowerCase() === 'crypto'));
}

export function withoutCrypto(sdp: Sdp): Sdp {
  return { ...sdp, media: sdp.media.map((m) => ({ ...m, attributes: stripCapNeg(m.attributes).filter((a) => a.name.toLowerCase() !== 'crypto') })) };
}

/**
 * (payload type, "name/rate") of a stream, for mapping numbers between the
 * sides. With `g729a` (the side names G.729 "G729A"), G729A counts as G729.
 */
export function ptList(sdp: Sdp, index: number, g729a = false): [number, string][] {
  const m = sdp.media[index];
  if (!m) return [];
  const out: [number, string][] = [];
  for (const { format, codec } of codecsOf(m)) {
    if (!codec) continue;
    const name = g729a && isG729A(codec) ? 'g729' : codec.name.toLowerCase();
    out.push([Number(format), `${name}/${codec.clockRate}`]);
  }
  return out;
}

/** A dynamic payload type (`first`, by default 101, then 96-127) stream `index` does not use, other than `reserved`. */
export function freeDynamicPt(sdp: Sdp, index: number, first = 101, reserved?: number): number | undefined {
  const used = new Set(sdp.media[index]?.formats ?? []);
  for (const pt of [first, ...Array.from({ length: 32 }, (_, k) => 96 + k)]) if (pt !== reserved && !used.has(String(pt))) return pt;
  return undefined;
}

// G.729 Annex A decodes and is decoded by G.729 (RFC 3551 §4.5.6 gives both
// the one name G729, payload type 18), yet some equipment knows it only as
// "G729A". A static payload type carries one name (RFC 4566 §6: one rtpmap per
// format), so the second name needs a dynamic payload type of its own.
const G729 = 18;

/** An a=rtpmap naming G729A (any case) at 8 kHz. */
export function isG729A(c: Codec | null): boolean {
  return c !== null && c.clockRate === 8000 && c.name.toLowerCase() === 'g729a';
}

const isG729 = (c: Codec | null): boolean => c !== null && c.name === 'G729' && c.clockRate === 8000;

/** The payload type an a=rtpmap or a=fmtp line is about ('' for other lines). */
function mapPt(a: SdpAttribute): string {
  const n = a.name.toLowerCase();
  if ((n !== 'rtpmap' && n !== 'fmtp') || a.value == null) return '';
  const sp = a.value.indexOf(' ');
  return sp < 0 ? a.value : a.value.slice(0, sp);
}

/**
 * Offers toward a side that uses the name (B-11 "Add G729A media type"):
 * stream `index`, when it has G.729 and no G729A, also lists G.729 as
 * G729A/8000 on payload type `pt` (its fmtp copied), right after G.729, so
 * the side may answer either name.
 */
export function withG729A(sdp: Sdp, index: number, pt: number): Sdp {
  const p = String(pt);
  let changed = false;
  const media = sdp.media.map((m, k) => {
    if (k !== index || m.port === 0 || !isAudio(m) || !isRtpProto(m.proto) || m.formats.includes(p)) return m;
    const listed = codecsOf(m);
    if (listed.some((x) => isG729A(x.codec))) return m;
    const g = listed.find((x) => isG729(x.codec));
    if (!g) return m;
    const fmtp = m.attributes.find((a) => a.name.toLowerCase() === 'fmtp' && mapPt(a) === g.format);
    const added: SdpAttribute[] = [{ name: 'rtpmap', value: `${p} G729A/8000` }];
    if (fmtp?.value != null) added.push({ name: 'fmtp', value: p + fmtp.value.slice(g.format.length) });
    const attributes = m.attributes.slice();
    // After G.729's own rtpmap/fmtp (or the last of any), before direction and the rest.
    let at = 0;
    attributes.forEach((a, j) => {
      const pt = mapPt(a);
      if (pt === g.format || (pt !== '' && at === 0)) at = j + 1;
    });
    attributes.splice(at, 0, ...added);
    const formats = m.formats.slice();
    formats.splice(formats.indexOf(g.format) + 1, 0, p);
    changed = true;
    return { ...m, formats, attributes };
  });
  return changed ? { ...sdp, media } : sdp;
}

/**
 * SDP from a side that uses the name, as the other side is to see it: in each
 * active RTP audio stream, G729A (any case, any payload type) is G.729 on
 * payload type 18 named G729/8000, or is dropped where the stream has G.729
 * already. The same object back when there is no G729A.
 */
export function g729aAsG729(sdp: Sdp): Sdp {
  let changed = false;
  const media = sdp.media.map((m) => {
    if (m.port === 0 || !isAudio(m) || !isRtpProto(m.proto)) return m;
    const listed = codecsOf(m);
    const aliases = listed.filter((x) => isG729A(x.codec)).map((x) => x.format);
    if (aliases.length === 0) return m;
    changed = true;
    // The first alias becomes G.729 unless the stream has G.729 already; the others go.
    const keep = listed.some((x) => isG729(x.codec)) ? undefined : aliases[0];
    // Payload type 18 under another name (no such phone is known) leaves G.729 on the alias's number.
    const taken = listed.some((x) => Number(x.format) === G729 && !isG729A(x.codec));
    const target = taken || keep === undefined ? keep : String(G729);
    const formats: string[] = [];
    for (const f of m.formats) {
      if (f === keep && !formats.includes(target!)) formats.push(target!);
      else if (!aliases.includes(f)) formats.push(f);
    }
    const attributes: SdpAttribute[] = [];
    for (const a of m.attributes) {
      const pt = mapPt(a);
      if (pt === '' || !aliases.includes(pt)) attributes.push(a);
      else if (pt === keep) attributes.push({ ...a, value: target + (a.name.toLowerCase() === 'rtpmap' ? ' G729/8000' : a.value!.slice(pt.length)) });
    }
    return { ...m, formats, attributes };
  });
  return changed ? { ...sdp, media } : sdp;
}

/**
 * An answer toward a side that uses the name, in its terms (RFC 3264 §6.1):
 * stream `index` names each payload type the offer named G729A as the offer
 * did (the relay has already renumbered it to the offer's number).
 */
export function withOfferedG729A(answer: Sdp, offer: Sdp, index: number): Sdp {
  const m = answer.media[index];
  const o = offer.media[index];
  if (!m || !o) return answer;
  const aliases = new Set(codecsOf(o).filter((x) => isG729A(x.codec) && m.formats.includes(x.format)).map((x) => x.format));
  const named = new Map<string, SdpAttribute>();
  for (const a of o.attributes) if (a.name.toLowerCase() === 'rtpmap' && aliases.has(mapPt(a))) named.set(mapPt(a), a);
  if (named.size === 0) return answer;
  const attributes = m.attributes.map((a) => (a.name.toLowerCase() === 'rtpmap' && named.has(mapPt(a)) ? named.get(mapPt(a))! : a));
  // A static G.729 may have been answered without an rtpmap: the renumbered payload type needs one.
  const missing = [...named].filter(([pt]) => !m.attributes.some((a) => a.name.toLowerCase() === 'rtpmap' && mapPt(a) === pt)).map(([, a]) => a);
  attributes.splice(0, 0, ...missing);
  return { ...answer, media: answer.media.map((x, k) => (k === index ? { ...x, attributes } : x)) };
}

/** Stream `index` with telephone-event/8000 (events 0-16) as payload type `pt`. */
export function withTelephoneEvent(sdp: Sdp, index: number, pt: number): Sdp {
  return {
    ...sdp,
    media: sdp.media.map((m, k) => {
      if (k !== index || m.formats.includes(String(pt))) return m;
      const attributes = m.attributes.slice();
      // After the last rtpmap/fmtp, before direction and the rest.
      let at = 0;
      attributes.forEach((a, j) => {
        const n = a.name.toLowerCase();
        if (n === 'rtpmap' || n === 'fmtp') at = j + 1;
      });
      attributes.splice(at, 0, { name: 'rtpmap', value: `${pt} telephone-event/8000` }, { name: 'fmtp', value: `${pt} 0-16` });
      return { ...m, formats: [...m.formats, String(pt)], attributes };
    }),
  };
}

/** Stream `index` without payload type `pt` (its format, rtpmap and fmtp). */
export function withoutPayload(sdp: Sdp, index: number, pt: number): Sdp {
  const p = String(pt);
  return {
    ...sdp,
    media: sdp.media.map((m, k) => {
      if (k !== index) return m;
      const attributes = m.attributes.filter((a) => {
        const n = a.name.toLowerCase();
        return !((n === 'rtpmap' || n === 'fmtp') && (a.value ?? '').split(' ')[0] === p);
      });
      return { ...m, formats: m.formats.filter((f) => f !== p), attributes };
    }),
  };
}

export function telephoneEventPt(sdp: Sdp, index: number): number | undefined {
  const m = sdp.media[index];
  if (!m) return undefined;
  for (const { format, codec } of codecsOf(m)) if (codec?.name.toLowerCase() === 'telephone-event') return Number(format);
  return undefined;
}

/** Stream `index` with its first voice codec only (telephone-event and comfort noise stay). */
export function withSingleCodec(sdp: Sdp, index: number): Sdp {
  const m = sdp.media[index];
  if (!m) return sdp;
  let out = sdp;
  let first = true;
  for (const { format, codec } of codecsOf(m)) {
    const name = codec?.name.toLowerCase();
    if (name === 'telephone-event' || name === 'cn') continue;
    if (first) first = false;
    else out = withoutPayload(out, index, Number(format));
  }
  return out;
}

/**
 * Stream `index` with its payload types renumbered by `map` (format list,
 * rtpmap, fmtp), in one pass so swapped numbers stay apart. A number whose
 * new value another format of the stream keeps is left as it is.
 */
export function withPayloadTypes(sdp: Sdp, index: number, map: ReadonlyMap<number, number>): Sdp {
  const m = sdp.media[index];
  if (!m || map.size === 0) return sdp;
  const to = new Map<string, string>();
  for (const [from, pt] of map) {
    const target = String(pt);
    if (m.formats.includes(target) && !map.has(pt)) continue;
    to.set(String(from), target);
  }
  if (to.size === 0) return sdp;
  const renumber = (f: string): string => to.get(f) ?? f;
  return {
    ...sdp,
    media: sdp.media.map((x, k) => {
      if (k !== index) return x;
      const attributes = x.attributes.map((a) => {
        const n = a.name.toLowerCase();
        if ((n !== 'rtpmap' && n !== 'fmtp') || a.value == null) return a;
        const sp = a.value.indexOf(' ');
        const pt = sp < 0 ? a.value : a.value.slice(0, sp);
        const next = to.get(pt);
        return next === undefined ? a : { ...a, value: next + (sp < 0 ? '' : a.value.slice(sp)) };
      });
      return { ...x, formats: x.formats.map(renumber), attributes };
    }),
  };
}
