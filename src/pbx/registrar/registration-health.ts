// What this worker saw of each user's attempts to register (issue 12 item 1):
// the last refusal with its reason, a few recent ones, and when the user was
// last seen (a request authenticated as the user). Memory is bounded: entries
// exist only for users of the directory (capped in count), a handful per
// user; names nobody has (an attacker can invent any number) and failed TLS
// handshakes, which name nobody, share one small global ring.
import type { Endpoint, SipRequest } from '../../sip/message.ts';
import { getHeader } from '../../sip/headers.ts';
import { detachString } from '../../sip/syntax.ts';
import { failureText } from '../../model/extension-detail.ts';
import type { FailureReason, LastSeen, RegistrationFailure } from '../../model/extension-detail.ts';

export interface HealthOptions {
  /** Recent failures kept per user (the last one included). Default 5. */
  perUser?: number;
  /** Failures of unknown names and TLS handshakes kept. Default 50. */
  strangers?: number;
  /** Users with an entry at most (oldest dropped first). Default 1 000 000. */
  maxUsers?: number;
}

/** What one worker knows of one user; every worker answers with its own and the management worker merges. */
export interface UserHealth {
  failures: RegistrationFailure[];
  lastSeen: LastSeen | null;
}

/** A refusal to record: who, why, and from where. */
export interface Refusal {
  reason: FailureReason;
  /** The extension, when the name belongs to a user; undefined for unknown names. */
  extension: string | undefined;
  /** The name the request used. */
  user: string | null;
  source: Endpoint;
  req?: SipRequest;
  until?: number;
  detail?: string;
}

/** Refusals of one kind from one source closer together than this are recorded once. */
const REPEAT_MS = 1000;

function makeRoom<K, V>(m: Map<K, V>, max: number): void {
  if (m.size < max) return;
  const first = m.keys().next();
  if (!first.done) m.delete(first.value);
}

export class RegistrationHealth {
  private readonly failures = new Map<string, RegistrationFailure[]>();
  private readonly seen = new Map<string, LastSeen>();
  private readonly strangers: RegistrationFailure[] = [];
  private readonly perUser: number;
  private readonly strangerMax: number;
  private readonly maxUsers: number;

  constructor(private readonly now: () => number, opts: HealthOptions = {}) {
    this.perUser = opts.perUser ?? 5;
    this.strangerMax = opts.strangers ?? 50;
    this.maxUsers = opts.maxUsers ?? 1_000_000;
  }

  refused(r: Refusal): void {
    const now = this.now();
    const list = r.extension === undefined ? this.strangers : this.failures.get(r.extension);
    // A flood (a phone retrying, requests during a ban) is one refusal a second per source, not one per packet.
    const newest = list?.[0];
    if (newest !== undefined && now - newest.at < REPEAT_MS && newest.reason === r.reason && newest.port === r.source.port && newest.address === r.source.address) return;
    const ua = r.req === undefined ? undefined : getHeader(r.req, 'user-agent');
    const until = r.until ?? null;
    const f: RegistrationFailure = {
      at: now,
      reason: r.reason,
      text: failureText({ reason: r.reason, until, address: r.source.address, detail: r.detail }),
      until,
      method: r.req?.method ?? 'TLS',
      address: r.source.address,
      port: r.source.port,
      transport: r.source.transport,
      // Kept past the request: a copy, not a slice of the packet (see detachString).
      userAgent: ua === undefined ? null : detachString(ua.slice(0, 200)),
      user: r.user === null ? null : detachString(r.user.slice(0, 64)),
    };
    if (r.extension === undefined) {
      this.strangers.unshift(f);
      if (this.strangers.length > this.strangerMax) this.strangers.pop();
      return;
    }
    let mine = list;
    if (mine === undefined) {
      makeRoom(this.failures, this.maxUsers);
      mine = [];
      this.failures.set(r.extension, mine);
    }
    mine.unshift(f);
    if (mine.length > this.perUser) mine.pop();
  }

  /** A request authenticated as the user: refreshed in place, no allocation per REGISTER. */
  authenticated(extension: string, method: string, source: Endpoint): void {
    const s = this.seen.get(extension);
    if (s !== undefined) {
      s.at = this.now();
      s.method = method;
      s.address = source.address;
      s.port = source.port;
      s.transport = source.transport;
      return;
    }
    makeRoom(this.seen, this.maxUsers);
    this.seen.set(extension, { at: this.now(), method, address: source.address, port: source.port, transport: source.transport });
  }

  /** A user removed: what we kept of it goes too. */
  forget(extension: string): void {
    this.failures.delete(extension);
    this.seen.delete(extension);
  }

  user(extension: string): UserHealth {
    return { failures: [...(this.failures.get(extension) ?? [])], lastSeen: this.seen.get(extension) ?? null };
  }

  /** Unknown names and TLS handshakes, newest first. */
  strangerFailures(): RegistrationFailure[] {
    return [...this.strangers];
  }

  /**
   * Every user's last failure and last-seen time, for the status list:
   * [extension, last failure or null, last seen or null]. Users with no
   * failure are left out where `seenElsewhere` says their last sighting is
   * known otherwise (a registered phone's last REGISTER is in its binding):
   * with 100,000 registered phones the answer stays small.
   */
  summary(seenElsewhere: (extension: string) => boolean = () => false): Array<[string, RegistrationFailure | null, number | null]> {
    const out: Array<[string, RegistrationFailure | null, number | null]> = [];
    for (const [ext, list] of this.failures) out.push([ext, list[0] ?? null, this.seen.get(ext)?.at ?? null]);
    for (const [ext, s] of this.seen) if (!this.failures.has(ext) && !seenElsewhere(ext)) out.push([ext, null, s.at]);
    return out;
  }
}

/** Several workers' views of one user as one: failures newest first (at most `keep`), the latest sighting. */
export function mergeHealth(parts: readonly UserHealth[], keep = 10): UserHealth {
  const failures = parts.flatMap((p) => p.failures).sort((a, b) => b.at - a.at).slice(0, keep);
  let lastSeen: LastSeen | null = null;
  for (const p of parts) if (p.lastSeen && (!lastSeen || p.lastSeen.at > lastSeen.at)) lastSeen = p.lastSeen;
  return { failures, lastSeen };
}
