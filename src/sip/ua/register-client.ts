// A REGISTER client (RFC 3261 §10.2): one binding of one AoR, kept alive —
// digest answers (§22), 423 Min-Expires (§10.2.8), RFC 5626 +sip.instance and
// reg-id, RFC 5627 GRUUs, RFC 3608 Service-Route. The trunks' registration and
// the gateway's lines both run on it.
import type { Endpoint, Header, NameAddr, SipRequest, SipResponse, SipUri, Via } from '../message.ts';
import type { TimerHandle, TimerQueue } from '../timer-queue.ts';
import type { UacOptions, UacRequest, UacTransport } from './uac.ts';
import { sendUacRequest } from './uac.ts';
import { DigestClient } from '../digest-client.ts';
import { createRequest } from '../serializer.ts';
import { generateBranch, generateCallId, generateTag } from '../ids.ts';
import { viaTransport } from '../dialog.ts';
import { getContacts, getExpires, getHeader, getHeaders, parseDeltaSeconds } from '../headers.ts';
import { formatNameAddr, parseNameAddrList } from '../name-addr.ts';
import { unquote } from '../syntax.ts';
import { uriEquals } from '../uri.ts';

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
  /**
   * Picks the hop of each attempt (the app's proxy choice and failover);
   * undefined = nowhere to go now. A plain value is used at once (the request
   * goes out before start() returns).
   */
  nextHop(): Promise<RegisterHop | undefined> | RegisterHop | undefined;
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
  /**
   * Registers now and keeps refreshing (at 80 % of the granted time or 30 s
   * before the end, whichever is sooner, but not before half of it: refreshDelaySec).
   */
  start(): void;
  /** A fresh REGISTER now (re-register, a flow that closed). */
  refresh(): void;
  /** Stops refreshing; with unregister, sends expires=0 (resolves when answered or timed out). */
  stop(unregister: boolean): Promise<void>;
}

/** The refresh comes this long after a success: the sooner of 80 % and 30 s before the end, never before half the time (and at least 5 s). */
export function refreshDelaySec(granted: number): number {
  return Math.max(5, Math.min(granted * 0.8, granted - 30), granted / 2);
}

type Attempt = { hop: RegisterHop; expires: number; uac: UacRequest };

class Client implements RegisterClient {
  state: RegisterClient['state'] = 'idle';
  private readonly callId = generateCallId();
  private readonly tag = generateTag();
  private cseq = 0;
  /** What we ask for: expiresSec, or the registrar's Min-Expires after a 423. */
  private asked: number;
  private readonly digest: DigestClient | undefined;
  private timer: TimerHandle | undefined;
  /** Bumped by every start/refresh/stop: a hop or answer of an older attempt is dropped. */
  private generation = 0;
  private current: Attempt | undefined;
  /** The hop of the live binding (where to unregister). */
  private bound: RegisterHop | undefined;

  constructor(private readonly o: RegisterClientOptions) {
    this.asked = o.expiresSec;
    this.digest = o.credentials ? new DigestClient(o.credentials) : undefined;
  }

  start(): void {
    if (this.state === 'stopped') return;
    this.attempt();
  }

  refresh(): void {
    this.start();
  }

  stop(unregister: boolean): Promise<void> {
    const wasBound = this.bound;
    this.state = 'stopped';
    this.generation++;
    this.cancelTimer();
    this.current?.uac.abandon();
    this.current = undefined;
    this.bound = undefined;
    if (!unregister || wasBound === undefined) return Promise.resolve();
    return new Promise((resolve) => {
      const req = this.build(wasBound, 0);
      sendUacRequest(req, {
        ...this.uacOptions(wasBound),
        onFinal: () => resolve(),
        onFailure: () => resolve(),
      });
    });
  }

  private attempt(): void {
    const gen = ++this.generation;
    this.cancelTimer();
    this.current?.uac.abandon();
    this.current = undefined;
    if (this.state !== 'registered') this.state = 'registering';
    const hop = this.o.nextHop();
    if (isPromise(hop)) {
      hop.then(
        (h) => { if (gen === this.generation) this.send(h, this.asked, false); },
        (err: unknown) => { if (gen === this.generation) this.failed({ kind: 'no-hop', status: 0, reason: errorMessage(err), hop: undefined, error: err instanceof Error ? err : undefined, credentialsRefused: false }); },
      );
    } else {
      this.send(hop, this.asked, false);
    }
  }

  private send(hop: RegisterHop | undefined, expires: number, after423: boolean): void {
    if (hop === undefined) {
      this.failed({ kind: 'no-hop', status: 0, reason: 'no server to register with', hop: undefined, credentialsRefused: false });
      return;
    }
    const gen = this.generation;
    const req = this.build(hop, expires);
    const attempt: Attempt = { hop, expires, uac: undefined as unknown as UacRequest };
    const mine = (): boolean => gen === this.generation && this.current === attempt;
    this.current = attempt;
    attempt.uac = sendUacRequest(req, {
      ...this.uacOptions(hop),
      onFinal: (res, uac) => { if (mine()) this.answered(res, uac, attempt, after423); },
      onFailure: (kind, _uac, err) => {
        if (!mine()) return;
        this.failed({
          kind, status: 0, hop, error: err, credentialsRefused: false,
          reason: kind === 'timeout' ? 'no answer' : (err?.message ?? 'transport error'),
        });
      },
    });
  }

