// A REGISTER client (RFC 3261 §10.2): one binding of one AoR, kept alive.
// CONTRACT (issue 15): the helper that owns this file implements it (and
// moves the trunk registration onto it); the signatures are what the
// gateway's lines use.
import type { Endpoint, Header, NameAddr, SipResponse, SipUri } from '../message.ts';
import type { TimerQueue } from '../timer-queue.ts';
import type { UacTransport } from './uac.ts';

/** Where one attempt goes and what our Contact is on it (known once the flow is open: B-03 ephemeral port). */
export interface RegisterHop {
  dest: Endpoint;
  /** The Contact URI for this attempt (without expires; the client adds it). */
  contact: SipUri;
  /** Route set for this attempt (an outbound proxy). */
  routes?: string[];
}

export type RegisterFailureKind = 'response' | 'timeout' | 'transport' | 'no-hop';

export interface RegisterFailure {
  kind: RegisterFailureKind;
  /** Final status for 'response'; 0 otherwise. */
  status: number;
  reason: string;
  hop: RegisterHop | undefined;
  response?: SipResponse;
  /** Transport error (TLS handshake errors carry the node code: classify with security/tls-policy.ts). */
  error?: Error;
  /** Our credentials were sent and refused (401/407 after an answered challenge, or 403). */
  credentialsRefused: boolean;
}

export interface RegisterSuccess {
  hop: RegisterHop;
  /** Epoch ms (from now()) the binding runs out. */
  expiresAt: number;
  response: SipResponse;
  /** RFC 5627: the GRUUs the registrar gave our Contact. */
  pubGruu?: string;
  tempGruu?: string;
  /** RFC 3608 Service-Route, to pre-load on requests of this AoR. */
  serviceRoute: string[];
}

export interface RegisterClientOptions {
  transactions: UacTransport;
  timers: TimerQueue;
  now(): number;
  /** To and From (From gets our tag). */
  aor: NameAddr;
  /** Request-URI: the registrar's domain. */
  requestUri: SipUri;
  /** Picks the hop of each attempt (the app's proxy choice and failover); undefined = nowhere to go now. */
  nextHop(): Promise<RegisterHop | undefined>;
  credentials?: { username: string; password: string };
  expiresSec: number;
  /** +sip.instance (RFC 5626 §4.1 / RFC 5627): a urn:uuid, stable across restarts. */
  instanceId?: string;
  /** Ask for a GRUU (Supported: gruu). */
  gruu?: boolean;
  /** Max-Forwards (B.1). */
  maxForwards?: number;
  /** Timer F for each attempt (B.1 client transaction timeout). */
  timeoutMs?: number;
  headers?: Header[];
  /**
   * After a failure: ms until the next attempt (the app backs off, or tries
   * the next proxy at once); undefined stops the client.
   */
  retryAfterMs(failure: RegisterFailure): number | undefined;
  onRegistered?(ok: RegisterSuccess): void;
  onFailed?(failure: RegisterFailure): void;
}

export interface RegisterClient {
  readonly state: 'idle' | 'registering' | 'registered' | 'failed' | 'stopped';
  /** Registers now and keeps refreshing (before 80 % of the granted time or 30 s before the end, whichever is sooner). */
  start(): void;
  /** A fresh REGISTER now (re-register, a flow that closed). */
  refresh(): void;
  /** Stops refreshing; with unregister, sends expires=0 (resolves when answered or timed out). */
  stop(unregister: boolean): Promise<void>;
}

export function createRegisterClient(_opts: RegisterClientOptions): RegisterClient {
  throw new Error('register client: not implemented yet (issue 15 contract)');
}
