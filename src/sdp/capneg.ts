// SDP capability negotiation (RFC 5939): a=tcap, a=acap, a=pcfg, a=acfg,
// a=csup, a=creq.
//
// An offer keeps a plain "actual" configuration on its m= line (RTP/AVP for
// best-effort SRTP) and lists "potential" configurations that reference
// transport (tcap) and attribute (acap) capabilities by number; the answerer
// uses one and says which in a=acfg. Capability numbers are unique across the
// whole description (session and media level); configuration numbers are per
// media section, lower meaning preferred.
//
// Parsers keep each part's order, so formatting gives the value back (blank
// runs become one space, leading zeros of numbers go). Where one a=pcfg lists
// alternatives for several parts ("t=1|2 a=1|2"), we expand them with the part
// written first varying slowest; RFC 5939 leaves that order to the offerer.

import type { Sdp, SdpAttribute, SdpMedia } from './model.ts';
import { cloneMedia, cloneSdp, findAttributes } from './model.ts';

export const CAPNEG_ATTRIBUTES: ReadonlySet<string> = new Set(['tcap', 'acap', 'pcfg', 'acfg', 'csup', 'creq']);

/** Option tags of the framework we implement: the base one only (RFC 5939 §3.3.1). */
export const SUPPORTED_CAPNEG_OPTIONS: readonly string[] = Object.freeze(['cap-v0']);

/** Configurations one media section may expand to; bounds the cross product of alternatives. */
const MAX_CONFIGURATIONS = 64;
const MAX_NUMBER = 2 ** 31 - 1;

export interface Tcap {
  /** Number of the first protocol; the next ones are numbered on from it. */
  number: number;
  protos: string[];
}

export interface Acap {
  number: number;
  /** The attribute it stands for: name and value as in SdpAttribute. */
  attribute: SdpAttribute;
}

/** Attribute capabilities one alternative takes: mandatory ones and bracketed optional ones. */
export interface AttributeChoice {
  mandatory: number[];
  optional: number[];
}

export type ConfigPart =
  | { kind: 'transport'; alternatives: number[] }
  | { kind: 'attributes'; deleteMedia: boolean; deleteSession: boolean; alternatives: AttributeChoice[] }
  | { kind: 'extension'; mandatory: boolean; name: string; value: string };

/** a=pcfg, or a=acfg (then every part has exactly one alternative). */
export interface CapConfig {
  number: number;
  parts: ConfigPart[];
}

export type CapNegResult<T> = { ok: true; value: T } | { ok: false; reason: string };

function num(s: string): number | null {
  if (!/^[0-9]{1,10}$/.test(s)) return null;
  const n = Number(s);
  return n >= 1 && n <= MAX_NUMBER ? n : null;
}

function clip(s: string): string {
  return s.length > 24 ? `${s.slice(0, 24)}...` : s;
}

function words(v: string): string[] {
  return v.split(/[ \t]+/).filter((w) => w.length > 0);
}

export function parseTcap(value: string): CapNegResult<Tcap> {
  const [n = '', ...protos] = words(value);
  const number = num(n);
  if (number === null) return { ok: false, reason: `a=tcap number "${clip(n)}" is not 1-${MAX_NUMBER}` };
  if (protos.length === 0) return { ok: false, reason: 'a=tcap lists no transport protocol' };
  if (number + protos.length - 1 > MAX_NUMBER) return { ok: false, reason: 'a=tcap numbers run past the limit' };
  return { ok: true, value: { number, protos } };
}

export function formatTcap(t: Tcap): string {
  return `${t.number} ${t.protos.join(' ')}`;
}

export function parseAcap(value: string): CapNegResult<Acap> {
  const m = /^[ \t]*([0-9]+)[ \t]+(\S.*)$/s.exec(value);
  const number = m ? num(m[1] as string) : null;
  if (!m || number === null) return { ok: false, reason: 'a=acap is not "<number> <attribute>"' };
  const par = (m[2] as string).trimEnd();
  const colon = par.indexOf(':');
  const attribute = colon < 0 ? { name: par, value: null } : { name: par.slice(0, colon), value: par.slice(colon + 1) };
  if (attribute.name.length === 0 || /[ \t]/.test(attribute.name)) return { ok: false, reason: `a=acap:${number} attribute name is not one word` };
  return { ok: true, value: { number, attribute } };
}

export function formatAcap(a: Acap): string {
  const { name, value } = a.attribute;
  return `${a.number} ${value === null ? name : `${name}:${value}`}`;
}

function parseNumberList(s: string): number[] | null {
  const out: number[] = [];
  for (const p of s.split(',')) {
    const n = num(p);
    if (n === null) return null;
    out.push(n);
  }
  return out;
}

