// The lines manager of the handset gateway (issue 15 items 1 and 5, B-01..B-04,
// B-32, EC-04, EC-11, D-06, D-08): one REGISTER client per enabled line,
// its hops from the proxies (failover on timeout, fail-back), its flow kept
// alive, its state and failure reason for the status views; and the
// GatewayLines the calls and MWI use.
import { OncePerInterval, type Logger } from '../lib/log.ts';
import type { TimerHandle, TimerQueue } from '../lib/timer-queue.ts';
import type { GatewaySettings, GatewayStatus, LineStatus, MwiSubscriptionState } from '../model/gateway.ts';
import { GATEWAY_DEFAULTS } from '../model/gateway.ts';
import type { SipTarget } from '../sip/dns.ts';
import type { Endpoint, SipRequest, SipUri } from '../sip/message.ts';
import type { Flow, FlowOpener, Inbound, TlsTarget } from '../sip/transport/types.ts';
import type { RegisterClient, RegisterClientOptions, RegisterFailure, RegisterHop, RegisterSuccess } from '../sip/ua/register-client.ts';
import { createRegisterClient } from '../sip/ua/register-client.ts';
import type { UacTransport } from '../sip/ua/uac.ts';
import { parseUri } from '../sip/uri.ts';
import type { GatewayRepository } from '../store/gateway-types.ts';
import { describeFailure, retryDelayMs, type LineFailure } from './failure-reasons.ts';
import { FlowKeeper } from './flow-keeper.ts';
import { planLine } from './line-plan.ts';
import { fetchPeerIssuer } from './peer-issuer.ts';
import { OutageGate } from './outage-gate.ts';
import { PendingSlots } from './pending-slots.ts';
import { hopName, isCertificateProblem, Line, lineStatusOf, samePlan, sameTarget } from './line-state.ts';
import type { GatewayLines, UpstreamMatch, UpstreamRoute } from './types.ts';
import type { UpstreamHops } from './hops.ts';

export interface LinesDeps {
  repo: GatewayRepository;
  transactions: UacTransport;
  flows: FlowOpener;
  hops: UpstreamHops;
  timers: TimerQueue;
  now(): number;
  log: Logger;
  /** The listener's address:port per transport (Contact when the flow's own port is not used). */
  localEndpoint(transport: Endpoint['transport']): { address: string; port: number } | undefined;
  /** TLS options of an upstream target: tls-policy's client options with our trust list (see component.ts). */
  tlsTarget(target: SipTarget, settings: GatewaySettings): TlsTarget;
  /** The gateway's UUID (kept in the data directory): +sip.instance of every line derives from it. */
  gatewayUuid: string;
  /** Whether the handset of `extension` is registered here (B.1 "Subscribed"). */
  handsetRegistered(extension: string): boolean;
  /** Tests and the bench may pass their own. */
  createClient?: (opts: RegisterClientOptions) => RegisterClient;
  /** Reads the issuer of a refused certificate (default: one look without verification). */
  peerIssuer?: (target: SipTarget) => Promise<string | undefined>;
  /** Registrations sent, failovers: for metrics. */
  counters?: LineCounters;
}

export interface LineCounters {
  registrationsSent: number;
  failovers: number;
}

/**
 * D-06: an upstream asks for our certificate only on handshakes made after it
 * listed us as a trusted peer. A challenge on a connection at least this old
 * (of the gateway's clock) closes it and tries again at once on a new one; a
 * younger connection was just handshaken, so its challenge is reported, and
 * thousands of lines sharing one connection reconnect once per retry window.
 */
const TRUSTED_RECONNECT_MIN_AGE_MS = 5_000;

/**
 * The wait between two outage probes (one REGISTER in flight for the whole
 * gateway): with a backoff to the blacklist timeout an upstream back after a
 * restart waited up to 30 s for the next probe (AC-14 (b) 21 s instead of 5).
 */
export const OUTAGE_PROBE_WAIT_MS = 5_000;

/** How long stop() waits for unregister answers (real time) unless told otherwise. */
export const STOP_WAIT_MS = 2_000;

