// The call engine: new INVITEs become calls (caller identified and
// authenticated, the dialled number routed to a user's contacts or a trunk),
// in-dialog requests and ACKs find their leg through the dialog index, and
// finished calls leave a record. It holds every live call of the server.
import type { Endpoint, Header, NameAddr, SipRequest, SipUri } from '../../sip/message.ts';
import type { Inbound } from '../../sip/transport/types.ts';
import type { InviteServerTransaction, ServerTransaction } from '../../sip/transaction/types.ts';
import { createResponse } from '../../sip/serializer.ts';
import { dialogKeyOfRequest } from '../../sip/dialog.ts';
import type { CdrInput, CdrRepository, User } from '../../store/types.ts';
import type { Directory } from '../directory/directory.ts';
import type { LiveBinding, LocationService } from '../registrar/location.ts';
import type { Authenticator } from '../auth/authenticator.ts';
import type { TrunkTable } from '../trunks/trunk-table.ts';
import type { CallContext, CallSettings, CallView, DialogOwner } from './context.ts';
import { Call } from './call.ts';
import type { CallHooks } from './call.ts';
import { InboundLeg } from './inbound-leg.ts';
import type { LegEvents } from './leg.ts';
import type { MediaSession } from './media.ts';
import { CallMedia } from '../media/call-media.ts';
import { RtpengineMedia } from '../media/rtpengine-media.ts';
import type { NgClient } from '../../media/rtpengine.ts';
import { profileOf } from '../media/profile.ts';
import type { MediaProfile, SystemMedia } from '../media/profile.ts';
import type { MediaRelay } from '../../media/relay.ts';
import { dispositionOf } from './outcome.ts';
import { AuthFailureGate } from './auth-failures.ts';
import type { AuthRejection } from '../auth/authenticator.ts';
import type { Caller, PeerRouting } from '../routing/targets.ts';
import { Targets, identityHeader, sipUri } from '../routing/targets.ts';
import type { PlanStep, RouteResult } from '../routing/plan.ts';
import { RoutingPipeline, didStage, trunkStage } from '../routing/pipeline.ts';
import type { Stage } from '../routing/pipeline.ts';
import { extensionStage } from '../routing/user-rules.ts';
import { huntStage } from '../routing/hunt.ts';
import { shortCodeStage } from '../routing/short-codes.ts';
import { appStage } from '../routing/apps.ts';
import type { AppNumbers } from '../routing/apps.ts';
import type { AppRouting } from '../routing/targets.ts';
import type { UserRepository } from '../../store/types.ts';
import type { HuntGroupTable, ShortCodeTable } from '../routing/feature-tables.ts';
import type { CallControl, FeatureRequest } from '../features/feature.ts';
import { DialogTable } from '../../sip/ua/core.ts';
import { Parking } from '../features/park.ts';
import { handleRefer, transferorLeft } from '../features/transfer.ts';
import { shortCodeHandlers } from '../features/short-codes.ts';
import type { ShortCodeMatch } from '../../model/short-code.ts';
import type { Leg } from './leg.ts';
import { partyOf } from './segments.ts';
import type { CallParty } from './segments.ts';
import { MusicOnHold } from '../features/music-on-hold.ts';
import { APP } from '../routing/apps.ts';

export interface CallEngineDeps {
  ctx: Omit<CallContext, 'registerDialog' | 'unregisterDialog' | 'callChanged' | 'callEnded' | 'redirect'>;
  directory: Directory;
  location: LocationService;
  authenticator: Authenticator;
  trunks: TrunkTable;
  cdrs: CdrRepository;
  aorFor(extension: string): string;
  media: { system(): SystemMedia; relay: MediaRelay | undefined; rtpengine?: NgClient };
  /** Why a user may not call over the transport it used (TLS-only user, Strict SIPS), or undefined. */
  transportRefusal(user: User | undefined, inbound: Inbound): string | undefined;
  /** A phone authenticated on this flow: its connection keeps its slot when the connection budget is tight. */
  trustFlow?(source: Inbound['source']): void;
  localEndpoint(transport: Endpoint['transport']): { address: string; port: number } | undefined;
  /** The user-agent core's dialog table, where legs register their dialogs (a private one when omitted: tests). */
  dialogs?: DialogTable;
  /** Feature data: hunt groups, the short-code table, and users for codes that change settings. */
  huntGroups?: HuntGroupTable;
  shortCodes?: ShortCodeTable;
  users?: Pick<UserRepository, 'update'>;
  /** Links to the other nodes sharing the store (src/pbx/peers/peer-links.ts). */
  peers?: PeerRouting & { fromSource(source: Endpoint): unknown };
  /** The media server of this process and the numbers that reach it; absent: no applications (calls fail as before). */
  apps?: { routing: AppRouting; numbers: AppNumbers; musicOnHold(): boolean };
  /** Stages that route before the built-in ones (the handset gateway sends its users' calls upstream). */
  firstStages?: readonly Stage[];
  /** A new INVITE another server hands over for one local user, not to be challenged (the gateway's upstream); undefined: not one. */
  handedOver?(req: SipRequest, inbound: Inbound, targets: Targets): HandedOver | undefined;
}