function parseChoice(s: string): AttributeChoice | null {
  const m = /^(?:([0-9,]+?)(?:,\[([0-9,]+)\])?|\[([0-9,]+)\])$/.exec(s);
  if (!m) return null;
  const mandatory = m[1] === undefined ? [] : parseNumberList(m[1]);
  const optText = m[2] ?? m[3];
  const optional = optText === undefined ? [] : parseNumberList(optText);
  return mandatory && optional ? { mandatory, optional } : null;
}

function parsePart(w: string, single: boolean): ConfigPart | string {
  const bars = (alts: string[]): string | null => (single && alts.length > 1 ? 'a=acfg part has alternatives' : null);
  if (w.startsWith('t=')) {
    const alts = w.slice(2).split('|');
    const nums = alts.map(num);
    if (nums.some((n) => n === null)) return `transport list "${clip(w)}" is not numbers`;
    return bars(alts) ?? { kind: 'transport', alternatives: nums as number[] };
  }
  if (w.startsWith('a=')) {
    let body = w.slice(2);
    let deleteMedia = false;
    let deleteSession = false;
    const del = /^-(m|s|ms)(?::|$)/.exec(body);
    if (del) {
      deleteMedia = (del[1] as string).includes('m');
      deleteSession = (del[1] as string).includes('s');
      body = body.slice(del[0].length);
      if (body.length === 0 && del[0].endsWith(':')) return `attribute list "${clip(w)}" is empty after ":"`;
      if (body.length === 0) return { kind: 'attributes', deleteMedia, deleteSession, alternatives: [] };
    }
    const alts = body.split('|');
    const choices = alts.map(parseChoice);
    if (choices.some((c) => c === null)) return `attribute list "${clip(w)}" is malformed`;
    return bars(alts) ?? { kind: 'attributes', deleteMedia, deleteSession, alternatives: choices as AttributeChoice[] };
  }
  const ext = /^(\+?)([A-Za-z0-9]+)=(\S+)$/.exec(w);
  if (!ext) return `unknown configuration part "${clip(w)}"`;
  return { kind: 'extension', mandatory: ext[1] === '+', name: ext[2] as string, value: ext[3] as string };
}

function parseConfig(value: string, name: 'pcfg' | 'acfg'): CapNegResult<CapConfig> {
  const [n = '', ...rest] = words(value);
  const number = num(n);
  if (number === null) return { ok: false, reason: `a=${name} number "${clip(n)}" is not 1-${MAX_NUMBER}` };
  const parts: ConfigPart[] = [];
  for (const w of rest) {
    const p = parsePart(w, name === 'acfg');
    if (typeof p === 'string') return { ok: false, reason: `a=${name}:${number} ${p}` };
    parts.push(p);
  }
  return { ok: true, value: { number, parts } };
}

export function parsePcfg(value: string): CapNegResult<CapConfig> {
  return parseConfig(value, 'pcfg');
}

export function parseAcfg(value: string): CapNegResult<CapConfig> {
  return parseConfig(value, 'acfg');
}

function formatChoice(c: AttributeChoice): string {
  const opt = c.optional.length > 0 ? `[${c.optional.join(',')}]` : '';
  return c.mandatory.length > 0 && opt ? `${c.mandatory.join(',')},${opt}` : c.mandatory.join(',') + opt;
}

function formatPart(p: ConfigPart): string {
  if (p.kind === 'transport') return `t=${p.alternatives.join('|')}`;
  if (p.kind === 'extension') return `${p.mandatory ? '+' : ''}${p.name}=${p.value}`;
  const del = p.deleteMedia || p.deleteSession ? `-${p.deleteMedia ? 'm' : ''}${p.deleteSession ? 's' : ''}` : '';
  const list = p.alternatives.map(formatChoice).join('|');
  return `a=${del}${del && list ? ':' : ''}${list}`;
}

/** The value of an a=pcfg or a=acfg. */
export function formatConfig(c: CapConfig): string {
  return [String(c.number), ...c.parts.map(formatPart)].join(' ');
}

/** Option tags of an a=csup / a=creq value. */
export function parseOptionTags(value: string): string[] {
  return value.split(',').map((t) => t.trim()).filter((t) => t.length > 0);
}

/** True when the description (or one media section) carries any RFC 5939 attribute. */
export function hasCapNeg(target: Sdp | SdpMedia): boolean {
  const isCap = (a: SdpAttribute): boolean => CAPNEG_ATTRIBUTES.has(a.name.toLowerCase());
  if ('origin' in target) return target.attributes.some(isCap) || target.media.some((m) => m.attributes.some(isCap));
  return target.attributes.some(isCap);
}

