// The targets a ringing step forks to: a local user's registered contacts
// (all of them), or a trunk chosen by prefix (only for users allowed to call
// out). Also the check that makes a user busy (call waiting, max calls).
import type { Endpoint, NameAddr, SipUri } from '../../sip/message.ts';
import { parseUri, uriEquals } from '../../sip/uri.ts';
import { quote } from '../../sip/headers.ts';
import { bracketHost, unbracketHost } from '../../lib/net.ts';
import type { User } from '../../store/types.ts';
import type { Directory } from '../directory/directory.ts';
import type { LiveBinding, LocationService } from '../registrar/location.ts';
import type { TrunkEntry } from '../trunks/trunk-table.ts';
import { TrunkTable } from '../trunks/trunk-table.ts';
import type { CallSettings, CallView } from '../call/context.ts';
import type { OutboundTarget } from '../call/outbound-leg.ts';
import type { MediaProfile } from '../media/profile.ts';
import type { RouteResult } from './plan.ts';

export type { RouteResult } from './plan.ts';

export interface RoutingDeps {
  settings: CallSettings;
  directory: Directory;
  location: LocationService;
  trunks: TrunkTable;
  aorFor(extension: string): string;
  localEndpoint(transport: Endpoint['transport']): { address: string; port: number } | undefined;
  /** Calls the user is in now. */
  callsOf(extension: string): number;
  /** The system's signalling transport rule for users without their own ('tls' = TLS only). */
  systemTransport(): 'any' | 'tls';
  /** A user's media profile (system values where the user has none); undefined: a trunk. */
  profileOf(user: User | undefined): MediaProfile;
  /** The links to the other nodes sharing the store; absent: this node routes every binding itself. */
  peers?: PeerRouting;
  /** The media server of this process (src/pbx/apps/host.ts); absent: no applications. */
  apps?: AppRouting;
}

/** What routing needs of the media server: where an application is reached, and the media its endpoints speak. */
export interface AppRouting {
  /** The application is served (voicemail may be switched off). */
  has(name: string): boolean;
  uri(name: string, arg?: string): SipUri | undefined;
  readonly endpoint: Endpoint | undefined;
  readonly profile: MediaProfile;
}

/** What routing needs of the inter-node links (src/pbx/peers/peer-links.ts). */
export interface PeerRouting {
  /** This node's name, as stored with the bindings it holds. */
  readonly self: string;
  /** The link to the node holding a phone, while it is up. */
  routeTo(node: string): Endpoint | undefined;
}

export interface Caller {
  user: User | undefined;
  fromTrunk: TrunkEntry | undefined;
  /** Our From for the outbound legs (caller ID). */
  from: NameAddr;
  /** The caller dialled a sips: URI: every leg must be TLS, with sips: identities (RFC 5630). */
  secure: boolean;
}

/**
 * Builds the targets of one ringing step: a user's registered contacts, or a
 * trunk. The rules that decide which step comes when (forwarding, DND, hunt
 * groups) are the pipeline's (pipeline.ts).
 */
export class Targets {
  constructor(private readonly deps: RoutingDeps) {}

  /**
   * A callee's phone redirected the call (3xx, its own call forwarding): a
   * local user or a number a trunk serves. The same permission rules apply
   * as if the caller had dialled it.
   */
  redirect(contact: SipUri, caller: Caller): RouteResult {
    const user = contact.user;
    if (user === undefined || (contact.scheme !== 'sip' && contact.scheme !== 'sips')) return { ok: false, status: 480, reason: 'Temporarily Unavailable' };
    const local = this.deps.directory.byExtension(user);
    if (local) return this.toUser(local, caller, caller.fromTrunk ? 'inbound' : 'internal');
    if (caller.fromTrunk) return { ok: false, status: 480, reason: 'Temporarily Unavailable' };
    const trunk = this.deps.trunks.forNumber(user);
    if (!trunk) return { ok: false, status: 480, reason: 'Temporarily Unavailable' };
    return this.toTrunk(trunk, user, caller);
  }

  /** The user cannot take another call now: in a call without call waiting, or at its call limit. */
  busy(user: User): boolean {
    const n = this.deps.callsOf(user.extension);
    return (n > 0 && !user.callWaiting) || n >= (user.maxCalls ?? this.deps.settings.maxCallsPerUser);
  }

  /** Every registered contact of the user, forked (no feature rules: those are the pipeline's). */
  toUser(user: User, caller: Caller, direction: CallView['direction']): RouteResult {
    const d = this.deps;
    const s = d.settings;
    if (!user.enabled) return { ok: false, status: 404, reason: 'Not Found' };
    const secure = caller.secure;
    const tlsOnly = secure || (user.media.transport ?? d.systemTransport()) === 'tls';
    const to: NameAddr = { uri: { ...sipUri(user.extension, s.domain), scheme: secure ? 'sips' : 'sip' }, params: new Map() };
    const from: NameAddr = secure ? { ...caller.from, uri: { ...caller.from.uri, scheme: 'sips' } } : caller.from;
    const targets: OutboundTarget[] = [];
    const leg = { user, from, to, secure, tlsOnly, profile: d.profileOf(user) };
    for (const b of d.location.lookup(d.aorFor(user.extension))) {
      const target = this.isHere(b) ? this.contactTarget(b, leg) : this.viaPeer(b, leg);
      if (target !== undefined) targets.push(target);
    }
    return this.ring(user, direction, targets);
  }

