// Calls through the handset gateway (issue 15 item 3; SPEC B-04, B-21, B-25,
// EC-10): a gateway user's handset calls go upstream through its line, and
// INVITEs the upstream sends a line ring that user's handsets. Plugged into
// the call engine as a routing stage (outgoing) and the engine's hand-over
// hook (incoming); the upstream leg's media policy is media-policy.ts's.
import type { Endpoint, NameAddr, SipRequest } from '../sip/message.ts';
import type { Inbound } from '../sip/transport/types.ts';
import { formatUri } from '../sip/uri.ts';
import type { Logger } from '../lib/log.ts';
import type { GatewaySettings } from '../model/gateway.ts';
import { GATEWAY_PROFILES } from '../model/gateway.ts';
import type { User } from '../store/types.ts';
import type { Directory } from '../pbx/directory/directory.ts';
import type { Stage } from '../pbx/routing/pipeline.ts';
import { refusal } from '../pbx/routing/pipeline.ts';
import type { PlanStep, RouteResult } from '../pbx/routing/plan.ts';
import type { Targets } from '../pbx/routing/targets.ts';
import type { OutboundTarget } from '../pbx/call/outbound-leg.ts';
import type { CallView } from '../pbx/call/context.ts';
import type { HandedOver } from '../pbx/call/engine.ts';
import type { MediaProfile } from '../pbx/media/profile.ts';
import type { GatewayLines } from './types.ts';
import { gatewayMediaProfile } from './media-policy.ts';

/** What the call record and status show as the far side of a call through the gateway. */
export const UPSTREAM = 'upstream';

/** B-21: a caller URI up to this many characters (counting "sip:") is shown and kept. */
export const HANDSET_URI_MAX = 64;
/** B-21: a longer URI is dropped; only the name is kept, cut to this many characters. */
export const HANDSET_NAME_MAX = 24;

/** Caller ID as a handset gets it (B-21): the URI when it fits, else the name only and no number to redial. */
export function handsetCallerId(from: NameAddr): { number: string; name: string; from: NameAddr } {
  const uri = formatUri({ ...from.uri, params: new Map(), headers: new Map() });
  const name = from.displayName ?? '';
  if (uri.length <= HANDSET_URI_MAX) {
    return { number: from.uri.user ?? '', name, from: { displayName: name || undefined, uri: { ...from.uri, params: new Map(), headers: new Map() }, params: new Map() } };
  }
  const short = name.slice(0, HANDSET_NAME_MAX);
  // RFC 3323 §4.1.1.3's anonymous URI: nothing the handset could call back.
  const anonymous = { scheme: 'sip' as const, user: 'anonymous', host: 'anonymous.invalid', params: new Map(), headers: new Map() };
  return { number: 'anonymous', name: short, from: { displayName: short || undefined, uri: anonymous, params: new Map() } };
}

/** B-25: how many calls may be up with the upstream at once, by profile and SRTP. */
export function channelBudget(s: GatewaySettings): number {
  const p = GATEWAY_PROFILES[s.profile];
  return s.srtp ? p.channelsSrtp : p.channels;
}

export interface GatewayCallsDeps {
  directory: Directory;
  localEndpoint(transport: Endpoint['transport']): { address: string; port: number } | undefined;
  media(): { suites: readonly string[] };
  /** Calls the user is in now (the engine's). */
  callsOf(extension: string): number;
  /** Simultaneous calls per user when the user has no limit of their own. */
  maxCallsPerUser(): number;
  log: Logger;
}

export class GatewayCalls {
  /** Calls up with the upstream now (refs), for the channel budget. */
  private readonly upstreamCalls = new Set<string>();
  /** Calls refused because every channel was busy (B-25), since boot. */
  refusedNoChannel = 0;
  /** The lines manager once it runs (attach()); until then calls route as without a gateway. */
  lines: GatewayLines | undefined;

  constructor(private readonly deps: GatewayCallsDeps) {}

  attach(lines: GatewayLines | undefined): void {
    this.lines = lines;
  }

  /** Follows the engine's calls: those with the upstream take a channel until they end. */
  readonly onCall = (call: CallView, ended: boolean): void => {
    if (call.callee.trunk !== UPSTREAM) return;
    if (ended) this.upstreamCalls.delete(call.ref);
    else this.upstreamCalls.add(call.ref);
  };

  get channelsInUse(): number {
    return this.upstreamCalls.size;
  }

  /** The upstream leg's media profile now. */
  profile(s: GatewaySettings): MediaProfile {
    return gatewayMediaProfile(s, this.deps.media());
  }

  private active(): GatewayLines | undefined {
    const lines = this.lines;
    return lines && lines.settings.mode !== 'call-server' ? lines : undefined;
  }

