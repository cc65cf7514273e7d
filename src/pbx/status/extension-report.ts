// What one worker knows of the extensions beyond the registrations every
// worker shares: refusals and last sightings (registration-health.ts),
// contact probes (contact-prober.ts) and its calls. The management worker
// asks every worker (src/cluster/node.ts, topic "health?") and merges the
// answers into the extension detail and the status list (src/api/extensions.ts).
import type { RegistrationFailure, ProbeState } from '../../model/extension-detail.ts';
import type { CallStatus, ExtensionState, StatusService } from './status.ts';
import { callStatus, extensionOfAor } from './status.ts';
import type { CallEngine } from '../call/engine.ts';
import type { RegistrationHealth, UserHealth } from '../registrar/registration-health.ts';
import type { ContactProber } from '../registrar/contact-prober.ts';

export type HealthQuery = { kind: 'user'; extension: string } | { kind: 'all' } | { kind: 'strangers' } | { kind: 'conferences' };

export interface UserReport {
  health: UserHealth;
  /** Contacts this worker probes: [contact URI, state]. */
  probes: Array<[string, ProbeState]>;
  /** Unknown names and TLS handshakes, newest first. */
  strangers: RegistrationFailure[];
  /** Its calls with the extension. */
  calls: CallStatus[];
  state: ExtensionState;
}

export interface AllReport {
  /** [extension, last failure, last seen]. */
  health: Array<[string, RegistrationFailure | null, number | null]>;
  /** Extensions with a contact this worker found unreachable. */
  unreachable: string[];
  /** Extensions in calls here: [extension, calls, state]. */
  busy: Array<[string, number, ExtensionState]>;
}

/** The conference rooms open in this worker's media server (a room's mixer lives in one process). */
export interface ConferenceReport {
  /** The cluster worker; null for a single process. */
  worker: number | null;
  rooms: Array<{ room: string; participants: number }>;
}

export interface ExtensionReporterDeps {
  health: RegistrationHealth;
  prober: ContactProber | undefined;
  calls: CallEngine;
  status: Pick<StatusService, 'extension'>;
  aorFor(extension: string): string;
  /** Whether the extension has a live binding (every worker holds every one). */
  registered(extension: string): boolean;
  now(): number;
  /** This process's media server rooms, and its worker number in a cluster. */
  conferences?(): Array<{ room: string; participants: number }>;
  worker?: number;
}

export function reportUser(d: ExtensionReporterDeps, extension: string): UserReport {
  const now = d.now();
  const calls: CallStatus[] = [];
  for (const c of d.calls.calls()) {
    if (c.caller.user?.extension === extension || c.callee.user?.extension === extension) calls.push(callStatus(c, now));
  }
  return {
    health: d.health.user(extension),
    probes: d.prober?.states(d.aorFor(extension)) ?? [],
    strangers: d.health.strangerFailures(),
    calls,
    state: d.status.extension(extension).state,
  };
}

export function reportAll(d: ExtensionReporterDeps): AllReport {
  const busy = new Map<string, [string, number, ExtensionState]>();
  for (const c of d.calls.calls()) {
    for (const u of [c.caller.user, c.callee.user]) {
      if (!u) continue;
      const seen = busy.get(u.extension) ?? [u.extension, 0, 'idle'];
      seen[1]++;
      if (c.state === 'connected') seen[2] = 'connected';
      else if (seen[2] === 'idle' && c.state !== 'ended') seen[2] = 'ringing';
      busy.set(u.extension, seen);
    }
  }
  return {
    // A registered user's last sighting is its binding's last REGISTER, which the asking worker holds too.
    health: d.health.summary((ext) => d.registered(ext)),
    unreachable: (d.prober?.unreachableAors() ?? []).map(extensionOfAor).filter((e): e is string => e !== undefined),
    busy: [...busy.values()],
  };
}

export function report(d: ExtensionReporterDeps, q: HealthQuery): UserReport | AllReport | RegistrationFailure[] | ConferenceReport {
  switch (q.kind) {
    case 'user': return reportUser(d, q.extension);
    case 'all': return reportAll(d);
    case 'strangers': return d.health.strangerFailures();
    case 'conferences': return { worker: d.worker ?? null, rooms: d.conferences?.() ?? [] };
  }
}