  /**
   * A peer node routed a call to a contact of `user` that it saw registered
   * here: that contact rings, nothing else. The peer applied the callee's
   * rules (forwarding, DND, hunt groups) already; busy is judged again here,
   * where the phone's other calls are known.
   */
  deliver(user: User | undefined, contact: SipUri, caller: Caller): RouteResult {
    if (!user || !user.enabled) return { ok: false, status: 404, reason: 'Not Found' };
    if (this.busy(user)) return { ok: false, status: 486, reason: 'Busy Here', calleeUser: user };
    const d = this.deps;
    const secure = caller.secure;
    const tlsOnly = secure || (user.media.transport ?? d.systemTransport()) === 'tls';
    const to: NameAddr = { uri: { ...sipUri(user.extension, d.settings.domain), scheme: secure ? 'sips' : 'sip' }, params: new Map() };
    const leg = { user, from: caller.from, to, secure, tlsOnly, profile: d.profileOf(user) };
    const targets: OutboundTarget[] = [];
    for (const b of d.location.lookup(d.aorFor(user.extension))) {
      if (!this.isHere(b)) continue;
      const uri = parseUri(b.contactUri);
      const target = uri && uriEquals(uri, contact) ? this.contactTarget(b, leg) : undefined;
      if (target !== undefined) targets.push(target);
    }
    return this.ring(user, 'internal', targets);
  }

  private ring(user: User, direction: CallView['direction'], targets: OutboundTarget[]): RouteResult {
    if (targets.length === 0) return { ok: false, status: 480, reason: 'Temporarily Unavailable', calleeUser: user };
    const ring = user.noAnswerTimeoutSec ?? this.deps.settings.noAnswerTimeoutSec;
    return { ok: true, label: user.extension, direction, calleeUser: user, trunkName: undefined, targets, ringMs: ring * 1000 };
  }

  /** The binding's phone is this node's to reach (no other node named, or no links: every node reaches every phone itself). */
  private isHere(b: LiveBinding): boolean {
    const peers = this.deps.peers;
    return peers === undefined || b.node === undefined || b.node === null || b.node === peers.self;
  }

  /** A registered contact, reached where its REGISTER came from. */
  private contactTarget(b: LiveBinding, leg: UserLeg): OutboundTarget | undefined {
    if (leg.tlsOnly && b.transport !== 'tls') return undefined;
    const uri = parseUri(b.contactUri);
    const transport = b.transport as Endpoint['transport'];
    const local = this.deps.localEndpoint(transport);
    if (!uri || !local) return undefined;
    const dest: Endpoint = { transport, address: b.sourceAddress, port: b.sourcePort };
    if (b.connectionId !== undefined) dest.connectionId = b.connectionId;
    // A registered contact whose host is not where its REGISTER came from is behind NAT.
    const natted = unbracketHost(uri.host) !== dest.address;
    const { user, from, to, secure, profile } = leg;
    return { requestUri: uri, dest, local: { transport, ...local }, from, to, routes: b.path.map(angle), peer: { user, trunk: undefined }, media: { profile, natted }, secure };
  }

  /**
   * A contact another node holds: the request goes over the link to that
   * node (which delivers it), with the contact as its Request-URI. A node
   * whose link is down is skipped: its phones re-register elsewhere.
   */
  private viaPeer(b: LiveBinding, leg: UserLeg): OutboundTarget | undefined {
    const dest = this.deps.peers!.routeTo(b.node!);
    if (dest === undefined || (leg.tlsOnly && dest.transport !== 'tls')) return undefined;
    const uri = parseUri(b.contactUri);
    const local = this.deps.localEndpoint(dest.transport);
    if (!uri || !local) return undefined;
    const { user, from, to, secure } = leg;
    // Media between nodes is as towards a trunk; the node holding the phone applies the user's own profile.
    return { requestUri: uri, dest, local: { transport: dest.transport, ...local }, from, to, routes: [], peer: { user, trunk: undefined }, media: { profile: this.deps.profileOf(undefined), natted: false }, secure };
  }

  /** The media server of this process serves application `name`. */
  serves(name: string): boolean {
    return this.deps.apps?.has(name) === true;
  }