/** A call another server hands over: who calls, as shown, and where it rings (already decided by the hook's owner). */
export interface HandedOver {
  /** The number called, for the record. */
  dialled: string;
  caller: { number: string; name: string; from: NameAddr };
  /** The caller side's media policy. */
  profile: MediaProfile;
  /** The record's trunk column: where the call came from. */
  source: string;
  route: RouteResult;
}

/** A feature the engine runs for a short code (features/*.ts register themselves). */
export type FeatureHandler = (req: FeatureRequest) => void;

/** A leg's events before its call or feature claims it (never reached: the claim follows construction). */
const UNCLAIMED: LegEvents = {
  onRequest: (leg, req, tx) => leg.answer(req, tx, 481),
  onAck: () => {},
  onLegFailed: (leg) => leg.close(),
};

/**
 * What a new INVITE is refused with before its caller is authenticated: the
 * stateless screen lets these through to invite(), which answers them.
 * `addressed` names the callee: the Request-URI, or To for a peer node's
 * delivery (whose Request-URI is a contact).
 */
export function inviteRefusal(req: SipRequest, addressed: SipUri = req.uri): { status: number; reason: string } | undefined {
  if (req.maxForwards !== undefined && req.maxForwards <= 0) return { status: 483, reason: 'Too Many Hops' };
  const dialled = addressed.user;
  if (dialled === undefined || dialled.length === 0) return { status: 404, reason: 'Not Found' };
  return undefined;
}

/** Listener for call changes (status feed, metrics). */
export type CallListener = (call: CallView, ended: boolean) => void;

export class CallEngine implements CallControl {
  private readonly dialogs: DialogTable;
  private readonly byInviteTx = new Map<InviteServerTransaction, Call>();
  private readonly live = new Set<Call>();
  private readonly byUser = new Map<string, Set<Call>>();
  private readonly indexed = new Map<Call, [string | undefined, string | undefined]>();
  private readonly listeners = new Set<CallListener>();
  /** Set by close(): the server is stopping. */
  private closing = false;
  /** Calls a peer node routed here: that node writes their record. */
  private readonly unrecorded = new Set<Call>();
  readonly ctx: CallContext;
  private seq = 0;
  /** Media sessions made for re-paired calls (labels stay unique). */
  private bridges = 0;
  readonly targets: Targets;
  readonly pipeline: RoutingPipeline;
  /** Short-code features by name (engine.features.set('park', ...)). */
  readonly features = new Map<string, FeatureHandler>();
  /** When each user's last call ended, for longest-idle hunting. */
  private readonly lastCallEnd = new Map<string, number>();
  /** Calls started since boot (metrics). */
  started = 0;
  /** Which INVITEs with refused credentials leave a record (anyone can send them). */
  private readonly authFailures: AuthFailureGate;

