// Trunk health: every enabled trunk, registering or not, is asked OPTIONS
// (RFC 3261 §11) on a period; any answer at all, 405 and 404 included, shows
// the far end alive, and a run of unanswered probes (or transport errors)
// makes it down. Each trunk's one state joins that with its registration
// (registering, registered, refused with status and reason), with the time
// it began and the last round trip. Transitions raise and clear alarms and
// tell routing which trunks not to send calls to.
import type { Logger } from '../../lib/log.ts';
import type { TimerHandle, TimerQueue } from '../../lib/timer-queue.ts';
import type { Endpoint } from '../../sip/message.ts';
import type { UacTransport } from '../../sip/ua/uac.ts';
import { sendUacRequest } from '../../sip/ua/uac.ts';
import { optionsRequest } from '../../sip/ua/options.ts';
import { generateCallId, generateTag } from '../../sip/ids.ts';
import { newVia } from '../../sip/dialog.ts';
import { bracketHost } from '../../lib/net.ts';
import type { TrunkHealthConfig } from '../../config/trunk-health.ts';
import type { TrunkEntry } from './trunk-table.ts';
import type { TrunkRegistrationStatus } from './trunk-registration.ts';

/** What the far end's OPTIONS answers say: not asked yet, answering, or down. */
export type Reachability = 'unknown' | 'up' | 'down';

/** One state per trunk, as status shows it. */
export type TrunkState = 'unknown' | 'up' | 'down' | 'registering' | 'registered' | 'refused';

export interface TrunkHealthStatus {
  trunk: string;
  state: TrunkState;
  /** Why it is down, refused or still registering ('' otherwise). */
  reason: string;
  /** Epoch ms the state began. */
  since: number;
  reachable: Reachability;
  /** Round trip of the last answered OPTIONS, ms. */
  rttMs: number | null;
  /** Status of the last answer to a probe (0: none yet). */
  probeStatus: number;
  /** The registration's state when the trunk registers, else null. */
  registration: TrunkRegistrationStatus['state'] | null;
  /** Last final status to a REGISTER (0: timeout, transport error or none). */
  lastStatus: number;
  /** When the registration runs out, epoch ms. */
  expiresAt?: number;
}

/** What trunk health reports besides its status (alarms, the other workers' routing). */
export interface TrunkHealthHooks {
  /** A trunk's state changed (not called for RTT-only changes); `was` is undefined for a trunk just added. */
  onTransition?(status: Readonly<TrunkHealthStatus>, was: TrunkState | undefined): void;
  /** A trunk went away (removed or disabled): what it raised ends. */
  onRemoved?(trunk: string): void;
  /** The set of trunks known down changed. */
  onDownSet?(down: readonly string[]): void;
  /** Any change of a trunk's status (RTT included): the live feed. */
  onChange?(status: Readonly<TrunkHealthStatus>): void;
}

export interface TrunkHealthDeps extends TrunkHealthHooks {
  config: TrunkHealthConfig;
  transactions: UacTransport;
  timers: TimerQueue;
  log: Logger;
  now(): number;
  /** Our SIP domain: the From of the probes. */
  domain: string;
  localEndpoint(transport: Endpoint['transport']): { address: string; port: number } | undefined;
  /** The trunks' registrations now (TrunkRegistrar.status()). */
  registrations(): readonly TrunkRegistrationStatus[];
}

/** The OPTIONS probing of one trunk. */
class Probe {
  reach: Reachability = 'unknown';
  reason = '';
  rttMs: number | null = null;
  probeStatus = 0;
  /** Probes in a row that went unanswered. */
  private misses = 0;
  private timer: TimerHandle | undefined;
  private readonly callId = generateCallId();
  private readonly tag = generateTag();
  private cseq = 0;
  private stopped = false;

  constructor(
    readonly entry: TrunkEntry,
    private readonly deps: TrunkHealthDeps,
    private readonly changed: () => void,
  ) {}

  /** Same trunk settings: the running probe carries on. */
  sameAs(e: TrunkEntry): boolean {
    const a = this.entry.trunk;
    const b = e.trunk;
    return a.host === b.host && a.port === b.port && a.transport === b.transport && a.outboundProxy === b.outboundProxy &&
      a.probeIntervalSec === b.probeIntervalSec && this.entry.dest?.address === e.dest?.address && this.entry.dest?.port === e.dest?.port;
  }

