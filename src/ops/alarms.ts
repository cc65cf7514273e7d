// Alarms for the System Status view and the logs (issue 5 items 5 and 6).
// Lessons from the field (SPEC KI-03, KI-16): an alarm is de-duplicated per
// source and cause (a repeat bumps its count instead of adding a row), the
// number of alarms is capped, live update events are throttled, and a
// suppression hook can hide known-noisy sources.
import type { Logger } from '../lib/log.ts';
import { silentLogger } from '../lib/log.ts';
import type { BanEvent } from '../security/auth-guard.ts';
import type { LimitKind } from '../sip/transport/budget.ts';
import type { CertWarning } from '../model/certificates.ts';
import type { ExpiryLevel } from '../security/cert-checks.ts';

export type AlarmSeverity = 'critical' | 'major' | 'minor' | 'warning';

export const ALARM_SEVERITIES: readonly AlarmSeverity[] = ['critical', 'major', 'minor', 'warning'];

export interface Alarm {
  /** Stable key: kind plus source and cause; raising it again updates this alarm. */
  readonly id: string;
  readonly kind: string;
  readonly severity: AlarmSeverity;
  readonly text: string;
  /** The address or user it concerns, when it concerns one. */
  readonly source?: string;
  /** Epoch ms of the first occurrence, and of the latest. */
  readonly since: number;
  readonly lastAt: number;
  /** Occurrences since it was raised. */
  readonly count: number;
  /** Cleared by itself at this time unless it recurs (undefined: only clear() ends it). */
  readonly clearAt?: number;
}

export interface AlarmInput {
  id: string;
  kind: string;
  severity: AlarmSeverity;
  text: string;
  source?: string;
  /** Clear this long after the latest occurrence. */
  quietMs?: number;
  /** Or at this fixed time (e.g. the end of a ban). */
  clearAt?: number;
}

export type AlarmEvent = { type: 'raised' | 'updated' | 'cleared'; alarm: Alarm };

export interface AlarmCenterOptions {
  /** Epoch ms. */
  now?: () => number;
  log?: Logger;
  /** Distinct alarms held at once (default 1000); beyond it repeats fold into one overflow alarm. */
  maxAlarms?: number;
  /** Return true to drop an alarm before it is raised (e.g. a known-noisy address or port). */
  suppress?: (input: AlarmInput) => boolean;
  /** A TLS handshake alarm clears after this long without a new failure (default 15 min). */
  tlsQuietMs?: number;
  /** Failed authentications across all sources within windowMs that raise a burst alarm (default 20 in 60 s). */
  authBurst?: { failures: number; windowMs: number };
  /** At most one 'updated' event per alarm per this interval (default 1 s). */
  updateIntervalMs?: number;
}

interface Entry {
  alarm: Alarm;
  emittedAt: number;
}

const OVERFLOW_ID = 'alarms-overflow';

/** Nearer expiry, louder alarm: 30 days a warning, 7 minor, 1 major, expired critical (TLS fails). */
const EXPIRY_SEVERITY: Record<Exclude<ExpiryLevel, 'ok'>, AlarmSeverity> = { days30: 'warning', days7: 'minor', days1: 'major', expired: 'critical' };
const MAX_TEXT = 300;

export class AlarmCenter {
  private readonly alarms = new Map<string, Entry>();
  private readonly listeners = new Set<(ev: AlarmEvent) => void>();
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly maxAlarms: number;
  private readonly tlsQuietMs: number;
  private readonly burst: { failures: number; windowMs: number };
  private readonly updateIntervalMs: number;
  /** Two-bucket sliding window of auth failures (current and previous fixed window). */
  private burstStart = 0;
  private burstCur = 0;
  private burstPrev = 0;

  constructor(private readonly opts: AlarmCenterOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? silentLogger;
    this.maxAlarms = Math.max(2, opts.maxAlarms ?? 1000);
    this.tlsQuietMs = opts.tlsQuietMs ?? 15 * 60_000;
    this.burst = opts.authBurst ?? { failures: 20, windowMs: 60_000 };
    this.updateIntervalMs = opts.updateIntervalMs ?? 1000;
  }

