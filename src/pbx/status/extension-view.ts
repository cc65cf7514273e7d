// One extension's detail and the status list of every extension (issue 12
// item 1), on the management worker: registrations from its own location
// index (every worker holds every binding), and what only each worker knows
// (refusals, probes, calls: extension-report.ts) asked of all of them; and
// the conference rooms open in each worker's media server, asked the same way.
import type { CdrRepository, VoicemailRepository } from '../../store/types.ts';
import type { Directory } from '../directory/directory.ts';
import type { LocationService } from '../registrar/location.ts';
import { mergeHealth } from '../registrar/registration-health.ts';
import type { AllReport, ConferenceReport, HealthQuery, UserReport } from './extension-report.ts';
import type { ActiveConference } from '../../model/status.ts';
import type { ExtensionState, StatusService } from './status.ts';
import type {
  ExtensionDetail, ExtensionList, ExtensionRow, ListState, ProbeState, RegistrationFailure,
} from '../../model/extension-detail.ts';
import { LIST_STATES } from '../../model/extension-detail.ts';

export interface ExtensionViewDeps {
  directory: Pick<Directory, 'byExtension' | 'extensions' | 'summary'>;
  location: Pick<LocationService, 'lookup' | 'isRegistered'>;
  status: Pick<StatusService, 'extension'>;
  cdrs: Pick<CdrRepository, 'list'>;
  voicemail: Pick<VoicemailRepository, 'counts'>;
  aorFor(extension: string): string;
  /** Every worker's answer (this worker's alone when there is one). */
  gather<T>(q: HealthQuery): Promise<T[]>;
  now(): number;
}

export interface ListQuery {
  state?: ListState;
  q?: string;
  sort: 'extension' | 'name' | 'state' | 'lastSeen' | 'lastFailure';
  desc: boolean;
  offset: number;
  limit: number;
}

const RECENT_CALLS = 10;
const UNKNOWN: ProbeState = { state: 'unknown', lastProbeAt: null, rttMs: null, since: null };
/** Busiest first when sorted by state. */
const STATE_RANK: Record<ListState, number> = { 'in-call': 0, unreachable: 1, failed: 2, registered: 3, unregistered: 4 };

export class ExtensionView {
  constructor(private readonly deps: ExtensionViewDeps) {}

  /** Undefined for an extension nobody has. */
  async detail(extension: string): Promise<ExtensionDetail | undefined> {
    const d = this.deps;
    const user = d.directory.byExtension(extension);
    if (!user) return undefined;
    const [reports, cdrs, messages] = await Promise.all([
      d.gather<UserReport>({ kind: 'user', extension }),
      d.cdrs.list({ extension, limit: RECENT_CALLS }),
      d.voicemail.counts(extension),
    ]);
    const now = d.now();
    const bindings = d.location.lookup(d.aorFor(extension)).filter((b) => b.expiresAt > now);
    const probes = new Map<string, ProbeState>();
    for (const r of reports) for (const [contact, p] of r.probes) if (p.state !== 'unknown' || !probes.has(contact)) probes.set(contact, p);
    const health = mergeHealth(reports.map((r) => r.health));
    const addresses = new Set<string>([
      ...bindings.map((b) => b.sourceAddress),
      ...health.failures.map((f) => f.address),
      ...(health.lastSeen ? [health.lastSeen.address] : []),
    ]);
    const tls = new Map<string, RegistrationFailure>();
    for (const r of reports) for (const f of r.strangers) if (f.reason === 'tls' && addresses.has(f.address)) tls.set(`${f.at} ${f.address} ${f.port}`, f);
    let state: ExtensionState = 'idle';
    for (const r of reports) if (r.state === 'connected' || (r.state === 'ringing' && state === 'idle')) state = r.state;
    return {
      extension,
      name: user.name,
      enabled: user.enabled,
      registered: bindings.length > 0,
      state,
      mediaStream: d.status.extension(extension).mediaStream,
      contacts: bindings.map((b) => ({
        contact: b.contactUri,
        address: b.sourceAddress,
        port: b.sourcePort,
        transport: b.transport,
        userAgent: b.userAgent,
        expiresAt: b.expiresAt,
        registeredAt: b.updatedAt,
        reachability: probes.get(b.contactUri) ?? UNKNOWN,
      })),
      lastFailure: health.failures[0] ?? null,
      recentFailures: health.failures,
      tlsFailures: [...tls.values()].sort((a, b) => b.at - a.at).slice(0, 10),
      lastSeen: health.lastSeen,
      calls: reports.flatMap((r) => r.calls),
      recentCalls: cdrs.map((c) => ({
        callRef: c.callRef, startedAt: c.startedAt, answeredAt: c.answeredAt, endedAt: c.endedAt,
        direction: c.direction, caller: c.caller, callee: c.callee, disposition: c.disposition, status: c.status,
      })),
      features: {
        dnd: user.dnd,
        forwardUnconditional: user.forwardUnconditional,
        forwardBusy: user.forwardBusy,
        forwardNoAnswer: user.forwardNoAnswer,
        followMe: user.followMe,
      },
      voicemail: { enabled: user.voicemail, ...messages },
    };
  }