  start(): void {
    this.probe();
  }

  stop(): void {
    this.stopped = true;
    this.deps.timers.cancel(this.timer);
  }

  private schedule(sec: number): void {
    this.deps.timers.cancel(this.timer);
    this.timer = this.deps.timers.schedule(sec * 1000, () => this.probe());
  }

  /**
   * One probe at a time: an answer schedules the next after the trunk's
   * probeIntervalSec (else the system's intervalSec); a
   * probe unanswered within retrySec (its transaction's timeout) is a miss
   * and the next goes at once, so down is known downAfter * retrySec after
   * the first unanswered probe, and a down trunk is asked every retrySec.
   */
  private probe(): void {
    this.deps.timers.cancel(this.timer);
    this.timer = undefined;
    const c = this.deps.config;
    const t = this.entry.trunk;
    const dest = this.entry.dest;
    const local = dest && this.deps.localEndpoint(dest.transport);
    if (!dest || !local) {
      this.set('down', dest ? `${dest.transport.toUpperCase()} is not enabled here` : 'trunk host does not resolve');
      this.schedule(c.retrySec);
      return;
    }
    const uri = { scheme: 'sip', host: bracketHost(t.host), port: t.port, params: new Map<string, string | null>(t.transport === 'udp' ? [] : [['transport', t.transport]]), headers: new Map() };
    const req = optionsRequest({
      uri, fromUser: 'switchboard', domain: this.deps.domain, tag: this.tag, callId: this.callId, cseq: ++this.cseq,
      via: newVia(dest.transport, local),
      headers: t.outboundProxy ? [{ name: 'route', value: `<sip:${t.outboundProxy};lr>` }] : [],
    });
    const sent = this.deps.now();
    sendUacRequest(req, {
      transactions: this.deps.transactions,
      dest,
      timeoutMs: c.retrySec * 1000,
      onFinal: (res) => {
        if (this.stopped) return;
        // Any answer, a 404/405/5xx too, shows the far end alive (RFC 3261 §11).
        this.misses = 0;
        this.rttMs = this.deps.now() - sent;
        this.probeStatus = res.status;
        this.schedule(t.probeIntervalSec ?? c.intervalSec);
        this.set('up', '');
      },
      onFailure: (kind, _uac, err) => {
        if (this.stopped) return;
        this.missed(kind === 'timeout' ? 'no answer to OPTIONS' : `transport error: ${err?.message ?? 'unknown'}`);
        // A timeout already waited retrySec; a transport error comes at once and waits before the next try.
        if (kind === 'timeout') this.probe();
        else this.schedule(c.retrySec);
      },
    });
  }

  private missed(reason: string): void {
    this.misses++;
    const n = this.deps.config.downAfter;
    if (this.misses >= n) this.set('down', n > 1 ? `${reason} (${n} in a row)` : reason);
  }

  private set(reach: Reachability, reason: string): void {
    // An answer always reports (its round trip is news); the same miss again is not.
    if (this.reach === reach && this.reason === reason && reach !== 'up') return;
    this.reach = reach;
    this.reason = reason;
    this.changed();
  }
}

/** Probes every enabled trunk and keeps each one's state. */
export class TrunkHealth {
  private readonly probes = new Map<string, Probe>();
  private readonly states = new Map<string, TrunkHealthStatus>();
  private entries: readonly TrunkEntry[] = [];
  private downKey = '';
  /** Transitions into down and refused since start, per trunk (metrics). */
  readonly failures = new Map<string, { down: number; refused: number }>();

  constructor(private readonly deps: TrunkHealthDeps) {}

  /** Reconciles with the current trunk list (every trunk table reload). */
  sync(entries: readonly TrunkEntry[]): void {
    this.entries = entries.filter((e) => e.trunk.enabled);
    const wanted = new Map(this.entries.map((e) => [e.trunk.name, e]));
    for (const [name, p] of this.probes) {
      const e = wanted.get(name);
      if (e && p.sameAs(e)) continue;
      p.stop();
      this.probes.delete(name);
    }
    for (const name of [...this.states.keys()]) {
      if (wanted.has(name)) continue;
      this.states.delete(name);
      this.deps.onRemoved?.(name);
    }
    for (const [name, e] of wanted) {
      if (!probed(e, this.deps.config) || this.probes.has(name)) continue;
      const p = new Probe(e, this.deps, () => this.refresh(name));
      this.probes.set(name, p);
      p.start();
    }
    this.registrationsChanged();
    // A removed trunk leaves the down set too (a new one of that name starts afresh).
    this.publishDown();
  }

