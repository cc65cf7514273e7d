// The hunt-group stage: a group number rings its logged-in, available
// members by the group's strategy — ring-all (every member at once),
// sequential (in list order), rotary (starting after the member rung last),
// longest idle (the member whose last call ended longest ago first) — each
// member for the group's no-answer time, then the overflow target (another
// group, an extension or a number), else busy. Members in DND, busy, or not
// registered are skipped; who is available is judged when each step starts.
import type { HuntGroup, User } from '../../store/types.ts';
import type { HuntGroupTable } from './feature-tables.ts';
import type { RouteRequest, RoutingPipeline, Stage } from './pipeline.ts';
import { refusal } from './pipeline.ts';
import type { PlanStep, RouteResult } from './plan.ts';

export interface HuntDeps {
  groups: Pick<HuntGroupTable, 'get' | 'setLastMember'>;
  /** When the member's last call ended (epoch ms), for longest idle; undefined = never (idle longest). */
  idleSince(extension: string): number | undefined;
  domain: string;
}

export function huntStage(deps: HuntDeps): Stage {
  return (r, p) => {
    const group = deps.groups.get(r.dialled);
    if (!group) return undefined;
    return huntPlan(r, p, group, deps);
  };
}

function huntPlan(r: RouteRequest, p: RoutingPipeline, g: HuntGroup, deps: HuntDeps): RouteResult {
  const overflow = (): RouteResult => {
    const next = g.overflow !== null ? p.divert(r, g.overflow, g.number, r.permitted) : undefined;
    if (next && next.ok) return { ...next, diversions: [{ uri: `sip:${g.number}@${deps.domain}`, cause: 408 }, ...(next.diversions ?? [])] };
    return next ?? refusal(486, 'Busy Here');
  };
  const available = (ext: string): User | undefined => {
    const u = p.deps.directory.byExtension(ext);
    return u && u.enabled && !u.dnd && !p.deps.targets.busy(u) ? u : undefined;
  };
  const ringMs = g.noAnswerSec * 1000;
  const members = g.members.filter((m) => m.loggedIn).map((m) => m.extension);

  if (g.strategy === 'ring-all') {
    const step: PlanStep = { ok: true, label: `hunt ${g.number}`, direction: r.direction, targets: [], calleeUser: undefined, trunkName: undefined, ringMs, next: overflow };
    for (const ext of members) {
      const u = available(ext);
      const s = u ? p.deps.targets.toUser(u, r.caller, r.direction) : undefined;
      if (s?.ok) step.targets.push(...s.targets);
    }
    return step.targets.length > 0 ? step : overflow();
  }

  const order = orderFor(g, members, deps);
  const from = (i: number): RouteResult => {
    for (let k = i; k < order.length; k++) {
      const u = available(order[k]!);
      const s = u ? p.deps.targets.toUser(u, r.caller, r.direction) : undefined;
      if (!s?.ok) continue;
      if (g.strategy === 'rotary') deps.groups.setLastMember(g.number, u!.extension);
      return { ...s, label: `hunt ${g.number} → ${u!.extension}`, ringMs, next: () => from(k + 1) };
    }
    return overflow();
  };
  return from(0);
}

/** The members in the order this call tries them. */
function orderFor(g: HuntGroup, members: readonly string[], deps: HuntDeps): string[] {
  if (g.strategy === 'rotary' && g.lastMember !== null) {
    const i = members.indexOf(g.lastMember);
    if (i >= 0) return [...members.slice(i + 1), ...members.slice(0, i + 1)];
  }
  if (g.strategy === 'longest-idle') {
    // Stable: members idle equally long keep their list order.
    return members.map((m, i) => ({ m, i, t: deps.idleSince(m) ?? 0 })).sort((a, b) => a.t - b.t || a.i - b.i).map((x) => x.m);
  }
  return [...members];
}
