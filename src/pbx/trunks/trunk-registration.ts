// Registration of Switchboard to the trunks that want it (an ITSP or an
// upstream call server): one REGISTER client (src/sip/ua/register-client.ts)
// per trunk with credentials, retrying after failures, and following the
// trunk table as trunks come and go.
import type { Endpoint } from '../../sip/message.ts';
import type { Logger } from '../../lib/log.ts';
import type { TimerQueue } from '../../lib/timer-queue.ts';
import type { UacTransport } from '../../sip/ua/uac.ts';
import { createRegisterClient } from '../../sip/ua/register-client.ts';
import type { RegisterClient, RegisterFailure, RegisterHop, RegisterSuccess } from '../../sip/ua/register-client.ts';
import type { TrunkEntry } from './trunk-table.ts';

export type TrunkRegistrationState = 'registering' | 'registered' | 'failed';

export interface TrunkRegistrationStatus {
  trunk: string;
  state: TrunkRegistrationState;
  /** Last final status from the trunk (0 for a timeout or transport error). */
  lastStatus: number;
  /** Epoch ms the registration runs out, when registered. */
  expiresAt: number | undefined;
  reason: string;
}

export interface TrunkRegistrarDeps {
  transactions: UacTransport;
  timers: TimerQueue;
  log: Logger;
  now(): number;
  localEndpoint(transport: Endpoint['transport']): { address: string; port: number } | undefined;
  /** Seconds asked for (the trunk may grant less). */
  expiresSec?: number;
  /** Seconds before retrying after a failure. */
  retrySec?: number;
}

class Registration {
  status: TrunkRegistrationStatus;
  private readonly client: RegisterClient;
  private stopped = false;

  constructor(
    readonly entry: TrunkEntry,
    private readonly deps: TrunkRegistrarDeps,
    private readonly changed: () => void,
  ) {
    this.status = { trunk: entry.trunk.name, state: 'registering', lastStatus: 0, expiresAt: undefined, reason: '' };
    const t = entry.trunk;
    const user = t.registerUser!;
    const host = t.host.includes(':') ? `[${t.host}]` : t.host;
    const aor = { uri: { scheme: 'sip', user, host, params: new Map(), headers: new Map() }, params: new Map() };
    const port = t.port === (t.transport === 'tls' ? 5061 : 5060) ? undefined : t.port;
    this.client = createRegisterClient({
      transactions: deps.transactions,
      timers: deps.timers,
      now: deps.now,
      aor,
      requestUri: { scheme: 'sip', host, port, params: new Map(), headers: new Map() },
      nextHop: () => this.hop(user),
      credentials: { username: user, password: t.registerPassword! },
      expiresSec: deps.expiresSec ?? 3600,
      retryAfterMs: () => (deps.retrySec ?? 30) * 1000,
      onRegistered: (ok) => this.registered(ok),
      onFailed: (f) => this.fail(f),
    });
  }

  /** Same trunk settings: the running registration can carry on. */
  sameAs(e: TrunkEntry): boolean {
    const a = this.entry.trunk;
    const b = e.trunk;
    return a.host === b.host && a.port === b.port && a.transport === b.transport && a.registerUser === b.registerUser &&
      a.registerPassword === b.registerPassword && a.outboundProxy === b.outboundProxy && this.entry.dest?.address === e.dest?.address;
  }

  start(): void {
    this.client.start();
  }

  /** Unregisters (expires=0) and stops. */
  stop(): void {
    this.stopped = true;
    void this.client.stop(this.status.state === 'registered');
  }

  /** Where the trunk is and our Contact towards it; undefined (see noHopReason) when it cannot be reached now. */
  private hop(user: string): RegisterHop | undefined {
    const dest = this.entry.dest;
    const local = dest ? this.deps.localEndpoint(dest.transport) : undefined;
    if (!dest || !local) return undefined;
    const params = new Map<string, string | null>();
    if (dest.transport !== 'udp') params.set('transport', dest.transport);
    const lhost = local.address.includes(':') ? `[${local.address}]` : local.address;
    const proxy = this.entry.trunk.outboundProxy;
    return {
      dest,
      contact: { scheme: 'sip', user, host: lhost, port: local.port, params, headers: new Map() },
      routes: proxy ? [`<sip:${proxy};lr>`] : [],
    };
  }

  private noHopReason(): string {
    const dest = this.entry.dest;
    return dest ? `${dest.transport.toUpperCase()} is not enabled here` : 'trunk host does not resolve';
  }

  private registered(ok: RegisterSuccess): void {
    const granted = Math.round((ok.expiresAt - this.deps.now()) / 1000);
    this.status = { trunk: this.entry.trunk.name, state: 'registered', lastStatus: ok.response.status, expiresAt: ok.expiresAt, reason: '' };
    this.deps.log.info({ trunk: this.entry.trunk.name, expires: granted }, 'trunk registered');
    this.changed();
  }

  private fail(f: RegisterFailure): void {
    if (this.stopped) return;
    const reason = f.kind === 'response' ? f.reason
      : f.kind === 'timeout' ? 'no answer from the trunk'
      : f.kind === 'no-hop' ? this.noHopReason()
      : (f.error?.message ?? 'transport error');
    const before = this.status.state;
    this.status = { trunk: this.entry.trunk.name, state: 'failed', lastStatus: f.status, expiresAt: undefined, reason };
    if (before !== 'failed') this.deps.log.warn({ trunk: this.entry.trunk.name, reason }, 'trunk registration failed');
    this.changed();
  }
}

/** Keeps one Registration per trunk that has credentials. */
export class TrunkRegistrar {
  private readonly regs = new Map<string, Registration>();
  /** A registration answered or failed (trunk health follows). */
  onChange?: () => void;

  constructor(private readonly deps: TrunkRegistrarDeps) {}

  /** Reconciles with the current trunk list (called on every trunk table reload). */
  sync(entries: readonly TrunkEntry[]): void {
    const wanted = new Map<string, TrunkEntry>();
    for (const e of entries) if (e.trunk.enabled && e.trunk.registerUser && e.trunk.registerPassword) wanted.set(e.trunk.name, e);
    for (const [name, reg] of this.regs) {
      const e = wanted.get(name);
      if (e && reg.sameAs(e)) continue;
      reg.stop();
      this.regs.delete(name);
    }
    for (const [name, e] of wanted) {
      if (this.regs.has(name)) continue;
      const reg = new Registration(e, this.deps, () => this.onChange?.());
      this.regs.set(name, reg);
      reg.start();
    }
  }

  status(): TrunkRegistrationStatus[] {
    return [...this.regs.values()].map((r) => ({ ...r.status }));
  }

  stop(): void {
    for (const r of this.regs.values()) r.stop();
    this.regs.clear();
  }
}
