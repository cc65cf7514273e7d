// The media server's signalling: a SIP user agent of ours in every server
// process, listening on loopback beside the B2BUA, which routes calls to it
// like to any phone (a plan step whose target is `sip:<app>-<arg>@host`). Each
// INVITE is answered by the application its Request-URI names (voicemail,
// IVR, conference, music on hold) with a media endpoint of ours; the call's
// bridge, relay and features treat that leg like every other one. Only the
// server's own SIP listener may reach it: anything else gets 403.
import type { Endpoint, Header, SipRequest, SipUri } from '../../sip/message.ts';
import type { Inbound } from '../../sip/transport/types.ts';
import type { InviteServerTransaction } from '../../sip/transaction/types.ts';
import type { Logger } from '../../lib/log.ts';
import { OncePerInterval } from '../../lib/log.ts';
import type { TimerQueue } from '../../lib/timer-queue.ts';
import type { Clock } from '../../sip/clock.ts';
import { TransportLayer } from '../../sip/transport/layer.ts';
import { TransactionLayer } from '../../sip/transaction/layer.ts';
import { UserAgentCore } from '../../sip/ua/core.ts';
import { createResponse } from '../../sip/serializer.ts';
import { isWildcard } from '../../lib/net.ts';
import type { CallContext } from '../call/context.ts';
import { InboundLeg } from '../call/inbound-leg.ts';
import type { MediaProfile } from '../media/profile.ts';
import { AppCall } from './app-call.ts';
import type { AppEndpoint } from './app-call.ts';

export type { AppEndpoint } from './app-call.ts';

/** An application: runs one answered call (the endpoint is up and the ACK is in) until it ends. */
export type AppHandler = (call: AppCall, arg: string) => Promise<void>;

export interface AppHostDeps {
  log: Logger;
  timers: TimerQueue;
  clock: Clock;
  now(): number;
  domain: string;
  /** The B2BUA's UDP listener as bound: the host binds beside it (a wildcard becomes loopback) and takes requests only from it. */
  server(): { address: string; port: number } | undefined;
  /** A fresh media endpoint for a call (ports from the media pool). */
  openEndpoint(): Promise<AppEndpoint>;
  t1?: number;
  t2?: number;
  t4?: number;
}

/**
 * The media profile of every endpoint of ours: plain RTP with G.711 and RFC
 * 4733 digits. A phone that must have SRTP is anchored in the relay, which
 * speaks SRTP to it and RTP to us; a plain phone may send straight to us.
 */
export function appProfile(suites: readonly string[]): MediaProfile {
  return {
    security: 'disabled',
    encryptedSrtcp: false,
    directMedia: true,
    dtmf: 'rfc4733',
    capneg: false,
    transport: 'any',
    suites,
    codecs: ['PCMU', 'PCMA'],
  };
}

const ALLOWED = ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'INFO', 'UPDATE', 'NOTIFY'];

export class AppHost {
  private readonly apps = new Map<string, AppHandler>();
  /** Calls being served now. */
  readonly calls = new Set<AppCall>();
  private transport: TransportLayer | undefined;
  private transactions: TransactionLayer | undefined;
  private readonly core = new UserAgentCore({ allowedMethods: ALLOWED, supportedOptions: ['timer'] });
  private ctx: CallContext | undefined;
  private listener: { address: string; port: number } | undefined;
  /** Datagrams from outside the server: logged once a minute, with how many went unlogged. */
  private readonly outsiders: OncePerInterval;
  /** Calls the host took since start (metrics, tests). */
  served = 0;

  constructor(private readonly deps: AppHostDeps) {
    this.outsiders = new OncePerInterval(60_000, deps.now);
    this.core.handle('INVITE', (req, tx, inbound) => this.invite(req, tx as InviteServerTransaction, inbound));
  }

  has(name: string): boolean {
    return this.apps.has(name);
  }

  /** Adds an application under `name`: `sip:<name>-<arg>@host` (or `sip:<name>@host`) reaches it. */
  register(name: string, handler: AppHandler): void {
    this.apps.set(name, handler);
  }

