// SDP edits the media controller makes on the way between legs: crypto
// removal for Disabled sides, telephone-event added or removed for DTMF
// interworking, and the payload type lists used to renumber between legs.
import type { Sdp } from '../../sdp/index.ts';
import { codecsOf, stripCapNeg } from '../../sdp/index.ts';

export function hasCrypto(sdp: Sdp): boolean {
  return sdp.media.some((m) => m.attributes.some((a) => a.name.toLowerCase() === 'crypto'));
}

export function withoutCrypto(sdp: Sdp): Sdp {
  return { ...sdp, media: sdp.media.map((m) => ({ ...m, attributes: stripCapNeg(m.attributes).filter((a) => a.name.toLowerCase() !== 'crypto') })) };
}

/** (payload type, "name/rate") of a stream, for mapping numbers between the sides. */
export function ptList(sdp: Sdp, index: number): [number, string][] {
  const m = sdp.media[index];
  if (!m) return [];
  const out: [number, string][] = [];
  for (const { format, codec } of codecsOf(m)) if (codec) out.push([Number(format), `${codec.name.toLowerCase()}/${codec.clockRate}`]);
  return out;
}

/** A dynamic payload type (101 first, then 96-127) stream `index` does not use. */
export function freeDynamicPt(sdp: Sdp, index: number): number | undefined {
  const used = new Set(sdp.media[index]?.formats ?? []);
  for (const pt of [101, ...Array.from({ length: 32 }, (_, k) => 96 + k)]) if (!used.has(String(pt))) return pt;
  return undefined;
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