  /** Raises an alarm, or counts one more occurrence of an active one. Undefined when suppressed. */
  raise(input: AlarmInput): Alarm | undefined {
    if (this.opts.suppress?.(input)) return undefined;
    const now = this.now();
    const text = input.text.length > MAX_TEXT ? input.text.slice(0, MAX_TEXT) + '...' : input.text;
    const clearAt = input.clearAt ?? (input.quietMs !== undefined ? now + input.quietMs : undefined);
    const entry = this.alarms.get(input.id);
    if (entry && !expired(entry.alarm, now)) {
      const a = entry.alarm;
      entry.alarm = { ...a, severity: input.severity, text, lastAt: now, count: a.count + 1, clearAt: later(a.clearAt, clearAt) };
      if (now - entry.emittedAt >= this.updateIntervalMs) {
        entry.emittedAt = now;
        this.emit({ type: 'updated', alarm: entry.alarm });
      }
      return entry.alarm;
    }
    if (entry) this.clear(input.id, 'expired');
    if (input.id !== OVERFLOW_ID && this.alarms.size >= this.maxAlarms - 1) {
      this.sweep();
      if (this.alarms.size >= this.maxAlarms - 1) {
        this.raise({ id: OVERFLOW_ID, kind: 'alarms', severity: 'warning', text: `more than ${this.maxAlarms - 1} distinct alarms; further ones are only counted here` });
        return undefined;
      }
    }
    const alarm: Alarm = { id: input.id, kind: input.kind, severity: input.severity, text, since: now, lastAt: now, count: 1 };
    if (input.source !== undefined) (alarm as { source?: string }).source = input.source;
    if (clearAt !== undefined) (alarm as { clearAt?: number }).clearAt = clearAt;
    this.alarms.set(input.id, { alarm, emittedAt: now });
    const line = { kind: 'alarm', alarm: { id: alarm.id, severity: alarm.severity, source: alarm.source, text: alarm.text } };
    if (alarm.severity === 'critical') this.log.error(line, 'alarm raised');
    else this.log.warn(line, 'alarm raised');
    this.emit({ type: 'raised', alarm });
    return alarm;
  }

  /** True when an active alarm was cleared. */
  clear(id: string, reason = 'cleared'): boolean {
    const entry = this.alarms.get(id);
    if (!entry) return false;
    this.alarms.delete(id);
    const a = entry.alarm;
    this.log.info({ kind: 'alarm', alarm: { id: a.id, severity: a.severity, count: a.count }, reason }, 'alarm cleared');
    this.emit({ type: 'cleared', alarm: a });
    return true;
  }

  /** Clears alarms whose time has passed; returns how many. The server calls this every few seconds. */
  sweep(): number {
    const now = this.now();
    let n = 0;
    for (const [id, e] of [...this.alarms]) {
      if (expired(e.alarm, now) && this.clear(id, 'expired')) n++;
    }
    return n;
  }

  /** Active alarms, most severe first, then newest first. */
  list(): Alarm[] {
    this.sweep();
    return [...this.alarms.values()]
      .map((e) => e.alarm)
      .sort((a, b) => ALARM_SEVERITIES.indexOf(a.severity) - ALARM_SEVERITIES.indexOf(b.severity) || b.lastAt - a.lastAt);
  }

  get(id: string): Alarm | undefined {
    const e = this.alarms.get(id);
    return e && !expired(e.alarm, this.now()) ? e.alarm : undefined;
  }

  /** Active alarms by severity (for metrics); does not sweep. */
  counts(): Record<AlarmSeverity, number> {
    const now = this.now();
    const out: Record<AlarmSeverity, number> = { critical: 0, major: 0, minor: 0, warning: 0 };
    for (const e of this.alarms.values()) if (!expired(e.alarm, now)) out[e.alarm.severity]++;
    return out;
  }