  /** Binds beside the B2BUA's UDP listener; without one the media server stays off (every app target refused). */
  async start(): Promise<void> {
    const server = this.deps.server();
    if (server === undefined) {
      this.deps.log.warn({}, 'media server off: it needs the server to listen on UDP');
      return;
    }
    const host = isWildcard(server.address) ? (server.address.includes(':') ? '::1' : '127.0.0.1') : server.address;
    // Outsiders are dropped before parsing: a malformed request would otherwise get the transport's 400.
    const transport = new TransportLayer({ udp: { host, port: 0 }, logger: this.deps.log, acceptUdpFrom: (source) => this.fromServer(source) || this.refuse(source) });
    const transactions = new TransactionLayer({
      sender: transport,
      timers: this.deps.timers,
      clock: this.deps.clock,
      t1: this.deps.t1,
      t2: this.deps.t2,
      t4: this.deps.t4,
      onRequest: this.core.onRequest,
    });
    this.core.transactions = transactions;
    transport.onInbound = (inbound) => transactions.receive(inbound);
    await transport.start();
    this.transport = transport;
    this.transactions = transactions;
    this.listener = transport.localEndpoint('udp');
    const allow: Header = { name: 'allow', value: ALLOWED.join(', ') };
    this.ctx = {
      settings: { domain: this.deps.domain, noAnswerTimeoutSec: 0, maxCallsPerUser: 0, defaultCodecs: [], parkTimeoutSec: 0 },
      transactions,
      sender: transport,
      timers: this.deps.timers,
      log: this.deps.log,
      now: this.deps.now,
      registerDialog: (key, owner) => this.core.dialogs.add(key, owner),
      unregisterDialog: (key, owner) => void this.core.dialogs.remove(key, owner),
      callChanged: () => {},
      callEnded: () => {},
      redirect: () => ({ ok: false, status: 404, reason: 'Not Found' }),
      commonHeaders: { allow, supported: { name: 'supported', value: 'timer' } },
    };
    this.deps.log.info({ address: this.listener?.address, port: this.listener?.port }, 'media server listening');
  }

  /** Where the B2BUA sends INVITEs for the apps; undefined while the host is not running. */
  get endpoint(): Endpoint | undefined {
    const l = this.listener;
    return l && { transport: 'udp', address: l.address, port: l.port };
  }

  /** The Request-URI that reaches application `name` with `arg` (undefined while the host is not running). */
  uri(name: string, arg?: string): SipUri | undefined {
    const l = this.listener;
    if (l === undefined) return undefined;
    const user = arg === undefined ? name : `${name}-${arg}`;
    return { scheme: 'sip', user, host: l.address.includes(':') ? `[${l.address}]` : l.address, port: l.port, params: new Map(), headers: new Map() };
  }

  /** Ends every call (BYE) and closes the listener. */
  async stop(): Promise<void> {
    for (const call of [...this.calls]) call.hangup();
    this.transactions?.close();
    await this.transport?.stop();
    this.transport = undefined;
    this.listener = undefined;
  }

  private fromServer(source: Endpoint): boolean {
    const server = this.deps.server();
    const here = this.listener;
    if (server === undefined || here === undefined) return false;
    // The B2BUA sends from its own listener: same port, and the address it sends from toward ours.
    return source.port === server.port && source.address === here.address;
  }

  /** A datagram from outside the server: dropped, logged once a minute; false. */
  private refuse(source: Endpoint): false {
    const unlogged = this.outsiders.take('outsider');
    if (unlogged >= 0) this.deps.log.warn({ source: `${source.address}:${source.port}`, alsoDropped: unlogged }, 'media server: request from outside the server dropped');
    return false;
  }

  private invite(req: SipRequest, tx: InviteServerTransaction, inbound: Inbound): void {
    const ctx = this.ctx;
    const found = this.app(req.uri.user ?? '');
    if (ctx === undefined || found === undefined) {
      tx.respond(createResponse(req, 404, 'No Such Application'));
      return;
    }
    const peer = { user: undefined, trunk: undefined, number: req.from.uri.user ?? 'anonymous', name: req.from.displayName ?? '' };
    const leg = new InboundLeg(ctx, { onRequest: () => {}, onAck: () => {}, onLegFailed: () => {} }, inbound.local, inbound.source, peer,
      { profile: appProfile([]), natted: false }, req, tx);
    if (!leg.dialog) {
      tx.respond(createResponse(req, 400, 'Missing Contact'));
      leg.close();
      return;
    }
    const call = new AppCall(leg, this.deps.log, this.deps.timers);
    this.calls.add(call);
    this.served++;
    call.onEnd(() => this.calls.delete(call));
    void this.run(call, found.handler, found.arg);
  }

  private async run(call: AppCall, handler: AppHandler, arg: string): Promise<void> {
    try {
      const endpoint = await this.deps.openEndpoint();
      if (!(await call.answer(endpoint))) return;
      await handler(call, arg);
    } catch (err) {
      this.deps.log.error({ err: (err as Error).message, app: call.leg.invite.uri.user }, 'media server application failed');
      call.fail(500, 'Server Internal Error');
      return;
    }
    call.hangup();
  }

  /** The application a Request-URI user names: "<name>" or "<name>-<arg>". */
  private app(user: string): { handler: AppHandler; arg: string } | undefined {
    for (const [name, handler] of this.apps) {
      if (user === name) return { handler, arg: '' };
      if (user.length > name.length + 1 && user.startsWith(name) && user[name.length] === '-') return { handler, arg: user.slice(name.length + 1) };
    }
    return undefined;
  }
}
