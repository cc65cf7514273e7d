// The headers that tell a forwarded call's new callee who forwarded it and
// why: Diversion (RFC 5806, what most PBXs and ITSPs read) and History-Info
// (RFC 7044, the standards-track one). Both are sent; each lists every hop.

export interface Diversion {
  /** The party that forwarded, e.g. "sip:1001@example.com". */
  uri: string;
  /** SIP status standing for the reason: 302 unconditional, 486 busy, 408 no answer (RFC 4458 cause values). */
  cause: number;
}

/** RFC 5806 §4 diversion-reason tokens for the causes we forward on. */
const DIVERSION_REASON: Record<number, string> = { 302: 'unconditional', 486: 'user-busy', 408: 'no-answer', 480: 'unavailable', 487: 'deflection' };

/** Diversion lines (most recent first) and the History-Info chain ending at `target`. */
export function forwardingHeaders(diversions: readonly Diversion[], target: string): { name: string; value: string }[] {
  const out: { name: string; value: string }[] = [];
  for (let i = diversions.length - 1; i >= 0; i--) {
    const d = diversions[i]!;
    out.push({ name: 'diversion', value: `<${d.uri}>;reason=${DIVERSION_REASON[d.cause] ?? 'unknown'};counter=${i + 1}` });
  }
  const hist = diversions.map((d, i) => `<${d.uri}?Reason=SIP%3Bcause%3D${d.cause}>;index=1${'.1'.repeat(i)}`);
  hist.push(`<${target}>;index=1${'.1'.repeat(diversions.length)};rc=1`);
  out.push({ name: 'history-info', value: hist.join(', ') });
  return out;
}