export class GatewayLinesManager implements GatewayLines {
  private current: GatewaySettings = GATEWAY_DEFAULTS;
  private readonly lines = new Map<string, Line>();
  /** Contact user → lines using it (fromUpstream). */
  private readonly byContactUser = new Map<string, Set<Line>>();
  private readonly slots: PendingSlots;
  private readonly outage: OutageGate;
  private readonly keeper: FlowKeeper;
  private readonly listeners = new Set<(extension: string) => void>();
  /**
   * Each line's class as last counted, and the counts: the alarm reads the
   * tally on every change, so counting all lines each time was O(lines) per
   * REGISTER answer (8.8 % of the gateway's busy time with 3,334 lines, bench/README.md).
   * Every change of `registered`/`failure` ends in emit(), which recounts its line.
   */
  private readonly counted = new Map<string, 'registered' | 'failed' | 'neither'>();
  private readonly counts = { registered: 0, failed: 0 };
  private failbackTimer: TimerHandle | undefined;
  private watcher: { stop(): void } | undefined;
  private reloading: Promise<void> | undefined;
  private reloadAgain = false;
  /** TLS connection id → when a line first used it (gateway clock), while open: see TRUSTED_RECONNECT_MIN_AGE_MS. */
  private readonly connectionSince = new Map<number, number>();
  /** "TLS allow insecure" and "separate ports" over UDP are said once a minute per target, not per line and refresh. */
  private readonly targetLog: OncePerInterval;
  readonly counters: LineCounters;

  constructor(private readonly deps: LinesDeps) {
    this.counters = deps.counters ?? { registrationsSent: 0, failovers: 0 };
    this.targetLog = new OncePerInterval(60_000, deps.now);
    this.slots = new PendingSlots(deps.timers, this.current.maxPendingRegistrations, this.current.clientTransactionTimeoutMs * 2);
    // A probe is one REGISTER for the whole gateway, so it need not back off: a short fixed wait
    // (never past the blacklist) brings every line back within seconds of the upstream's return.
    this.outage = new OutageGate(deps.timers, () => Math.min(OUTAGE_PROBE_WAIT_MS, Math.max(1, this.current.blacklistTimeoutSec) * 1000), deps.log);
    this.keeper = new FlowKeeper(deps.timers, deps.now, () => this.current.keepaliveIntervalSec * 1000, (users, _flow, err) => {
      for (const ext of users) {
        const l = this.lines.get(ext);
        if (!l || l.stopped) continue;
        deps.log.info({ extension: ext, reason: err?.message ?? 'closed' }, 'gateway line: flow to the upstream lost; registering again');
        l.flow = undefined;
        l.client?.refresh();
      }
    });
  }

  get settings(): GatewaySettings {
    return this.current;
  }

  /** Loads settings, proxies and lines and follows the store's changes. */
  async start(pollMs?: number): Promise<void> {
    await this.reload();
    this.watcher = this.deps.repo.watch((change) => (change.config ? this.reload() : undefined), { intervalMs: pollMs });
    this.armFailback();
  }

  /**
   * Unregisters every registered line, at most max pending registrations at a
   * time (B-01), and waits for the answers until `giveUp` (default: STOP_WAIT_MS
   * of real time: the server is going away, and an upstream that never answers
   * would otherwise hold it for Timer F per pacing step). Lines not answered by
   * then are said in one log line; the upstream drops them when they expire.
   */
  async stop(giveUp?: Promise<void>): Promise<void> {
    this.watcher?.stop();
    this.deps.timers.cancel(this.failbackTimer);
    const all = [...this.lines.values()];
    this.lines.clear();
    this.counted.clear();
    this.counts.registered = this.counts.failed = 0;
    const registered: Line[] = [];
    for (const l of all) {
      if (l.registered !== undefined && l.client) {
        // Stopped now (no refresh while waiting for its turn); unregistered in turn below.
        l.stopped = true;
        this.slots.release(l.extension);
        registered.push(l);
      } else {
        void this.stopLine(l, false);
      }
    }
    this.outage.clear();
    let timer: NodeJS.Timeout | undefined;
    const bound = giveUp ?? new Promise<void>((r) => (timer = setTimeout(r, STOP_WAIT_MS)));
    let over = false;
    let next = 0;
    let done = 0;
    const worker = async (): Promise<void> => {
      while (!over && next < registered.length) {
        await this.stopLine(registered[next++]!, true);
        if (!over) done++;
      }
    };
    const workers = Array.from({ length: Math.min(registered.length, Math.max(1, this.current.maxPendingRegistrations)) }, worker);
    await Promise.race([Promise.all(workers), bound]);
    over = true;
    clearTimeout(timer);
    // Lines whose turn never came: stopped without an unregister.
    for (let i = next; i < registered.length; i++) void this.stopLine(registered[i]!, false);
    if (done < registered.length) {
      this.deps.log.warn({ notAnswered: registered.length - done, unregistered: registered.length },
        `gateway lines: ${registered.length - done} of ${registered.length} unregisters not answered at stop; the upstream drops those bindings when they expire`);
    }
    this.keeper.close();
  }