/** `attrs` without capability negotiation attributes. */
export function stripCapNeg(attrs: readonly SdpAttribute[]): SdpAttribute[] {
  return attrs.filter((a) => !CAPNEG_ATTRIBUTES.has(a.name.toLowerCase()));
}

interface Capabilities {
  transports: Map<number, string>;
  attributes: Map<number, SdpAttribute>;
}

function collect(attrs: readonly SdpAttribute[], into: Capabilities): void {
  for (const a of attrs) {
    if (a.value === null) continue;
    const name = a.name.toLowerCase();
    if (name === 'tcap') {
      const t = parseTcap(a.value);
      if (t.ok) t.value.protos.forEach((p, i) => into.transports.set(t.value.number + i, p));
    } else if (name === 'acap') {
      const c = parseAcap(a.value);
      if (c.ok) into.attributes.set(c.value.number, c.value.attribute);
    }
  }
}

function unsupportedRequired(attrs: readonly SdpAttribute[]): boolean {
  return findAttributes(attrs, 'creq').some((a) => parseOptionTags(a.value ?? '').some((t) => !SUPPORTED_CAPNEG_OPTIONS.includes(t)));
}

export interface PotentialConfiguration {
  /** The a=pcfg number; an answer names it in a=acfg. */
  config: number;
  /** Transport capability used, null when the m= line's proto is kept. */
  transport: number | null;
  proto: string;
  /** Attribute capabilities used, mandatory then optional. */
  attributeCaps: number[];
  optionalCaps: number[];
  /** The media section's attributes as this configuration has them (capability attributes removed). */
  attributes: SdpAttribute[];
  deleteSession: boolean;
  /** The a=acfg value an answer choosing this configuration carries. */
  acfg: string;
}

function expand(parts: readonly ConfigPart[]): ConfigPart[][] {
  let combos: ConfigPart[][] = [[]];
  for (const p of parts) {
    if (p.kind === 'extension' || (p.kind === 'attributes' && p.alternatives.length === 0)) {
      combos = combos.map((c) => [...c, p]);
      continue;
    }
    const singles: ConfigPart[] =
      p.kind === 'transport'
        ? p.alternatives.map((t) => ({ kind: 'transport', alternatives: [t] }))
        : p.alternatives.map((a) => ({ ...p, alternatives: [a] }));
    const next: ConfigPart[][] = [];
    for (const c of combos) for (const s of singles) if (next.length < MAX_CONFIGURATIONS) next.push([...c, s]);
    combos = next;
  }
  return combos;
}

function resolve(media: SdpMedia, caps: Capabilities, number: number, parts: readonly ConfigPart[]): PotentialConfiguration | null {
  let transport: number | null = null;
  let proto = media.proto;
  let base = stripCapNeg(media.attributes);
  let deleteSession = false;
  const mandatory: number[] = [];
  const optional: number[] = [];
  for (const p of parts) {
    if (p.kind === 'extension') {
      if (p.mandatory) return null; // no extension capabilities are implemented
    } else if (p.kind === 'transport') {
      transport = p.alternatives[0] as number;
      const t = caps.transports.get(transport);
      if (t === undefined) return null;
      proto = t;
    } else {
      if (p.deleteMedia) base = [];
      deleteSession ||= p.deleteSession;
      const choice = p.alternatives[0];
      if (choice) {
        mandatory.push(...choice.mandatory);
        optional.push(...choice.optional);
      }
    }
  }
  const added: SdpAttribute[] = [];
  for (const n of [...mandatory, ...optional]) {
    const a = caps.attributes.get(n);
    if (!a) return null;
    added.push({ ...a });
  }
  const acfg = formatConfig({ number, parts: parts.filter((p) => p.kind !== 'extension') });
  return { config: number, transport, proto, attributeCaps: [...mandatory, ...optional], optionalCaps: optional, attributes: [...base, ...added], deleteSession, acfg };
}

/**
 * The potential configurations of a media section, most preferred first.
 * `sessionAttributes` supplies session-level capabilities and a=creq.
 * Configurations that name a capability the description does not define, or
 * a mandatory extension, are left out; so is everything when a=creq asks for
 * an option we lack.
 */
export function potentialConfigurations(media: SdpMedia, sessionAttributes: readonly SdpAttribute[] = []): PotentialConfiguration[] {
  if (unsupportedRequired(sessionAttributes) || unsupportedRequired(media.attributes)) return [];
  const caps: Capabilities = { transports: new Map(), attributes: new Map() };
  collect(sessionAttributes, caps);
  collect(media.attributes, caps);
  const configs: CapConfig[] = [];
  for (const a of findAttributes(media.attributes, 'pcfg')) {
    const p = parsePcfg(a.value ?? '');
    if (p.ok && !configs.some((c) => c.number === p.value.number)) configs.push(p.value);
  }
  configs.sort((a, b) => a.number - b.number);
  const out: PotentialConfiguration[] = [];
  for (const c of configs) {
    for (const parts of expand(c.parts)) {
      if (out.length >= MAX_CONFIGURATIONS) return out;
      const r = resolve(media, caps, c.number, parts);
      if (r) out.push(r);
    }
  }
  return out;
}