  private uacOptions(hop: RegisterHop): UacOptions {
    return {
      transactions: this.o.transactions,
      dest: hop.dest,
      credentials: this.digest,
      // Every request of the binding, challenge retries included, numbers from one counter (§10.2.4).
      nextCSeq: () => ++this.cseq,
      timeoutMs: this.o.timeoutMs,
    };
  }

  private answered(res: SipResponse, uac: UacRequest, attempt: Attempt, after423: boolean): void {
    this.current = undefined;
    const hop = attempt.hop;
    if (res.status >= 200 && res.status < 300) {
      this.registered(res, attempt);
      return;
    }
    if (res.status === 423 && !after423) {
      // RFC 3261 §10.2.8: ask again with at least the registrar's minimum, once.
      const min = parseDeltaSeconds(getHeader(res, 'min-expires') ?? '');
      if (min !== undefined && min > attempt.expires) {
        this.asked = min;
        this.send(hop, min, true);
        return;
      }
    }
    const challenged = res.status === 401 || res.status === 407;
    this.failed({
      kind: 'response', status: res.status, reason: `${res.status} ${res.reason}`, hop, response: res,
      // A challenge that is final after we answered one, or a plain refusal (§21.4.4).
      credentialsRefused: res.status === 403 || (challenged && this.digest !== undefined && uac.attempts > 1),
    });
  }

  private registered(res: SipResponse, attempt: Attempt): void {
    const mine = ourContact(res, attempt.hop.contact, this.o.instanceId);
    const granted = Math.max(0, getExpires(res, mine) ?? attempt.expires);
    const ok: RegisterSuccess = {
      hop: attempt.hop,
      expiresAt: this.o.now() + granted * 1000,
      response: res,
      serviceRoute: serviceRoute(res),
    };
    const pub = mine?.params.get('pub-gruu');
    const temp = mine?.params.get('temp-gruu');
    if (pub != null) ok.pubGruu = unquote(pub);
    if (temp != null) ok.tempGruu = unquote(temp);
    this.state = 'registered';
    this.bound = attempt.hop;
    this.schedule(refreshDelaySec(granted) * 1000);
    this.o.onRegistered?.(ok);
  }

  private failed(f: RegisterFailure): void {
    this.current = undefined;
    this.bound = f.kind === 'response' || f.kind === 'no-hop' ? undefined : this.bound;
    this.state = 'failed';
    const gen = this.generation;
    this.o.onFailed?.(f);
    if (gen !== this.generation) return; // the app restarted or stopped us from its handler
    const wait = this.o.retryAfterMs(f);
    if (wait !== undefined) this.schedule(wait);
  }

  private schedule(ms: number): void {
    this.cancelTimer();
    this.timer = this.o.timers.schedule(ms, () => {
      this.timer = undefined;
      this.attempt();
    });
  }

  private cancelTimer(): void {
    if (this.timer) this.o.timers.cancel(this.timer);
    this.timer = undefined;
  }

  private build(hop: RegisterHop, expires: number): SipRequest {
    const o = this.o;
    const contactParams = new Map<string, string | null>([['expires', String(expires)]]);
    if (o.instanceId !== undefined) {
      contactParams.set('+sip.instance', `"<${o.instanceId}>"`);
      contactParams.set('reg-id', '1');
    }
    const supported: string[] = [];
    if (o.gruu) supported.push('gruu');
    if (o.instanceId !== undefined) supported.push('outbound');
    const headers: Header[] = [];
    for (const r of hop.routes ?? []) headers.push({ name: 'route', value: r });
    if (supported.length > 0) headers.push({ name: 'supported', value: supported.join(', ') });
    if (expires === 0) headers.push({ name: 'expires', value: '0' });
    for (const h of o.headers ?? []) headers.push(h);
    const via: Via = {
      protocol: 'SIP/2.0', transport: viaTransport(hop.dest.transport), host: hop.contact.host, port: hop.contact.port,
      params: new Map<string, string | null>([['branch', generateBranch()], ['rport', null]]),
    };
    const aor = { ...o.aor, params: new Map<string, string | null>() };
    return createRequest({
      method: 'REGISTER',
      uri: o.requestUri,
      from: { ...aor, params: new Map([['tag', this.tag]]) },
      to: aor,
      callId: this.callId,
      cseq: ++this.cseq,
      via,
      maxForwards: o.maxForwards,
      contact: { uri: hop.contact, params: contactParams },
      headers,
    });
  }
}

/** Our binding among the Contacts of a 2xx (§10.2.4: it lists them all): by +sip.instance, else by URI. */
function ourContact(res: SipResponse, contact: SipUri, instanceId: string | undefined): NameAddr | undefined {
  const list = getContacts(res);
  if (!Array.isArray(list)) return undefined;
  if (instanceId !== undefined) {
    for (const c of list) {
      const inst = c.params.get('+sip.instance');
      if (inst != null && unquote(inst) === `<${instanceId}>`) return c;
    }
  }
  for (const c of list) if (uriEquals(c.uri, contact)) return c;
  // A registrar that rewrote our Contact (a NAT-aware one) still lists one binding for us.
  return list.length === 1 ? list[0] : undefined;
}

/** RFC 3608 §6: the Service-Route entries as written, in order. */
function serviceRoute(res: SipResponse): string[] {
  const out: string[] = [];
  for (const v of getHeaders(res, 'service-route')) {
    const list = parseNameAddrList(v);
    if (Array.isArray(list)) for (const na of list) out.push(formatNameAddr(na));
  }
  return out;
}

function isPromise<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as Promise<T> | undefined)?.then === 'function';
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function createRegisterClient(opts: RegisterClientOptions): RegisterClient {
  return new Client(opts);
}