  /** Settings, proxies or lines changed: apply the difference (re-registering only what changed). */
  reload(): Promise<void> {
    if (this.reloading) {
      this.reloadAgain = true;
      return this.reloading;
    }
    this.reloading = (async () => {
      try {
        do {
          this.reloadAgain = false;
          await this.apply();
        } while (this.reloadAgain);
      } catch (err) {
        this.deps.log.error({ err: (err as Error).message }, 'gateway lines: reload failed; the previous lines stay');
      } finally {
        this.reloading = undefined;
      }
    })();
    return this.reloading;
  }

  private async apply(): Promise<void> {
    const [settings, proxies, lines] = await Promise.all([this.deps.repo.settings(), this.deps.repo.listProxies(), this.deps.repo.linesWithSecrets()]);
    this.current = settings;
    // The hold outlasts an attempt's Timer F of the current settings, so a slow answer keeps its slot (B-01).
    this.slots.setLimit(settings.maxPendingRegistrations, settings.clientTransactionTimeoutMs * 2);
    // New proxies or blacklist settings: blacklists start afresh, so does any outage.
    if (this.deps.hops.reload(settings, proxies)) this.outage.clear();
    const seen = new Set<string>();
    for (const row of lines) {
      seen.add(row.extension);
      const plan = planLine(row, settings, this.deps.gatewayUuid);
      const old = this.lines.get(row.extension);
      if (old && samePlan(old.plan, plan)) {
        old.line = row;
        continue;
      }
      // Not awaited: with the upstream away, thousands of unregisters would each wait Timer F.
      // The same AoR re-registers at once with the same Contact and instance, which replaces
      // the binding: an unregister could arrive after it and remove it, so none is sent then.
      if (old) void this.stopLine(old, !(typeof old.plan !== 'string' && typeof plan !== 'string' && old.plan.aor === plan.aor));
      const l = new Line(row, plan);
      this.lines.set(row.extension, l);
      this.startLine(l);
      this.emit(row.extension);
    }
    for (const [ext, l] of this.lines) {
      if (seen.has(ext)) continue;
      this.lines.delete(ext);
      void this.stopLine(l, true);
      this.emit(ext);
    }
  }

  private startLine(l: Line): void {
    const plan = l.plan;
    if (typeof plan === 'string') return;
    let users = this.byContactUser.get(plan.contactUser);
    if (!users) this.byContactUser.set(plan.contactUser, (users = new Set()));
    users.add(l);
    const s = this.current;
    const aorUri = parseUri(plan.aor)!;
    const requestUri: SipUri = { scheme: aorUri.scheme, host: aorUri.host, params: new Map(), headers: new Map() };
    const make = this.deps.createClient ?? createRegisterClient;
    l.client = make({
      transactions: this.deps.transactions,
      timers: this.deps.timers,
      now: this.deps.now,
      aor: { displayName: plan.displayName || undefined, uri: aorUri, params: new Map() },
      requestUri,
      nextHop: () => this.nextHop(l),
      credentials: plan.credentials,
      expiresSec: s.registerExpiresSec,
      instanceId: plan.instanceId,
      gruu: s.gruu,
      maxForwards: s.maxForwards,
      timeoutMs: s.clientTransactionTimeoutMs,
      retryAfterMs: (f) => this.failed(l, f),
      onRegistered: (ok) => this.registered(l, ok),
    });
    l.client.start();
  }

  private async stopLine(l: Line, unregister: boolean): Promise<void> {
    l.stopped = true;
    this.deps.timers.cancel(l.expiry);
    this.slots.release(l.extension);
    this.keeper.leave(l.extension);
    if (typeof l.plan !== 'string') {
      this.byContactUser.get(l.plan.contactUser)?.delete(l);
      this.outage.leave(this.deps.hops.scopeOf(l.plan.domain), l.extension);
    }
    const c = l.client;
    l.client = undefined;
    if (c) await c.stop(unregister && l.registered !== undefined).catch(() => {});
    if (l.ownsFlow) l.flow?.close();
  }