  /** The conference rooms open now in every worker, by room. */
  async conferences(): Promise<ActiveConference[]> {
    const reports = await this.deps.gather<ConferenceReport>({ kind: 'conferences' });
    const rooms = reports.flatMap((r) => r.rooms.map((c) => ({ room: c.room, adhoc: c.room.startsWith('adhoc-'), participants: c.participants, worker: r.worker })));
    return rooms.sort((a, b) => Number(a.adhoc) - Number(b.adhoc) || a.room.length - b.room.length || (a.room < b.room ? -1 : a.room > b.room ? 1 : (a.worker ?? 0) - (b.worker ?? 0)));
  }

  /** Refusals no user can be named for (unknown names, failed TLS handshakes), every worker's, newest first. */
  async strangers(limit = 50): Promise<RegistrationFailure[]> {
    const lists = await this.deps.gather<RegistrationFailure[]>({ kind: 'strangers' });
    return lists.flat().sort((a, b) => b.at - a.at).slice(0, limit);
  }

  /**
   * Every user of the directory with its state, filtered, sorted and paged
   * here. Each user's state comes from cheap reads (its record's three
   * fields, whether its AOR holds a live binding); only the page's rows have
   * their bindings decoded, so 100,000 users stay a fraction of a second.
   */
  async list(q: ListQuery): Promise<ExtensionList> {
    const d = this.deps;
    const reports = await d.gather<AllReport>({ kind: 'all' });
    const failure = new Map<string, RegistrationFailure>();
    const seen = new Map<string, number>();
    const unreachable = new Set<string>();
    const busy = new Map<string, [number, ExtensionState]>();
    for (const r of reports) {
      for (const [ext, f, at] of r.health) {
        if (f && (failure.get(ext)?.at ?? -1) < f.at) failure.set(ext, f);
        if (at !== null && (seen.get(ext) ?? -1) < at) seen.set(ext, at);
      }
      for (const ext of r.unreachable) unreachable.add(ext);
      for (const [ext, n, st] of r.busy) {
        const b = busy.get(ext) ?? [0, 'idle'];
        b[0] += n;
        if (st === 'connected' || (st === 'ringing' && b[1] === 'idle')) b[1] = st;
        busy.set(ext, b);
      }
    }
    const needle = q.q?.toLowerCase();
    const counts: Record<string, number> = Object.fromEntries(LIST_STATES.map((s) => [s, 0]));
    // The name is read only where it matters: sorting or searching by it, and the page's rows.
    const byName = needle !== undefined || q.sort === 'name';
    const rows: ExtensionRow[] = [];
    for (const ext of d.directory.extensions()) {
      const user = byName ? d.directory.summary(ext) : undefined;
      const registered = d.location.isRegistered(d.aorFor(ext));
      const f = failure.get(ext) ?? null;
      const lastSeen = seen.get(ext) ?? null;
      const [calls, callState] = busy.get(ext) ?? [0, 'idle'];
      // Failed: refused since it last got in (a phone that registers again is fine, its old refusal stays in the detail).
      const failed = f !== null && !registered && (lastSeen === null || f.at >= lastSeen);
      const isUnreachable = registered && unreachable.has(ext);
      counts[registered ? 'registered' : 'unregistered']!++;
      if (failed) counts.failed!++;
      if (isUnreachable) counts.unreachable!++;
      if (calls > 0) counts['in-call']!++;
      if (q.state !== undefined && !matches(q.state, registered, failed, isUnreachable, calls)) continue;
      if (needle !== undefined && !ext.includes(needle) && !user?.name.toLowerCase().includes(needle)) continue;
      const state: ListState = calls > 0 ? 'in-call' : isUnreachable ? 'unreachable' : registered ? 'registered' : failed ? 'failed' : 'unregistered';
      rows.push({
        extension: ext, name: user?.name ?? '', enabled: user?.enabled ?? true, registered, state, callState, calls,
        contacts: 0, address: null, transport: null, userAgent: null, registeredUntil: null, mediaStream: '', lastFailure: f, lastSeen, messages: 0,
      });
    }
    // A registered phone's last sighting includes its last REGISTER (workers leave those out of their answers).
    if (q.sort === 'lastSeen') for (const row of rows) if (row.registered) row.lastSeen = lastRegister(d.location.lookup(d.aorFor(row.extension)), row.lastSeen);
    rows.sort(comparator(q.sort));
    if (q.desc) rows.reverse();
    const items = rows.slice(q.offset, q.offset + q.limit);
    // The page's rows only: one indexed count each, however many mailboxes there are.
    const waiting = await Promise.all(items.map((row) => d.voicemail.counts(row.extension)));
    items.forEach((row, i) => { row.messages = waiting[i]!.new; });
    const now = d.now();
    for (const row of items) {
      const user = d.directory.summary(row.extension);
      row.name = user?.name ?? '';
      row.enabled = user?.enabled ?? true;
      const bindings = d.location.lookup(d.aorFor(row.extension)).filter((b) => b.expiresAt > now);
      const newest = bindings.reduce<(typeof bindings)[number] | undefined>((n, b) => (!n || b.updatedAt > n.updatedAt ? b : n), undefined);
      row.contacts = bindings.length;
      row.lastSeen = lastRegister(bindings, row.lastSeen);
      row.address = newest ? `${newest.sourceAddress}:${newest.sourcePort}` : null;
      row.transport = newest?.transport ?? null;
      row.userAgent = newest?.userAgent ?? null;
      row.registeredUntil = newest?.expiresAt ?? null;
      row.mediaStream = d.status.extension(row.extension).mediaStream;
    }
    return { total: rows.length, counts, items };
  }
}