  /** A refusal when every channel is busy (counted and logged), else undefined. */
  private noChannel(s: GatewaySettings): RouteResult | undefined {
    const budget = channelBudget(s);
    if (this.upstreamCalls.size < budget) return undefined;
    this.refusedNoChannel++;
    this.deps.log.warn({ budget, srtp: s.srtp }, 'gateway: every upstream channel is busy; call refused');
    return { ...refusal(503, `All ${budget} Gateway Channels Busy`), trunkName: UPSTREAM };
  }

  /**
   * Outgoing: everything a gateway user's handset dials goes upstream through
   * its line (the upstream is its call server, short codes such as *17
   * included). Without a registered line: the caller gets 503, or, with
   * internal routing fallback, another gateway user's extension rings here.
   * Forwarded and transferred calls (diverted) route as local calls.
   */
  readonly stage: Stage = (r, p) => {
    const lines = this.active();
    const user = r.caller.user;
    if (!lines || !user || r.caller.fromTrunk || r.diverted || !lines.isGatewayUser(user.extension)) return undefined;
    const s = lines.settings;
    // Another gateway user's extension may ring here when the upstream cannot be reached.
    const mayFallBack = s.internalRoutingFallback && lines.isGatewayUser(r.dialled);
    const route = lines.route(user.extension);
    if (!route) {
      if (mayFallBack) return undefined; // the local stages route it
      const status = lines.lineStatus(user.extension);
      const why = status?.failure ? `Upstream Line Not Registered: ${status.failure.text}` : 'Upstream Line Not Registered';
      return { ...refusal(503, why.slice(0, 120)), trunkName: UPSTREAM };
    }
    const busy = this.noChannel(s);
    if (busy) return busy;
    const local = this.deps.localEndpoint(route.dest.transport);
    if (!local) return { ...refusal(503, `Transport ${route.dest.transport} Not Enabled`), trunkName: UPSTREAM };
    const requestUri = route.requestUri(r.dialled);
    const profile = this.profile(s);
    const target: OutboundTarget = {
      requestUri,
      dest: route.dest,
      local: { transport: route.dest.transport, ...local },
      from: route.aor,
      to: { uri: requestUri, params: new Map() },
      routes: route.routes,
      ...(route.credentials ? { credentials: route.credentials } : {}),
      contact: route.contact,
      peer: { user: undefined, trunk: undefined, number: r.dialled },
      media: { profile, natted: false },
      secure: route.secure,
    };
    lines.touch(user.extension);
    const step: PlanStep = {
      ok: true, label: `upstream ${r.dialled}`, direction: 'outbound', calleeUser: undefined, trunkName: UPSTREAM,
      targets: [target], ringMs: undefined, calleeProfile: profile,
      // The upstream did not answer at all: with the fallback, a handset's call to another handset still rings here.
      next: (outcome) => (outcome === 'unavailable' && mayFallBack ? asStep(p.divert(r, r.dialled, user.extension, user)) : undefined),
    };
    return step;
  };

  /**
   * Incoming: an INVITE the lines manager matched to a line (it came from
   * that line's registrar or proxies) rings that user's handsets here and
   * nothing else — forwarding and voicemail are the upstream's — and is not
   * challenged. A second call reaches a busy handset only when both the
   * gateway's and the user's call waiting are on (EC-10).
   */
  handedOver(req: SipRequest, inbound: Inbound, targets: Targets): HandedOver | undefined {
    const lines = this.active();
    const match = lines?.fromUpstream(req, inbound);
    if (!lines || !match) return undefined;
    const s = lines.settings;
    const caller = handsetCallerId(req.from);
    const base = { dialled: match.extension, caller, profile: this.profile(s), source: UPSTREAM };
    lines.touch(match.extension);
    const user = this.deps.directory.byExtension(match.extension);
    if (!user || !user.enabled) return { ...base, route: refusal(404, 'Not Found') };
    const refused = this.refusal(user, s);
    if (refused) return { ...base, route: refused };
    return { ...base, route: targets.toUser(user, { user: undefined, fromTrunk: undefined, from: caller.from, secure: false }, 'inbound') };
  }

  private refusal(user: User, s: GatewaySettings): RouteResult | undefined {
    const n = this.deps.callsOf(user.extension);
    if (n > 0 && !(s.callWaiting && user.callWaiting)) return { ...refusal(486, 'Busy Here', user), trunkName: UPSTREAM };
    if (n >= (user.maxCalls ?? this.deps.maxCallsPerUser())) return { ...refusal(486, 'Busy Here', user), trunkName: UPSTREAM };
    return this.noChannel(s);
  }
}

function asStep(r: RouteResult | undefined): PlanStep | undefined {
  return r && r.ok ? r : undefined;
}
