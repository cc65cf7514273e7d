// One upstream line's runtime state (issue 15 items 1 and 5, B-32): where its
// registration stands, why it failed, and how the status views show it.
import { inheritsUserName, lineDisplayName, type LineStatus, type MwiSubscriptionState } from '../model/gateway.ts';
import type { SipTarget } from '../sip/dns.ts';
import type { TimerHandle } from '../lib/timer-queue.ts';
import type { Flow } from '../sip/transport/types.ts';
import type { RegisterClient, RegisterHop, RegisterSuccess } from '../sip/ua/register-client.ts';
import type { LineWithSecret } from '../store/gateway-types.ts';
import type { LineFailure } from './failure-reasons.ts';
import type { Idle, LinePlan } from './line-plan.ts';

export const hopName = (t: SipTarget) => `${t.transport}:${t.host}:${t.port}`;

export class Line {
  client: RegisterClient | undefined;
  /** Targets of the latest attempt, best first; index of the one tried. */
  targets: SipTarget[] = [];
  tried: SipTarget[] = [];
  target: SipTarget | undefined;
  flow: Flow | undefined;
  /** The flow is this line's own connection (separate ports), closed with the line. */
  ownsFlow = false;
  dnsError: string | undefined;
  registered: { target: SipTarget; hop: RegisterHop; ok: RegisterSuccess } | undefined;
  failure: (LineFailure & { at: number }) | undefined;
  /** Fires when the binding runs out with no newer success (a refresh queued or unanswered). */
  expiry: TimerHandle | undefined;
  consecutiveFailures = 0;
  loggedCode: string | undefined;
  mwi: MwiSubscriptionState = 'off';
  messagesWaiting: boolean | null = null;
  latestActivity: number | null = null;
  stopped = false;

  constructor(public line: LineWithSecret, public plan: LinePlan | Idle) {}

  get extension(): string {
    return this.line.extension;
  }
}

/** A line as the status views show it (B-32, B.1 List Users). */
export function lineStatusOf(l: Line, handsetRegistered: (extension: string) => boolean): LineStatus {
  const plan = l.plan;
  const registration = plan === 'disabled' || plan === 'off' ? 'disabled'
    : l.registered ? 'registered'
      : l.failure || plan === 'no-domain' ? 'failed'
        : l.target ? 'registering' : 'waiting';
  const failure = plan === 'no-domain'
    ? { code: 'no-domain' as const, text: 'no upstream domain: set one on the line or the gateway\'s default domain', at: l.line.updatedAt, status: 0 }
    : l.failure ?? null;
  return {
    extension: l.extension,
    upstreamUser: l.line.upstreamUser,
    aor: typeof plan === 'string' ? '' : plan.aor,
    displayName: lineDisplayName(l.line),
    displayNameInherited: inheritsUserName(l.line),
    registration,
    registeredVia: l.registered ? hopName(l.registered.target) : null,
    expiresAt: l.registered?.ok.expiresAt ?? null,
    failure,
    mwi: l.mwi,
    messagesWaiting: l.messagesWaiting,
    subscribed: l.line.ipei !== null && handsetRegistered(l.extension),
    latestActivity: l.latestActivity,
  };
}

export function samePlan(a: LinePlan | Idle, b: LinePlan | Idle): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  return a.key === b.key;
}

export function sameTarget(a: SipTarget, b: SipTarget): boolean {
  return a.address === b.address && a.port === b.port && a.transport === b.transport;
}

/** A certificate refusal is no reason to blacklist the proxy: it answered, and says the same to every line. */
export function isCertificateProblem(err: Error | undefined): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && (code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || code.startsWith('CERT_') || code.includes('CERT') || code.includes('ISSUER') || code.includes('SIGNATURE'));
}