  /** Live updates (WebSocket feed); returns the unsubscribe function. */
  onEvent(listener: (ev: AlarmEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(ev: AlarmEvent): void {
    for (const l of this.listeners) {
      try {
        l(ev);
      } catch (err) {
        this.log.error({ err }, 'alarm listener failed');
      }
    }
  }

  // --- feeds --------------------------------------------------------------

  /** A failed inbound TLS handshake; one alarm per source address and cause. */
  tlsHandshakeFailed(source: string, detail: string): void {
    const cause = /\[([A-Z0-9_]+)\]/.exec(detail)?.[1] ?? 'other';
    this.raise({
      id: `tls-handshake:${source}:${cause}`,
      kind: 'tls-handshake',
      severity: 'minor',
      source,
      text: `TLS handshake failed from ${source}: ${detail}`,
      quietMs: this.tlsQuietMs,
    });
  }

  /** One failed digest verification (AuthGuard onFailure); raises a burst alarm past the threshold. O(1). */
  authFailed(ip: string, username: string): void {
    const now = this.now();
    const w = this.burst.windowMs;
    if (now - this.burstStart >= w) {
      const periods = Math.floor((now - this.burstStart) / w);
      this.burstPrev = periods === 1 ? this.burstCur : 0;
      this.burstCur = 0;
      this.burstStart = periods === 1 ? this.burstStart + w : now;
    }
    this.burstCur++;
    const active = this.alarms.get('auth-failure-burst');
    const estimate = this.burstPrev * (1 - Math.min(1, (now - this.burstStart) / w)) + this.burstCur;
    if (!active && estimate < this.burst.failures) return;
    this.raise({
      id: 'auth-failure-burst',
      kind: 'auth-failure-burst',
      severity: 'major',
      source: ip,
      text: `${Math.round(estimate)} failed SIP authentications in ${Math.round(w / 1000)} s (latest from ${ip} as "${username.slice(0, 64)}")`,
      quietMs: w * 5,
    });
  }

  /** A temporary ban by the auth guard; clears when the ban ends. */
  banned(ban: BanEvent): void {
    const who = [ban.ip, ban.username === undefined ? undefined : `"${ban.username.slice(0, 64)}"`].filter((x) => x !== undefined).join(' as ');
    this.raise({
      id: `auth-ban:${ban.scope}:${ban.ip ?? ''}:${ban.username ?? ''}`,
      kind: 'auth-ban',
      severity: ban.scope === 'pair' ? 'minor' : 'major',
      source: ban.ip ?? ban.username,
      text: `${ban.scope === 'pair' ? 'address and user' : ban.scope === 'ip' ? 'address' : 'user'} ${who} banned for ${ban.banSec} s after ${ban.failures} failed authentications` +
        // A renewed user ban keeps the user's new addresses out: say since when, so the operator can lift it.
        (ban.renewals ? ` (renewed ${ban.renewals} times since ${new Date(ban.attackSinceMs ?? 0).toISOString()}; only allow-listed addresses get in)` : ''),
      clearAt: ban.untilMs,
    });
  }

  /**
   * A SIP connection limit was hit (refused, evicted, deadline, keep-alive
   * flood): one alarm per kind, whatever the sources; it clears after five
   * quiet minutes. Refusals and evictions mean legitimate devices may not get in.
   */
  connectionLimit(kind: LimitKind, detail: string): void {
    this.raise({
      id: `connection-limit:${kind}`,
      kind: 'connection-limit',
      severity: kind === 'budget-full' || kind === 'evicted' ? 'major' : 'minor',
      text: `SIP connection limit (${kind}): ${detail}`,
      quietMs: 5 * 60_000,
    });
  }

  /** Registrations could not be written to the database (they are kept in memory and retried). */
  writeBehindFailed(err: Error): void {
    this.raise({ id: 'store-write-behind', kind: 'store', severity: 'critical', text: err.message });
  }

  /** A link to another node stopped answering: calls to that node's phones fail until they register elsewhere. */
  peerLinkDown(peer: string, node: string | null, reason: string): void {
    this.raise({ id: `peer-link:${peer}`, kind: 'peer-link', severity: 'major', source: peer, text: `link to node ${node ?? peer} down: ${reason}` });
  }

  peerLinkUp(peer: string): void {
    if (this.alarms.has(`peer-link:${peer}`)) this.clear(`peer-link:${peer}`, 'link up');
  }

  /**
   * A trunk's state changed (src/pbx/trunks/trunk-health.ts): down (no answer
   * to its OPTIONS: calls to it fail at once) and a refused registration each
   * raise an alarm; any other state clears whichever was raised.
   */
  trunkState(trunk: string, state: string, reason: string): void {
    const down = `trunk-down:${trunk}`;
    const refused = `trunk-refused:${trunk}`;
    if (state !== 'down' && this.alarms.has(down)) this.clear(down, `trunk ${state}`);
    if (state !== 'refused' && this.alarms.has(refused)) this.clear(refused, `trunk ${state}`);
    if (state === 'down') {
      this.raise({ id: down, kind: 'trunk-down', severity: 'major', source: trunk, text: `trunk ${trunk} down: ${reason}; calls to it are refused with 503` });
    } else if (state === 'refused') {
      this.raise({ id: refused, kind: 'trunk-refused', severity: 'major', source: trunk, text: `trunk ${trunk} refused its registration: ${reason}` });
    }
  }

  /**
   * The certificate checks (src/ops/cert-watch.ts): one alarm per
   * certificate for its expiry level (30/7/1 days, expired) and one for a
   * clock outside its validity (EC-12, B-23); what the checks no longer
   * report is cleared (a renewed identity, a corrected clock).
   */
  certificateChecks(warnings: readonly CertWarning[]): void {
    const raised = new Set<string>();
    for (const w of warnings) {
      if (w.kind !== 'expiry' && w.kind !== 'clock') continue;
      const id = `certificate-${w.kind}:${w.subject}`;
      raised.add(id);
      const severity = w.kind === 'clock' ? 'major' : EXPIRY_SEVERITY[w.level as Exclude<ExpiryLevel, 'ok'>] ?? 'warning';
      const active = this.alarms.get(id)?.alarm;
      // A new level (7 days after 30) is a new alarm, not one more occurrence of the old one.
      if (active && active.severity !== severity) this.clear(id, 'level changed');
      this.raise({ id, kind: `certificate-${w.kind}`, severity, source: w.subject, text: w.text });
    }
    for (const id of [...this.alarms.keys()]) {
      if ((id.startsWith('certificate-expiry:') || id.startsWith('certificate-clock:')) && !raised.has(id)) this.clear(id, 'certificate checks pass');
    }
  }

  /** The write-behind queue drained: clears the failure alarm. */
  writeBehindRecovered(): void {
    if (this.alarms.has('store-write-behind')) this.clear('store-write-behind', 'writes go through again');
  }
}

function expired(a: Alarm, now: number): boolean {
  return a.clearAt !== undefined && a.clearAt <= now;
}

function later(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined || b === undefined) return undefined;
  return Math.max(a, b);
}