  /**
   * The hop of the next attempt: waits for a pending slot (B-01) and, in an
   * outage, for its turn to probe or a probe's answer (without holding a
   * slot); takes the best target not yet tried, opens its flow.
   */
  private async nextHop(l: Line): Promise<RegisterHop | undefined> {
    await this.slots.take(l.extension);
    if (l.stopped || typeof l.plan === 'string') return undefined;
    const scope = this.deps.hops.scopeOf(l.plan.domain);
    while (!l.stopped && !this.outage.mayTry(scope, l.extension)) {
      this.slots.release(l.extension);
      // A line that never got to try is failing all the same (the status, the alarm); a registered one stays so until its binding runs out.
      if (!l.registered && !l.failure) this.record(l, { code: 'no-answer', status: 0, text: 'no answer from any proxy: waiting while another line probes' });
      await this.outage.wait(scope, l.extension);
      if (l.stopped) return undefined;
      await this.slots.take(l.extension);
    }
    if (l.stopped) return undefined;
    const s = this.current;
    try {
      const all = await this.deps.hops.targets(l.plan.domain, l.extension);
      l.dnsError = undefined;
      // After a failure in this round the next target is tried; a new round starts from the best.
      const untried = all.filter((t) => !l.tried.some((x) => sameTarget(x, t)));
      if (untried.length === 0) l.tried = [];
      l.targets = all;
      l.target = (untried.length > 0 ? untried : all)[0];
    } catch (err) {
      l.dnsError = (err as Error).message;
      l.target = undefined;
    }
    const t = l.target;
    if (t === undefined) return undefined;
    const dest: Endpoint = { transport: t.transport, address: t.address, port: t.port };
    const own = this.ownFlow(l, t, s);
    // Throws the transport's error (TLS codes kept): the client reports it as a transport failure.
    const flow = own === false
      ? await this.deps.flows.openFlow(dest, t.transport === 'tls' ? { tls: this.deps.tlsTarget(t, s) } : undefined)
      : own ?? await this.deps.flows.openFlow(dest, { tls: t.transport === 'tls' ? this.deps.tlsTarget(t, s) : undefined, fresh: true });
    if (l.stopped) {
      if (own === undefined) flow.close();
      return undefined;
    }
    // A line's own connection to another target (failover, fail-back) is nobody else's: close it.
    if (own !== false && l.flow && l.flow !== flow && l.ownsFlow) {
      this.keeper.leave(l.extension);
      l.flow.close();
    }
    l.ownsFlow = own !== false;
    if (s.tlsAllowInsecure && t.transport === 'tls' && this.targetLog.take(hopName(t)) >= 0) {
      this.deps.log.warn({ target: hopName(t) }, `gateway lines: the TLS certificate of ${hopName(t)} is not checked ("TLS allow insecure" is on)`);
    }
    l.flow = flow;
    const id = flow.transport === 'tls' ? flow.dest.connectionId : undefined;
    if (id !== undefined && !this.connectionSince.has(id)) {
      this.connectionSince.set(id, this.deps.now());
      flow.onClose(() => this.connectionSince.delete(id));
    }
    this.keeper.use(flow, l.extension);
    // Separate ports: the Contact names this line's own connection.
    const useFlowPort = t.transport !== 'udp' && (s.tcpEphemeralContact || l.ownsFlow);
    const local = useFlowPort ? flow.local : this.deps.localEndpoint(t.transport) ?? flow.local;
    const contact: SipUri = {
      scheme: l.plan.secure ? 'sips' : 'sip',
      user: l.plan.contactUser,
      host: local.address.includes(':') ? `[${local.address}]` : local.address,
      port: local.port,
      params: new Map(t.transport === 'udp' || (l.plan.secure && t.transport === 'tls') ? [] : [['transport', t.transport]]),
      headers: new Map(),
    };
    this.counters.registrationsSent++;
    return { dest: flow.dest, contact };
  }