  /**
   * A step answered by an application of the media server: `name`/`arg`
   * pick the application (vm-deposit/1001, ivr/8100), `number` is what the
   * caller reached (shown in To, the call record and status), `serves` the
   * user it acts for (a mailbox owner). 503 while the media server is down.
   */
  toApp(app: { name: string; arg?: string; kind: string; label: string; display: string }, number: string, caller: Caller, direction: CallView['direction'], serves?: User): RouteResult {
    const apps = this.deps.apps;
    if (!this.serves(app.name)) return { ok: false, status: 404, reason: 'Not Found', calleeUser: serves };
    const requestUri = apps?.uri(app.name, app.arg);
    const dest = apps?.endpoint;
    const local = dest && this.deps.localEndpoint(dest.transport);
    if (!apps || !requestUri || !dest || !local) return { ok: false, status: 503, reason: 'Media Server Unavailable', calleeUser: serves };
    // The media server is a part of this process: a sips: caller's promise of TLS holds up to here.
    const from: NameAddr = caller.from.uri.scheme === 'sips' ? { ...caller.from, uri: { ...caller.from.uri, scheme: 'sip' } } : caller.from;
    const target: OutboundTarget = {
      requestUri,
      dest,
      local: { transport: dest.transport, ...local },
      from,
      to: { uri: sipUri(number, this.deps.settings.domain), params: new Map() },
      routes: [],
      peer: { user: undefined, trunk: undefined, number, name: app.display },
      media: { profile: apps.profile, natted: false },
    };
    return {
      ok: true, label: app.label, direction, calleeUser: serves, trunkName: undefined, targets: [target], ringMs: undefined,
      app: app.kind, calleeProfile: apps.profile,
    };
  }

  /**
   * The trunk step for a dialled number. `permitted` is the user whose
   * outbound permission counts: the caller, or for forwarding and transfer the
   * user who sent the call out (no toll fraud through forwarding).
   */
  toTrunk(chosen: TrunkEntry, dialled: string, caller: Caller, permitted: User | undefined = caller.user): RouteResult {
    // A trunk known down hands its calls to its fallback, with the fallback's own digit rules.
    const entry = this.deps.trunks.withFallback(chosen);
    const t = entry.trunk;
    const refused = (status: number, reason: string): RouteResult => ({ ok: false, status, reason, trunkName: t.name });
    // Toll fraud stops here: only users with the permission reach a trunk, and never a trunk itself.
    if (!permitted || !permitted.outboundCalls) return refused(403, 'Outbound Calls Not Permitted');
    if (caller.secure && t.transport !== 'tls') return refused(480, 'No TLS Route For SIPS');
    // Known down (no answer to its OPTIONS): the caller hears so now, not after Timer B's 32 s.
    if (this.deps.trunks.isDown(t.name)) return refused(503, `Trunk ${t.name} Down`);
    const dest = entry.dest;
    if (!dest) return refused(503, 'Trunk Unreachable');
    const local = this.deps.localEndpoint(dest.transport);
    if (!local) return refused(503, 'Trunk Transport Not Enabled');
    const number = TrunkTable.dialString(t, dialled);
    const requestUri = parseUri(`sip:${escapeUser(number)}@${bracketHost(t.host)}:${t.port}${t.transport === 'udp' ? '' : ';transport=' + t.transport}`);
    if (!requestUri) return refused(484, 'Address Incomplete');
    const credentials = t.registerUser && t.registerPassword ? { username: t.registerUser, password: t.registerPassword } : undefined;
    const target: OutboundTarget = {
      requestUri,
      dest,
      local: { transport: dest.transport, ...local },
      from: caller.from,
      to: { uri: requestUri, params: new Map() },
      routes: t.outboundProxy ? [`<sip:${t.outboundProxy};lr>`] : [],
      credentials,
      peer: { user: undefined, trunk: t.name, number: dialled },
      media: { profile: this.deps.profileOf(undefined), natted: false },
    };
    return { ok: true, label: `trunk ${t.name}`, direction: 'outbound', calleeUser: undefined, trunkName: t.name, targets: [target], ringMs: undefined };
  }
}

/** P-Asserted-Identity / Diversion style value: optional quoted name, then <sip:number@domain>. */
export function identityHeader(name: string, display: string, number: string, domain: string): { name: string; value: string } {
  return { name, value: (display ? quote(display) + ' ' : '') + '<sip:' + escapeUser(number) + '@' + domain + '>' };
}

/** What every leg towards one user's contacts shares. */
interface UserLeg {
  user: User;
  from: NameAddr;
  to: NameAddr;
  secure: boolean;
  tlsOnly: boolean;
  profile: MediaProfile;
}

export function sipUri(user: string, host: string): SipUri {
  return { scheme: 'sip', user, host, params: new Map(), headers: new Map() };
}

function angle(route: string): string {
  return route.startsWith('<') ? route : '<' + route + '>';
}

/** Dialled numbers are digits, '+', '*', '#'; anything else is %-escaped for the URI. */
export function escapeUser(s: string): string {
  return s.replace(/[^0-9A-Za-z+*\-_.!~'()]/g, (c) => '%' + c.charCodeAt(0).toString(16).padStart(2, '0'));
}
