// RFC 7339 §4 and §9 (the Via parameters oc, oc-algo, oc-validity, oc-seq
// and their syntax), §5.2 and §5.7 (a server's values, the end of a
// reduction), §5.4 (what a client takes from a response) with the values of
// the loss algorithm (§7.1): the encoding on both sides, kept apart from the
// controllers that decide the values (overload.ts for a server,
// overload-client.ts for a client).
//
// Everything here runs only on messages whose top Via carries "oc": callers
// test that with one Map lookup, so other messages pay nothing.
import type { Params, Via } from './message.ts';

/** The one algorithm we implement (RFC 7339 §7; every implementation must support it). */
export const LOSS = 'loss';

/** What a client keeps of an oc-validity it was not given (RFC 7339 §4: the default). */
export const DEFAULT_VALIDITY_MS = 500;

/**
 * An oc-seq: whole seconds, and a counter of changes within that second. Its
 * fraction is a counter, not a decimal: "12.10" follows "12.9". We write the
 * counter with five digits so that a peer reading the value as a decimal
 * number orders ours the same way.
 */
export interface OcSeq {
  sec: number;
  n: number;
}

/** The feedback a server puts in a response's top Via (RFC 7339 §5.2). */
export interface OcFeedback {
  /** Percentage of requests the client should not send, 0-100 (the "loss" value). */
  reduction: number;
  /** How long the reduction holds, ms; 0 ends it (§5.5). */
  validityMs: number;
  seq: OcSeq;
}

export function formatOcSeq(seq: OcSeq): string {
  return `${seq.sec}.${String(seq.n).padStart(5, '0')}`;
}

/** Undefined unless the value is 1*12DIGIT ["." 1*5DIGIT]. */
export function parseOcSeq(s: string): OcSeq | undefined {
  const dot = s.indexOf('.');
  const whole = dot < 0 ? s : s.slice(0, dot);
  const frac = dot < 0 ? '0' : s.slice(dot + 1);
  if (!isDigits(whole, 12) || !isDigits(frac, 5)) return undefined;
  return { sec: Number(whole), n: Number(frac) };
}

/** Negative, 0 or positive as `a` is older than, the same as, or newer than `b`. */
export function compareOcSeq(a: OcSeq, b: OcSeq): number {
  return a.sec !== b.sec ? a.sec - b.sec : a.n - b.n;
}

function isDigits(s: string, max: number): boolean {
  if (s.length === 0 || s.length > max) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/**
 * Whether a request's top Via asks for overload feedback we can give: "oc"
 * is present (§5.1) and its oc-algo list, when there is one, names "loss"
 * (§4.2: the list is quoted and comma-separated; no oc-algo means "loss").
 */
export function wantsLossFeedback(via: Via): boolean {
  const params = via.params;
  if (!params.has('oc')) return false;
  const algos = params.get('oc-algo');
  if (algos === undefined || algos === null) return true;
  return listHasLoss(algos);
}

function listHasLoss(raw: string): boolean {
  const list = raw.length >= 2 && raw.charCodeAt(0) === 0x22 ? raw.slice(1, -1) : raw;
  for (const item of list.split(',')) if (item.trim().toLowerCase() === LOSS) return true;
  return false;
}

/**
 * The Via a response echoes, with the server's feedback in place of what the
 * client offered: oc=<reduction>, oc-algo="loss" (the one chosen, §4.2),
 * oc-validity, oc-seq. A new Via: the request's object is left as it was.
 */
export function withFeedback(via: Via, fb: OcFeedback): Via {
  const params: Params = new Map();
  for (const [k, v] of via.params) if (k !== 'oc' && k !== 'oc-algo' && k !== 'oc-validity' && k !== 'oc-seq') params.set(k, v);
  params.set('oc', String(fb.reduction));
  params.set('oc-algo', `"${LOSS}"`);
  params.set('oc-validity', String(fb.validityMs));
  params.set('oc-seq', formatOcSeq(fb.seq));
  return { ...via, params };
}

/** Our Via for a request to a server we want feedback from: "oc" with no value, and the algorithms we run (§5.1). */
export function offerLoss(via: Via): Via {
  return { ...via, params: new Map(via.params).set('oc', null).set('oc-algo', `"${LOSS}"`) };
}

/**
 * The feedback in a response's top Via (ours, echoed by the server), or
 * undefined when there is none we can use: no "oc" value (a server that does
 * not throttle us echoes our bare "oc"), a value out of 0-100, another
 * algorithm, or an oc-seq we cannot read. oc-validity defaults to 500 ms;
 * a response without oc-seq has seq undefined.
 */
export function readFeedback(via: Via | undefined): { reduction: number; validityMs: number; seq: OcSeq | undefined } | undefined {
  if (via === undefined) return undefined;
  const params = via.params;
  const oc = params.get('oc');
  if (oc === undefined || oc === null) return undefined;
  const reduction = readInt(oc);
  if (reduction === undefined || reduction > 100) return undefined;
  const algo = params.get('oc-algo');
  if (algo !== undefined && (algo === null || !listHasLoss(algo))) return undefined;
  const v = params.get('oc-validity');
  const validityMs = v === undefined ? DEFAULT_VALIDITY_MS : v === null ? undefined : readInt(v);
  if (validityMs === undefined) return undefined;
  const s = params.get('oc-seq');
  let seq: OcSeq | undefined;
  if (s !== undefined) {
    if (s === null || (seq = parseOcSeq(s)) === undefined) return undefined;
  }
  return { reduction, validityMs, seq };
}

function readInt(s: string): number | undefined {
  return isDigits(s, 9) ? Number(s) : undefined;
}
