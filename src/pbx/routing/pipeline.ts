// The routing pipeline: a dialled string goes through ordered stages —
// short code, DID (calls from trunks), hunt group, extension (with the
// user's rules), trunk — and comes out as a feature to run, a plan of ringing
// steps, or a refusal. A stage is a function that answers or passes; features
// plug in as stages (engine.ts composes the list) rather than edits here.
import type { User } from '../../store/types.ts';
import type { ShortCodeMatch } from '../../model/short-code.ts';
import type { CallView } from '../call/context.ts';
import type { Caller, Targets } from './targets.ts';
import type { PlanStep, Refusal, RouteResult } from './plan.ts';
import { MAX_DIVERSIONS } from './plan.ts';
import type { Directory } from '../directory/directory.ts';
import type { TrunkTable } from '../trunks/trunk-table.ts';

/** A short code the caller dialled: the engine runs its feature. */
export interface FeatureDecision {
  ok: 'feature';
  match: ShortCodeMatch;
}

export type Decision = RouteResult | FeatureDecision;

/** One routing request; `visited` holds the numbers this call has already been routed to (forwarding loops). */
export interface RouteRequest {
  dialled: string;
  caller: Caller;
  direction: CallView['direction'];
  visited: ReadonlySet<string>;
  /** Whose outbound permission a trunk needs: the caller, or the user who forwarded the call out. */
  permitted: User | undefined;
  /** The call came here through forwarding (no short codes, DIDs already resolved). */
  diverted: boolean;
}

/** A stage answers with a decision, or undefined to let the next stage try. */
export type Stage = (r: RouteRequest, pipeline: RoutingPipeline) => Decision | undefined;

export interface PipelineDeps {
  directory: Directory;
  trunks: TrunkTable;
  targets: Targets;
}

export class RoutingPipeline {
  constructor(
    readonly deps: PipelineDeps,
    private readonly stages: readonly Stage[],
  ) {}

  /** A number as dialled by a caller. */
  route(dialled: string, caller: Caller): Decision {
    const direction = caller.fromTrunk ? 'inbound' : 'internal';
    return this.run({ dialled, caller, direction, visited: new Set(), permitted: caller.user, diverted: false });
  }

  /** Runs the stages in order; the first answer wins. */
  run(r: RouteRequest): Decision {
    for (const stage of this.stages) {
      const d = stage(r, this);
      if (d !== undefined) return d;
    }
    return { ok: false, status: 404, reason: 'Not Found' };
  }

  /**
   * Where a forward (or overflow, or transfer) sends the call: the number is
   * routed afresh, without short codes, with `by` recorded as visited so a
   * chain that comes back is caught, and with `by`'s outbound permission for
   * trunks. Undefined when the number was visited already (a loop); a
   * refusal when the call has been diverted MAX_DIVERSIONS times already
   * (each divert adds one number to `visited`).
   */
  divert(r: RouteRequest, number: string, by: string, permitted: User | undefined): RouteResult | undefined {
    if (r.visited.has(number) || number === by) return undefined;
    if (r.visited.size >= MAX_DIVERSIONS) return refusal(480, 'Too Many Diversions');
    const visited = new Set(r.visited).add(by);
    const d = this.run({ ...r, dialled: number, visited, permitted, diverted: true });
    if (d.ok === 'feature') return { ok: false, status: 404, reason: 'Not Found' };
    return d;
  }
}

/** Calls from a trunk reach only the extension of the dialled DID; nothing else is reachable from a trunk. */
export const didStage: Stage = (r, p) => {
  if (!r.caller.fromTrunk || r.diverted) return undefined;
  const ext = p.deps.trunks.didExtension(r.dialled);
  if (ext === undefined) return { ok: false, status: 404, reason: 'Not Found' };
  return p.run({ ...r, dialled: ext, diverted: true });
};

/** Numbers no local stage took go to the trunk whose prefix matches. */
export const trunkStage: Stage = (r, p) => {
  if (r.caller.fromTrunk && !r.diverted) return { ok: false, status: 404, reason: 'Not Found' };
  const trunk = p.deps.trunks.forNumber(r.dialled);
  if (!trunk) return undefined;
  const step = p.deps.targets.toTrunk(trunk, r.dialled, r.caller, r.permitted);
  return step.ok ? { ...step, direction: 'outbound' } : step;
};

/** A step that rings nobody and refuses at once: for plans whose fallback is a status. */
export function refusal(status: number, reason: string, calleeUser?: User): Refusal {
  return calleeUser ? { ok: false, status, reason, calleeUser } : { ok: false, status, reason };
}

export type { PlanStep };
