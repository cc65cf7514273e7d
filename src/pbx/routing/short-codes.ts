// The short-code stage: a dialled string that matches the short-code table
// (src/model/short-code.ts) is a feature request, not a number. Only local
// users dial codes; calls from trunks and diverted calls never match.
import type { ShortCodeMatch } from '../../model/short-code.ts';
import type { Stage } from './pipeline.ts';

export function shortCodeStage(match: (dialled: string) => ShortCodeMatch | undefined): Stage {
  return (r) => {
    if (r.diverted || !r.caller.user || r.caller.fromTrunk) return undefined;
    const m = match(r.dialled);
    return m ? { ok: 'feature', match: m } : undefined;
  };
}