  /**
   * "Register each endpoint on separate port" (B.1): over TCP/TLS the line
   * keeps a connection of its own (not pooled, so its refreshes, MWI and calls
   * reuse it by connection id). Returns false when the shared pool is used,
   * the line's open flow to `t` when it has one, undefined to open a new one.
   * UDP has one listener socket: the setting is ignored there, said once.
   */
  private ownFlow(l: Line, t: SipTarget, s: GatewaySettings): Flow | undefined | false {
    if (!s.separatePorts) return false;
    if (t.transport === 'udp') {
      if (this.targetLog.take(`separate-ports:${hopName(t)}`) >= 0) {
        this.deps.log.warn({ target: hopName(t) }, `gateway lines: "separate ports" needs TCP or TLS; lines to ${hopName(t)} over UDP share the listener's port`);
      }
      return false;
    }
    const f = l.ownsFlow ? l.flow : undefined;
    return f && f.open && f.transport === t.transport && f.dest.address === t.address && f.dest.port === t.port ? f : undefined;
  }

  private registered(l: Line, ok: RegisterSuccess): void {
    // A stopped line gave its slot back already; the slot of that id may now be its successor's.
    if (l.stopped) return;
    this.slots.release(l.extension);
    if (!l.target || typeof l.plan === 'string') return;
    this.deps.hops.succeeded(l.plan.domain, l.target);
    this.outage.answered(this.deps.hops.scopeOf(l.plan.domain));
    const wasFailed = l.failure !== undefined;
    l.registered = { target: l.target, hop: ok.hop, ok };
    this.armExpiry(l, ok);
    l.tried = [];
    l.failure = undefined;
    l.consecutiveFailures = 0;
    l.latestActivity = this.deps.now();
    if (wasFailed || l.loggedCode !== 'registered') {
      l.loggedCode = 'registered';
      this.deps.log.info({ extension: l.extension, upstreamUser: l.line.upstreamUser, via: hopName(l.target) }, 'gateway line registered upstream');
    }
    this.emit(l.extension);
  }

  /**
   * The upstream forgets the binding at its expiry: if no refresh succeeded by
   * then (it waits behind other lines' pending slots, or gets no answer), the
   * line is not registered any more, whatever its REGISTER still waits for.
   */
  private armExpiry(l: Line, ok: RegisterSuccess): void {
    this.deps.timers.cancel(l.expiry);
    l.expiry = this.deps.timers.schedule(Math.max(0, ok.expiresAt - this.deps.now()), () => {
      l.expiry = undefined;
      if (l.stopped || l.registered?.ok !== ok) return;
      const via = hopName(l.registered.target);
      l.registered = undefined;
      this.record(l, { code: 'no-answer', status: 0, text: `registration ran out with no answer to its refresh (${via})` });
    });
  }

  /** After a failure: records the reason, fails over at once on no answer, else backs off. */
  private failed(l: Line, f: RegisterFailure): number | undefined {
    if (l.stopped) return undefined;
    this.slots.release(l.extension);
    if (typeof l.plan === 'string') return undefined;
    const t = l.target;
    if (this.reconnectForTrust(l, f)) return 0;
    // A flow that could not open comes back as no hop with the transport's error.
    const connection = (f.kind === 'transport' || (f.kind === 'no-hop' && f.error !== undefined && l.dnsError === undefined)) && !isCertificateProblem(f.error);
    const noAnswer = f.kind === 'timeout' || connection;
    const scope = this.deps.hops.scopeOf(l.plan.domain);
    if (t && noAnswer) {
      l.tried.push(t);
      this.deps.hops.failed(l.plan.domain, t, f.reason);
    } else if (t) {
      // It answered (a refusal, a certificate we do not accept): alive, whatever it said.
      this.deps.hops.succeeded(l.plan.domain, t);
      this.outage.answered(scope);
    } else if (this.outage.isDown(scope)) {
      this.outage.noAnswer(scope, l.extension, false); // nothing resolved, no probe made: the turn passes on
    }
    l.registered = undefined;
    this.deps.timers.cancel(l.expiry);
    const ctx = {
      dialled: t && hopName(t), host: t?.host, tried: l.tried.map(hopName), authUser: l.plan.credentials?.username,
      legacyTls: this.current.legacyTls, dnsError: l.dnsError,
    };
    const failure = describeFailure(f, ctx);
    l.consecutiveFailures++;
    this.record(l, failure);
    if (failure.code === 'tls-trust' && t && l.loggedCode !== 'tls-trust:issuer') void this.nameIssuer(l, t, f);
    // Another target left in this round: try it now (B-02 failover); in an outage a probe is one attempt.
    const down = this.outage.isDown(scope);
    if (noAnswer && !down && l.targets.some((x) => !l.tried.some((y) => sameTarget(x, y)))) {
      this.counters.failovers++;
      this.deps.log.warn({ extension: l.extension, from: t && hopName(t) }, 'gateway line: no answer, trying the next proxy');
      return 0;
    }
    l.tried = [];
    if (noAnswer) {
      const all = this.deps.hops.allBlacklisted(l.plan.domain);
      if (down || all) {
        // Every proxy is down: the line waits at the gate at once (its turn to probe, or a probe's answer).
        this.outage.noAnswer(scope, l.extension, all);
        if (this.outage.isDown(scope)) return 0;
      }
    }
    return retryDelayMs(failure.code, l.consecutiveFailures);
  }

