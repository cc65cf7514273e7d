// The extension detail's parts in one worker, composed in one place so the
// server only names them (issue 12 item 1): refusals and last sightings from
// the authenticator and the TLS listener, the OPTIONS prober of UDP
// contacts, and this worker's answer to the management worker's questions.
import type { Endpoint } from '../../sip/message.ts';
import type { UacTransport } from '../../sip/ua/uac.ts';
import type { TimerQueue } from '../../lib/timer-queue.ts';
import type { AuthObserver } from '../auth/authenticator.ts';
import type { CallEngine } from '../call/engine.ts';
import type { LiveBinding } from '../registrar/location.ts';
import { RegistrationHealth } from '../registrar/registration-health.ts';
import { ContactProber } from '../registrar/contact-prober.ts';
import { report } from './extension-report.ts';
import type { AllReport, ConferenceReport, HealthQuery, UserReport } from './extension-report.ts';
import type { StatusService } from './status.ts';
import type { RegistrationFailure } from '../../model/extension-detail.ts';

/** What the authenticator and registrar tell the health record. */
export function healthObserver(health: RegistrationHealth, now: () => number): AuthObserver {
  return {
    authenticated: (user, req, source) => health.authenticated(user.extension, req.method, source),
    refused: (r) => health.refused({
      reason: r.reason,
      extension: r.user?.extension,
      user: r.name,
      source: r.source,
      req: r.req,
      ...(r.retryAfterSec !== undefined && { until: now() + r.retryAfterSec * 1000 }),
      ...(r.detail !== undefined && { detail: r.detail }),
    }),
  };
}

/** A failed TLS handshake names no user: it goes to the global ring, shown on the detail of users seen at that address. */
export function tlsFailed(health: RegistrationHealth, address: string, detail: string): void {
  const source: Endpoint = { transport: 'tls', address, port: 0 };
  health.refused({ reason: 'tls', extension: undefined, user: null, source, detail });
}

export interface ProberConfig {
  /** registrar.keepaliveSec; 0 turns probing off. */
  keepaliveSec: number;
  keepaliveTimeoutSec: number;
}

export function contactProber(
  c: ProberConfig,
  deps: { transactions: UacTransport; timers: TimerQueue; now: () => number; localEndpoint: (t: 'udp') => { address: string; port: number } | undefined; domain: string },
): ContactProber | undefined {
  if (c.keepaliveSec <= 0) return undefined;
  return new ContactProber({
    ...deps,
    intervalMs: c.keepaliveSec * 1000,
    timeoutMs: Math.min(c.keepaliveTimeoutSec, c.keepaliveSec) * 1000,
  });
}

/** The prober follows the bindings registered through this worker, and drops those that left or moved. */
export function followBindings(
  prober: ContactProber | undefined,
  registrar: { onLocalBinding?: (b: LiveBinding) => void },
  listeners: ((aor: string, bindings: readonly LiveBinding[]) => void)[],
): void {
  if (!prober) return;
  registrar.onLocalBinding = (b) => prober.track(b);
  listeners.push((aor, bindings) => prober.bindingsChanged(aor, bindings));
}

export interface LocalReporter {
  (q: HealthQuery): UserReport | AllReport | RegistrationFailure[] | ConferenceReport;
}

export function localReporter(d: {
  health: RegistrationHealth; prober: ContactProber | undefined; calls: CallEngine; status: Pick<StatusService, 'extension'>;
  aorFor(ext: string): string; registered(ext: string): boolean; now(): number;
  conferences?(): Array<{ room: string; participants: number }>; worker?: number;
}): LocalReporter {
  return (q) => report(d, q);
}