  constructor(private readonly deps: CallEngineDeps) {
    this.dialogs = deps.dialogs ?? new DialogTable();
    this.authFailures = new AuthFailureGate(deps.ctx.now, deps.ctx.log);
    this.ctx = {
      ...deps.ctx,
      registerDialog: (key, owner) => this.dialogs.add(key, owner),
      unregisterDialog: (key, owner) => void this.dialogs.remove(key, owner),
      callChanged: (call) => {
        this.index(call as Call);
        this.emit(call, false);
      },
      callEnded: (call, cdr) => this.onEnded(call as Call, cdr),
      redirect: (caller, contact) => this.targets.redirect(contact, caller),
    };
    const profile = (user: User | undefined) => profileOf(deps.media.system(), user, deps.ctx.settings.defaultCodecs);
    this.targets = new Targets({
      ...deps,
      settings: deps.ctx.settings,
      callsOf: (ext) => this.callsOf(ext),
      systemTransport: () => deps.media.system().transport,
      profileOf: profile,
      apps: deps.apps?.routing,
    });
    const s = deps.ctx.settings;
    const stages: Stage[] = [...(deps.firstStages ?? [])];
    if (deps.apps) stages.push(appStage(deps.apps.numbers));
    if (deps.shortCodes) stages.push(shortCodeStage((d) => deps.shortCodes!.match(d)));
    stages.push(didStage);
    if (deps.huntGroups) stages.push(huntStage({ groups: deps.huntGroups, idleSince: (ext) => this.lastCallEnd.get(ext), domain: s.domain }));
    stages.push(extensionStage({ domain: s.domain, noAnswerTimeoutSec: s.noAnswerTimeoutSec }), trunkStage);
    this.pipeline = new RoutingPipeline({ directory: deps.directory, trunks: deps.trunks, targets: this.targets }, stages);
    this.parking = new Parking(this, () => this.ctx.settings.parkTimeoutSec);
    if (deps.users) {
      const handlers = shortCodeHandlers({
        control: this,
        parking: this.parking,
        users: deps.users,
        huntGroups: deps.huntGroups,
        usersChanged: () => deps.directory.poll(),
        adhocRoom: (id, user) => {
          const step = this.targets.toApp({ name: APP.conference, arg: id, kind: 'conference', label: `conference ${id}`, display: 'Conference' }, 'conference', this.userCaller(user), 'internal');
          return step.ok ? step : undefined;
        },
      });
      for (const [name, h] of handlers) this.features.set(name, h);
    }
    const transfers = { control: this, parking: this.parking };
    this.hooks = {
      refer: (call, bridge, leg, req, tx) => handleRefer(transfers, call, bridge, leg, req, tx),
      legLeft: (call, leg) => transferorLeft(call, leg),
      answerHeaders: (_step, winner) => (winner.peer.user ? [this.pai(winner.peer.user.name, winner.peer.user.extension)] : []),
      calleeSide: (step) => ({ role: 'b', profile: step.calleeProfile ?? profile(step.calleeUser), natted: step.targets.some((t) => t.media.natted) }),
    };
    const apps = deps.apps;
    if (apps) {
      const moh = new MusicOnHold({
        control: this,
        step: (_call, listener) => {
          if (!apps.musicOnHold()) return undefined;
          const step = this.targets.toApp({ name: APP.moh, kind: 'moh', label: 'music on hold', display: 'Music on hold' }, 'moh', this.callerOf(listener), 'internal');
          return step.ok ? step : undefined;
        },
      });
      this.hooks.takeReoffer = (call, bridge, leg, req, tx) => moh.takeReoffer(call, bridge, leg, req, tx);
      this.hooks.reoffered = (call, bridge, leg) => moh.reoffered(call, bridge, leg);
    }
  }

  /** What features plug into every call (transfer, park...); see CallHooks. */
  hooks: CallHooks;
  /** Parked calls by slot. */
  readonly parking: Parking;

  get settings(): CallSettings {
    return this.ctx.settings;
  }

  calls(): IterableIterator<CallView> {
    return this.live.values();
  }

  get activeCount(): number {
    return this.live.size;
  }

  /** Dialogs indexed (both legs of live calls, plus early dialogs of forks still winding down). */
  get dialogCount(): number {
    return this.dialogs.size;
  }

  /** Calls of a user (as caller or callee) that have not ended. */
  callsOf(extension: string): number {
    return this.byUser.get(extension)?.size ?? 0;
  }