export interface CapNegSrtpOptions {
  /** Protocol of the potential configuration; default RTP/SAVP, or RTP/SAVPF when the m= line is RTP/AVPF. */
  secureProto?: string;
  /** First free capability numbers (they are unique across the description); default 1 and 1. */
  firstTcap?: number;
  firstAcap?: number;
}

/**
 * A media section for a best-effort SRTP offer: the m= line stays (or
 * becomes) RTP/AVP(F), a=crypto lines move into a=acap, and one a=pcfg
 * offers RTP/SAVP(F) with any one of them ("a=pcfg:1 t=1 a=1|2"). Old
 * crypto and capability attributes are dropped. `cryptos` are a=crypto
 * values, most preferred first; at least one.
 */
export function capNegSrtpMedia(media: SdpMedia, cryptos: readonly string[], opts: CapNegSrtpOptions = {}): SdpMedia {
  if (cryptos.length === 0) throw new RangeError('capNegSrtpMedia: at least one crypto line is needed');
  const t = opts.firstTcap ?? 1;
  const a0 = opts.firstAcap ?? 1;
  if (num(String(t)) === null || num(String(a0 + cryptos.length - 1)) === null) throw new RangeError('capNegSrtpMedia: capability numbers out of range');
  const out = cloneMedia(media);
  const feedback = /^RTP\/S?AVPF$/i.test(media.proto);
  out.proto = feedback ? 'RTP/AVPF' : 'RTP/AVP';
  const secure = opts.secureProto ?? (feedback ? 'RTP/SAVPF' : 'RTP/SAVP');
  out.attributes = stripCapNeg(out.attributes).filter((x) => x.name.toLowerCase() !== 'crypto');
  out.attributes.push({ name: 'tcap', value: `${t} ${secure}` });
  cryptos.forEach((c, i) => out.attributes.push({ name: 'acap', value: `${a0 + i} crypto:${c}` }));
  out.attributes.push({ name: 'pcfg', value: `1 t=${t} a=${cryptos.map((_, i) => a0 + i).join('|')}` });
  return out;
}

/** A copy without any capability negotiation attribute, session or media level. */
export function withoutCapNeg(sdp: Sdp): Sdp {
  const out = cloneSdp(sdp);
  out.attributes = stripCapNeg(out.attributes);
  for (const m of out.media) m.attributes = stripCapNeg(m.attributes);
  return out;
}

export interface ChosenConfiguration {
  mediaIndex: number;
  /** As the answer's a=acfg states it. */
  acfg: CapConfig;
  /** Resolved against the offer, when one was given and it defines the configuration; else null. */
  offered: PotentialConfiguration | null;
}

function acfgChoice(acfg: CapConfig): { transport: number | null; caps: Set<number> } {
  let transport: number | null = null;
  const caps = new Set<number>();
  for (const p of acfg.parts) {
    if (p.kind === 'transport') transport = p.alternatives[0] ?? null;
    else if (p.kind === 'attributes') for (const c of p.alternatives) for (const n of [...c.mandatory, ...c.optional]) caps.add(n);
  }
  return { transport, caps };
}

/**
 * Which configuration the answerer took in each media section (the one
 * a=acfg per section; null where there is none or it is malformed). With the
 * offer, the choice is resolved to the protocol and attributes we offered.
 */
export function applyAcfg(answer: Sdp, offer?: Sdp): Array<ChosenConfiguration | null> {
  return answer.media.map((m, i) => {
    const a = findAttributes(m.attributes, 'acfg')[0];
    const parsed = a?.value == null ? null : parseAcfg(a.value);
    if (!parsed || !parsed.ok) return null;
    const acfg = parsed.value;
    let offered: PotentialConfiguration | null = null;
    const om = offer?.media[i];
    if (offer && om) {
      // The answer may list the optional capabilities it took with or without brackets, so match by content.
      const { transport, caps } = acfgChoice(acfg);
      offered =
        potentialConfigurations(om, offer.attributes).find(
          (c) =>
            c.config === acfg.number &&
            c.transport === transport &&
            c.attributeCaps.every((n) => caps.has(n) || c.optionalCaps.includes(n)) &&
            [...caps].every((n) => c.attributeCaps.includes(n)),
        ) ?? null;
    }
    return { mediaIndex: i, acfg, offered };
  });
}