  /** The registrar's news (a registration answered or failed): states follow. */
  registrationsChanged(): void {
    for (const e of this.entries) this.refresh(e.trunk.name);
  }

  /** Every enabled trunk's state now. */
  status(): TrunkHealthStatus[] {
    return this.entries.map((e) => this.states.get(e.trunk.name)).filter((s): s is TrunkHealthStatus => s !== undefined).map((s) => ({ ...s }));
  }

  /** Names of the trunks known down: calls are not sent to them. */
  down(): string[] {
    return [...this.states.values()].filter((s) => s.state === 'down').map((s) => s.trunk);
  }

  stop(): void {
    for (const p of this.probes.values()) p.stop();
    this.probes.clear();
  }

  private refresh(name: string): void {
    const probe = this.probes.get(name);
    const reg = this.deps.registrations().find((r) => r.trunk === name);
    const entry = this.entries.find((e) => e.trunk.name === name);
    const { state, reason } = combine(probe, reg, entry !== undefined && probed(entry, this.deps.config));
    const was = this.states.get(name);
    const now = this.deps.now();
    const next: TrunkHealthStatus = {
      trunk: name,
      state,
      reason,
      since: was && was.state === state ? was.since : now,
      reachable: probe?.reach ?? 'unknown',
      rttMs: probe?.rttMs ?? null,
      probeStatus: probe?.probeStatus ?? 0,
      registration: reg?.state ?? null,
      lastStatus: reg?.lastStatus ?? 0,
      ...(reg?.expiresAt !== undefined ? { expiresAt: reg.expiresAt } : {}),
    };
    if (was && sameStatus(was, next)) return;
    this.states.set(name, next);
    if (was?.state !== state) {
      if (state === 'down' || state === 'refused') {
        const f = this.failures.get(name) ?? { down: 0, refused: 0 };
        f[state]++;
        this.failures.set(name, f);
      }
      const line = { trunk: name, state, was: was?.state, reason: reason || undefined, rttMs: next.rttMs ?? undefined };
      if (state === 'down' || state === 'refused') this.deps.log.warn(line, `trunk ${state}`);
      else if (was !== undefined) this.deps.log.info(line, `trunk ${state}`);
      this.deps.onTransition?.(next, was?.state);
      this.publishDown();
    }
    this.deps.onChange?.(next);
  }

  private publishDown(): void {
    const down = this.down().sort();
    const key = down.join('\n');
    if (key === this.downKey) return;
    this.downKey = key;
    this.deps.onDownSet?.(down);
  }
}

/** One state from the probes and the registration: down first (nothing works), then what the registration says. */
/** Probing is on for the system and not off (0) for this trunk. */
function probed(e: TrunkEntry, config: TrunkHealthConfig): boolean {
  return config.enabled && e.trunk.probeIntervalSec !== 0;
}

function combine(probe: Probe | undefined, reg: TrunkRegistrationStatus | undefined, probing: boolean): { state: TrunkState; reason: string } {
  if (probe?.reach === 'down') return { state: 'down', reason: probe.reason };
  if (reg) {
    if (reg.state === 'registered') return { state: 'registered', reason: '' };
    // A final answer of 300 or more (after the digest retry) is the trunk saying no; no answer at all is still trying.
    if (reg.state === 'failed' && reg.lastStatus >= 300) return { state: 'refused', reason: reg.reason };
    return { state: 'registering', reason: reg.reason };
  }
  if (probe?.reach === 'up') return { state: 'up', reason: '' };
  return { state: 'unknown', reason: probing ? 'not answered yet' : 'not probed (off for this trunk or trunkHealth.enabled off)' };
}

function sameStatus(a: TrunkHealthStatus, b: TrunkHealthStatus): boolean {
  return a.state === b.state && a.reason === b.reason && a.since === b.since && a.reachable === b.reachable && a.rttMs === b.rttMs &&
    a.probeStatus === b.probeStatus && a.registration === b.registration && a.lastStatus === b.lastStatus && a.expiresAt === b.expiresAt;
}