  /**
   * Trusted-server mode (D-06): a challenge (which a line without a password
   * cannot answer) on an older TLS connection may only mean the upstream listed
   * us after that handshake: close it and try once more on a new one.
   */
  private reconnectForTrust(l: Line, f: RegisterFailure): boolean {
    const flow = l.flow;
    if (!this.current.trustedServer || f.kind !== 'response' || (f.status !== 401 && f.status !== 407)) return false;
    if (!flow || flow.transport !== 'tls' || !flow.open) return false;
    const since = flow.dest.connectionId === undefined ? undefined : this.connectionSince.get(flow.dest.connectionId);
    if (since === undefined || this.deps.now() - since < TRUSTED_RECONNECT_MIN_AGE_MS) return false;
    this.deps.log.info({ extension: l.extension, via: l.target && hopName(l.target) }, 'gateway line: challenged in trusted-server mode on an older TLS connection; trying again on a new one');
    // This line retries itself; the connection's other users see it close and register again.
    this.keeper.leave(l.extension);
    l.flow = undefined;
    flow.close();
    return true;
  }

  private record(l: Line, failure: LineFailure): void {
    l.failure = { ...failure, at: this.deps.now() };
    // Logged once per change of reason, not per retry; never the password.
    if (l.loggedCode !== failure.code) {
      l.loggedCode = failure.code;
      this.deps.log.warn({ extension: l.extension, upstreamUser: l.line.upstreamUser, code: failure.code, status: failure.status }, `gateway line ${l.extension} not registered: ${failure.text}`);
    }
    this.emit(l.extension);
  }

  /** The handshake error has no certificate: read the issuer once and say it (B-32). */
  private async nameIssuer(l: Line, t: SipTarget, f: RegisterFailure): Promise<void> {
    const read = this.deps.peerIssuer ?? ((x: SipTarget) => fetchPeerIssuer(x.address, x.port, x.host));
    const issuer = await read(t).catch(() => undefined);
    if (!issuer || l.stopped || l.failure?.code !== 'tls-trust') return;
    l.loggedCode = 'tls-trust:issuer';
    const failure = describeFailure(f, { dialled: hopName(t), host: t.host, legacyTls: this.current.legacyTls, issuer });
    l.failure = { ...failure, at: l.failure.at };
    this.deps.log.warn({ extension: l.extension, upstreamUser: l.line.upstreamUser, code: failure.code }, `gateway line ${l.extension} not registered: ${failure.text}`);
    this.emit(l.extension);
  }

  /** Fail-back: a line registered through a worse target than the best one now registers again. */
  private armFailback(): void {
    const ms = Math.max(5, this.current.blacklistTimeoutSec) * 1000;
    this.failbackTimer = this.deps.timers.schedule(ms, () => {
      this.failback();
      this.armFailback();
    });
  }

  private failback(): void {
    for (const l of this.lines.values()) {
      if (!l.registered || typeof l.plan === 'string') continue;
      const best = this.deps.hops.betterThan(l.plan.domain, l.registered.target, l.extension);
      if (best) {
        this.deps.log.info({ extension: l.extension, from: hopName(l.registered.target), to: hopName(best) }, 'gateway line: a better proxy is available again; registering there');
        l.tried = [];
        l.client?.refresh();
      }
    }
  }