function lastRegister(bindings: readonly { updatedAt: number }[], seen: number | null): number | null {
  let at = seen;
  for (const b of bindings) if (at === null || b.updatedAt > at) at = b.updatedAt;
  return at;
}

/** Whether a row is in the state filtered for (a phone in a call is registered too). */
function matches(state: ListState, registered: boolean, failed: boolean, unreachable: boolean, calls: number): boolean {
  switch (state) {
    case 'registered': return registered;
    case 'unregistered': return !registered;
    case 'failed': return failed;
    case 'unreachable': return unreachable;
    case 'in-call': return calls > 0;
  }
}

function byExtension(a: ExtensionRow, b: ExtensionRow): number {
  return a.extension.length - b.extension.length || (a.extension < b.extension ? -1 : a.extension > b.extension ? 1 : 0);
}

function comparator(sort: ListQuery['sort']): (a: ExtensionRow, b: ExtensionRow) => number {
  switch (sort) {
    case 'extension': return byExtension;
    case 'name': return (a, b) => a.name.localeCompare(b.name) || byExtension(a, b);
    case 'state': return (a, b) => STATE_RANK[a.state] - STATE_RANK[b.state] || byExtension(a, b);
    // Newest first is the natural order of times; desc turns it round.
    case 'lastSeen': return (a, b) => (b.lastSeen ?? -1) - (a.lastSeen ?? -1) || byExtension(a, b);
    case 'lastFailure': return (a, b) => (b.lastFailure?.at ?? -1) - (a.lastFailure?.at ?? -1) || byExtension(a, b);
  }
}