  /**
   * A user's registrations changed. A phone whose TCP/TLS connection broke
   * mid-call reconnects and re-registers: requests to it must now use the new
   * connection, even before it sends anything in the dialog itself.
   */
  bindingsChanged(aor: string, bindings: readonly LiveBinding[]): void {
    if (this.byUser.size === 0) return;
    const colon = aor.indexOf(':');
    const at = aor.indexOf('@');
    const calls = at > colon ? this.byUser.get(aor.slice(colon + 1, at)) : undefined;
    if (!calls) return;
    for (const call of calls) {
      for (const leg of call.legs) {
        if (leg.ended || leg.dest.transport === 'udp' || leg.peer.user === undefined) continue;
        let b: LiveBinding | undefined;
        for (const x of bindings) {
          if (x.transport !== leg.dest.transport || x.sourceAddress !== leg.dest.address || x.connectionId === undefined) continue;
          if (!b || x.updatedAt >= b.updatedAt) b = x; // the newest registration holds the live connection
        }
        if (b && b.connectionId !== leg.dest.connectionId) {
          leg.dest = { transport: leg.dest.transport, address: b.sourceAddress, port: b.sourcePort, connectionId: b.connectionId };
        }
      }
    }
  }

  subscribe(listener: CallListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Ends every call (shutdown): BYE to answered parties, 503 to ringing
   * callers; from now on a new call is refused with 503 and Retry-After, so a
   * phone tries another node instead of a server that is going away.
   */
  close(): void {
    this.closing = true;
    for (const call of [...this.live]) {
      if (call.state === 'connected') call.hangup('server shutting down');
      else call.finish(503, 'Service Unavailable');
    }
  }

  /** CANCEL for an INVITE of ours: true when a call took it (and answers 487 itself). */
  cancel(inviteTx: ServerTransaction): boolean {
    const call = this.byInviteTx.get(inviteTx as InviteServerTransaction);
    if (!call) return false;
    call.cancelByCaller();
    return true;
  }

  /** A new INVITE (no To tag). */
  invite(req: SipRequest, tx: InviteServerTransaction, inbound: Inbound): void {
    const reject = (status: number, reason?: string, headers?: Header[]): void => {
      tx.respond(createResponse(req, status, reason, { extraHeaders: headers }));
    };
    if (this.closing) return reject(503, 'Service Unavailable', [{ name: 'retry-after', value: '30' }]);
    const fromTrunk = this.deps.trunks.fromSource(inbound.source);
    const handed = fromTrunk ? undefined : this.deps.handedOver?.(req, inbound, this.targets);
    if (handed) return this.takeHandedOver(req, tx, inbound, handed);
    // Another node of ours hands over a call for a phone registered here: it authenticated the caller.
    // Its Request-URI is the phone's contact, which need not have a user part; To names the user.
    const fromPeer = !fromTrunk && this.deps.peers?.fromSource(inbound.source) !== undefined;
    const refusal = inviteRefusal(req, fromPeer ? req.to.uri : req.uri);
    if (refusal !== undefined) return reject(refusal.status, refusal.reason);
    const dialled = (fromPeer ? req.to.uri.user : req.uri.user) as string;

    let callerUser: User | undefined;
    /** A call that never reached a ringing phone still leaves a record: refused, or a short code the server answered. */
    const record = (status: number, reason: string, callee?: User, trunkName?: string): void => {
      const caller = this.callerParty(req, callerUser);
      this.instantRecord({
        direction: fromTrunk ? 'inbound' : callee || status < 300 || this.deps.directory.byExtension(dialled) ? 'internal' : 'outbound',
        caller: caller.number,
        callerName: caller.name,
        callerExtension: callerUser?.extension ?? null,
        callee: dialled,
        calleeExtension: callee?.extension ?? null,
        trunk: trunkName ?? fromTrunk?.trunk.name ?? null,
        status,
        reason,
      });
    };
    const refuse = (status: number, reason: string, callee?: User, trunkName?: string): void => {
      reject(status, reason);
      // The node that routed a peer's call here keeps its record.
      if (!fromPeer) record(status, reason, callee, trunkName);
    };
    if (fromPeer) {
      callerUser = req.from.uri.user === undefined ? undefined : this.deps.directory.byExtension(req.from.uri.user);
    } else if (!fromTrunk) {
      const outcome = this.deps.authenticator.authenticate(req, inbound.source, 'proxy');
      if (outcome.kind === 'reject') {
        reject(outcome.status, outcome.reason, outcome.headers);
        return this.authFailed(req, inbound, outcome);
      }
      callerUser = outcome.user;
      // From here on the caller is known: a refused call leaves a record (missed-call logs, the call log).
      if (!callerUser.enabled) return refuse(403, 'Forbidden');
      const refusal = this.deps.transportRefusal(callerUser, inbound);
      if (refusal !== undefined) return refuse(403, refusal);
      this.deps.trustFlow?.(inbound.source);
    }
    // A sips: Request-URI promises TLS on every hop (RFC 3261 §26.2.2): it cannot arrive in the clear.
    const secure = req.uri.scheme === 'sips';
    if (secure && inbound.source.transport !== 'tls') return refuse(403, 'SIPS Requires TLS');
    tx.respond(createResponse(req, 100, 'Trying'));

    const s = this.ctx.settings;
    if (callerUser && !fromPeer && this.callsOf(callerUser.extension) >= (callerUser.maxCalls ?? s.maxCallsPerUser)) {
      return refuse(403, 'Too Many Calls');
    }
    const caller = this.callerParty(req, callerUser);
    const from: NameAddr = { displayName: caller.name || undefined, uri: sipUri(caller.number, s.domain), params: new Map() };
    const routeCaller: Caller = { user: callerUser, fromTrunk, from, secure };
    const route = fromPeer ? this.delivery(req, routeCaller) : this.pipeline.route(dialled, routeCaller);
    if (route.ok === 'feature') {
      const handler = this.features.get(route.match.feature);
      if (!handler || !callerUser) return refuse(501, 'Feature Not Available');
      return handler({ req, tx, inbound, user: callerUser, match: route.match, refuse: (status, reason) => refuse(status, reason), done: () => record(200, '') });
    }
    if (!route.ok) return refuse(route.status, route.reason, route.calleeUser, route.trunkName);
    const inboundLeg = this.newInboundLeg(req, tx, inbound, callerUser, fromTrunk?.trunk.name);
    if (!inboundLeg) return refuse(400, 'Missing Contact', route.calleeUser, route.trunkName);
    const call = this.startCall(inboundLeg, dialled, caller, routeCaller, route, fromTrunk?.trunk.name);
    if (fromPeer) this.unrecorded.add(call);
  }

  /** A handed-over call: not challenged, rung where the hook decided, recorded with the hook's source. */
  private takeHandedOver(req: SipRequest, tx: InviteServerTransaction, inbound: Inbound, h: HandedOver): void {
    if (req.maxForwards !== undefined && req.maxForwards <= 0) return void tx.respond(createResponse(req, 483, 'Too Many Hops'));
    const route = h.route;
    if (!route.ok) {
      tx.respond(createResponse(req, route.status, route.reason));
      this.instantRecord({
        direction: 'inbound', caller: h.caller.number, callerName: h.caller.name, callerExtension: null,
        callee: h.dialled, calleeExtension: route.calleeUser?.extension ?? null, trunk: h.source, status: route.status, reason: route.reason,
      });
      return;
    }
    tx.respond(createResponse(req, 100, 'Trying'));
    const leg = this.newInboundLeg(req, tx, inbound, undefined, h.source, h.profile);
    if (!leg) return void tx.respond(createResponse(req, 400, 'Missing Contact'));
    const caller = { number: h.caller.number, name: h.caller.name, user: undefined };
    this.startCall(leg, h.dialled, caller, { user: undefined, fromTrunk: undefined, from: h.caller.from, secure: false }, route, h.source);
  }

  /** A call from `leg`'s INVITE that rings `step` (the plan's first step). */
  private startCall(leg: InboundLeg, dialled: string, caller: CallParty, routeCaller: Caller, step: PlanStep, trunk: string | undefined): Call {
    const ref = `${Date.now().toString(36)}-${(++this.seq).toString(36)}`;
    let call!: Call;
    call = new Call(this.ctx, {
      ref,
      direction: step.direction,
      caller,
      callee: { number: dialled, user: step.calleeUser, trunk: step.trunkName ?? trunk },
      routeCaller,
      inbound: leg,
      media: this.mediaFor(ref, () => call),
      callerMedia: { role: 'a', ...leg.media },
    });
    call.hooks = this.hooks;
    leg.events = call;
    this.track(call, leg.inviteTx);
    call.start(step, [this.pai(caller.name, caller.number)]).catch((err: Error) => {
      this.ctx.log.error({ call: ref, err: err.message }, 'call set-up failed');
      call.finish(500, 'Server Internal Error');
    });
    return call;
  }

  /** A feature's INVITE becomes a call ringing `step` (the ad-hoc conference code joins its caller to the room). */
  placeCall(f: FeatureRequest, step: PlanStep): void {
    const leg = this.newInboundLeg(f.req, f.tx, f.inbound, f.user, undefined);
    if (!leg) return f.refuse(400, 'Missing Contact');
    this.startCall(leg, f.req.uri.user ?? '', this.callerParty(f.req, f.user), this.userCaller(f.user), step, undefined);
  }

  /** A local user as routing sees a caller. */
  private userCaller(user: User): Caller {
    const from: NameAddr = { displayName: user.name || undefined, uri: sipUri(user.extension, this.ctx.settings.domain), params: new Map() };
    return { user, fromTrunk: undefined, from, secure: false };
  }

  /**
   * An INVITE whose credentials were refused (wrong password, locked-out
   * source): a record with status 403 and why, through the gate that keeps
   * a flood from becoming a flood of records. A first challenge (no
   * credentials yet) leaves none. The answer on the wire is what the
   * authenticator said (a renewed 407 for a wrong password).
   */
  authFailed(req: SipRequest, inbound: Inbound, rejection: AuthRejection): void {
    const failed = rejection.failed;
    if (failed === undefined || this.closing) return;
    if (!this.authFailures.admit(inbound.source.address, failed.username)) return;
    const dialled = req.uri.user ?? '';
    this.instantRecord({
      direction: this.deps.directory.byExtension(dialled) ? 'internal' : 'outbound',
      caller: req.from.uri.user ?? 'anonymous',
      callerName: req.from.displayName ?? '',
      callerExtension: null,
      callee: dialled,
      calleeExtension: null,
      trunk: null,
      status: 403,
      reason: `authentication failed: ${failed.why} (user ${JSON.stringify(failed.username.slice(0, 64))} from ${inbound.source.address})`,
    });
  }

  /** The record of an attempt that ended as it began: refused, or a short code the server carried out (2xx). */
  private instantRecord(r: Pick<CdrInput, 'direction' | 'caller' | 'callerName' | 'callerExtension' | 'callee' | 'calleeExtension' | 'trunk' | 'status'> & { reason: string }): void {
    const t = this.ctx.now();
    const answered = r.status >= 200 && r.status < 300;
    this.writeCdr({
      ...r,
      callRef: `${t.toString(36)}-${(++this.seq).toString(36)}`,
      startedAt: t,
      answeredAt: answered ? t : null,
      endedAt: t,
      disposition: dispositionOf({ answered, cancelled: false, timedOut: false, status: r.status }),
      reason: answered ? '' : r.reason,
      codec: null,
      legs: [],
    });
  }

  /** A peer node's call: the Request-URI is the contact it found registered here, To names the user. */
  private delivery(req: SipRequest, caller: Caller): RouteResult {
    const ext = req.to.uri.user;
    return this.targets.deliver(ext === undefined ? undefined : this.deps.directory.byExtension(ext), req.uri, caller);
  }

  /** The caller's leg of a new INVITE (events to be set by whoever takes it); undefined without a usable Contact. */
  private newInboundLeg(req: SipRequest, tx: InviteServerTransaction, inbound: Inbound, user: User | undefined, trunk: string | undefined, profile?: MediaProfile): InboundLeg | undefined {
    const party = this.callerParty(req, user);
    const media = { profile: profile ?? profileOf(this.deps.media.system(), user, this.ctx.settings.defaultCodecs), natted: false, signalAddress: inbound.source.address };
    const peer = { user, trunk, number: party.number, name: party.name };
    const leg = new InboundLeg(this.ctx, UNCLAIMED, inbound.local, inbound.source, peer, media, req, tx);
    if (leg.dialog) return leg;
    leg.close();
    return undefined;
  }

  // CallControl: what features may do with the calls.

  acceptLeg(f: FeatureRequest): InboundLeg | undefined {
    const leg = this.newInboundLeg(f.req, f.tx, f.inbound, f.user, undefined);
    if (!leg) f.tx.respond(createResponse(f.req, 400, 'Missing Contact'));
    return leg;
  }

  legByDialog(key: string): { leg: Leg; call: Call } | undefined {
    const owner = this.dialogs.get(key);
    if (!owner) return undefined;
    for (const call of this.live) if (call.legs.has(owner as Leg)) return { leg: owner as Leg, call };
    return undefined;
  }

  liveCalls(): Iterable<Call> {
    return this.live;
  }

  matchShortCode(dialled: string): ShortCodeMatch | undefined {
    return this.deps.shortCodes?.match(dialled);
  }

  callerOf(leg: Leg): Caller {
    const p = partyOf(leg);
    const from: NameAddr = { displayName: p.name || undefined, uri: sipUri(p.number, this.ctx.settings.domain), params: new Map() };
    return { user: p.user, fromTrunk: undefined, from, secure: false };
  }

  private pai(name: string, number: string): Header {
    return identityHeader('p-asserted-identity', name, number, this.ctx.settings.domain);
  }

  /** A media session for a bridge of a call (relay or rtpengine per configuration). */
  newMedia(call: Call): MediaSession {
    // Its own label: an external relay (rtpengine) keys sessions by it, and the old bridge's is deleted after.
    return this.mediaFor(`${call.ref}.${(++this.bridges).toString(36)}`, () => call);
  }

  private mediaFor(ref: string, call: () => Call): MediaSession {
    const system = this.deps.media.system();
    if (this.deps.media.rtpengine) return new RtpengineMedia(this.deps.media.rtpengine, this.ctx.log, ref);
    return new CallMedia({
      relay: this.deps.media.relay,
      replayWindow: system.replayWindow,
      log: this.ctx.log,
      label: ref,
      onDtmf: (from, digit, ms) => call().bridge.sendDtmfInfo(from, digit, ms),
    });
  }

  private callerParty(req: SipRequest, user: User | undefined): { number: string; name: string; user: User | undefined } {
    if (user) return { number: user.extension, name: user.name, user };
    return { number: req.from.uri.user ?? 'anonymous', name: req.from.displayName ?? '', user: undefined };
  }

  private track(call: Call, tx: InviteServerTransaction): void {
    this.started++;
    this.live.add(call);
    this.byInviteTx.set(tx, call);
    this.index(call);
    this.emit(call, false);
  }

  /**
   * Keeps the per-user index in step with the call's parties, which
   * transfers and forwarding change. Called on every change of every call:
   * when the parties are the same as last time it does nothing and allocates nothing.
   */
  private index(call: Call): void {
    const live = call.state !== 'ended';
    const a = live ? call.caller.user?.extension : undefined;
    // A mailbox owner is not in the call an application took for them (they are not busy because of it).
    let b = live && call.callee.app === undefined ? call.callee.user?.extension : undefined;
    if (b === a) b = undefined;
    const before = this.indexed.get(call);
    if (before ? before[0] === a && before[1] === b : a === undefined && b === undefined) return;
    if (before) for (const ext of before) if (ext !== undefined && ext !== a && ext !== b) this.unindex(ext, call);
    for (const ext of [a, b]) {
      if (ext === undefined) continue;
      let set = this.byUser.get(ext);
      if (!set) this.byUser.set(ext, (set = new Set()));
      set.add(call);
    }
    if (a === undefined && b === undefined) this.indexed.delete(call);
    else this.indexed.set(call, [a, b]);
  }

  private unindex(ext: string, call: Call): void {
    const set = this.byUser.get(ext);
    set?.delete(call);
    if (set && set.size === 0) this.byUser.delete(ext);
  }

  private onEnded(call: Call, cdr: CdrInput): void {
    for (const u of [call.caller.user, call.callee.user]) if (u) this.lastCallEnd.set(u.extension, cdr.endedAt);
    this.live.delete(call);
    this.byInviteTx.delete(call.inbound.inviteTx);
    this.index(call);
    if (!this.unrecorded.delete(call)) this.writeCdr(cdr);
    this.emit(call, true);
  }

  private writeCdr(cdr: CdrInput): void {
    try {
      this.deps.cdrs.enqueue(cdr);
    } catch (err) {
      this.ctx.log.error({ call: cdr.callRef, err: (err as Error).message }, 'call record not written');
    }
  }

  private emit(call: CallView, ended: boolean): void {
    for (const l of this.listeners) {
      try {
        l(call, ended);
      } catch (err) {
        this.ctx.log.error({ err: (err as Error).message }, 'call listener failed');
      }
    }
  }
}