  // --- GatewayLines ------------------------------------------------------------

  isGatewayUser(extension: string): boolean {
    const l = this.lines.get(extension);
    return l !== undefined && typeof l.plan !== 'string';
  }

  route(extension: string): UpstreamRoute | undefined {
    const l = this.lines.get(extension);
    if (!l || typeof l.plan === 'string' || !l.registered) return undefined;
    const plan = l.plan;
    const reg = l.registered;
    const aorUri = parseUri(plan.aor)!;
    const t = this.current.sendToCurrentRegistrar ? reg.target : l.targets[0] ?? reg.target;
    // The registration's own flow when it is the same target (a separate-ports line's connection is not pooled).
    const dest: Endpoint = sameTarget(t, reg.target) ? reg.hop.dest : { transport: t.transport, address: t.address, port: t.port };
    return {
      aor: { displayName: plan.displayName || undefined, uri: aorUri, params: new Map() },
      requestUri: (dialled) => ({ scheme: aorUri.scheme, user: dialled, host: plan.domain, params: new Map(), headers: new Map() }),
      dest,
      routes: reg.ok.serviceRoute,
      credentials: plan.credentials,
      contact: reg.hop.contact,
      secure: plan.secure,
    };
  }

  fromUpstream(req: SipRequest, inbound: Inbound): UpstreamMatch | undefined {
    const user = req.uri.user;
    if (user === undefined) return undefined;
    const candidates = this.byContactUser.get(user);
    if (!candidates) return undefined;
    const src = inbound.source;
    for (const l of candidates) {
      if (l.stopped) continue;
      const overFlow = src.connectionId !== undefined && l.flow?.dest.connectionId === src.connectionId;
      const fromTarget = l.targets.some((t) => t.address === src.address) || l.registered?.target.address === src.address;
      if (overFlow || fromTarget) return { extension: l.extension, lineUser: user };
    }
    return undefined;
  }

  lineStatus(extension: string): LineStatus | undefined {
    const l = this.lines.get(extension);
    return l && lineStatusOf(l, this.deps.handsetRegistered);
  }

  status(): GatewayStatus {
    const lines = [...this.lines.values()].sort((a, b) => (a.extension < b.extension ? -1 : a.extension > b.extension ? 1 : 0)).map((l) => lineStatusOf(l, this.deps.handsetRegistered));
    return {
      mode: this.current.mode,
      profile: this.current.profile,
      counters: {
        sipUsers: lines.length,
        subscribed: lines.filter((l) => l.subscribed).length,
        registered: lines.filter((l) => l.registration === 'registered').length,
        total: lines.length,
      },
      proxies: this.deps.hops.status(),
      lines,
    };
  }

  /** Lines registered and failed now (metrics, alarm). */
  tally(): { registered: number; failed: number; total: number } {
    return { registered: this.counts.registered, failed: this.counts.failed, total: this.lines.size };
  }

  reregister(extensions?: readonly string[]): void {
    const list = extensions ? extensions.map((e) => this.lines.get(e)).filter((l): l is Line => l !== undefined) : [...this.lines.values()];
    for (const l of list) {
      l.tried = [];
      l.client?.refresh();
    }
  }

  onChange(listener: (extension: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  touch(extension: string): void {
    const l = this.lines.get(extension);
    if (l) l.latestActivity = this.deps.now();
  }

  /** The MWI part (mwi.ts) reports its subscription of a line here, for the status views. */
  setMwi(extension: string, state: MwiSubscriptionState, messagesWaiting: boolean | null): void {
    const l = this.lines.get(extension);
    if (!l) return;
    l.mwi = state;
    l.messagesWaiting = messagesWaiting;
    this.emit(extension);
  }


  private emit(extension: string): void {
    this.recount(extension);
    for (const f of this.listeners) f(extension);
  }

  private recount(extension: string): void {
    const l = this.lines.get(extension);
    const now = l === undefined ? undefined : l.registered ? 'registered' : l.failure ? 'failed' : 'neither';
    const was = this.counted.get(extension);
    if (was === now) return;
    if (was === 'registered' || was === 'failed') this.counts[was]--;
    if (now === 'registered' || now === 'failed') this.counts[now]++;
    if (now === undefined) this.counted.delete(extension);
    else this.counted.set(extension, now);
  }
}
