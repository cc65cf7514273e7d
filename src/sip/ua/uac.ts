// One client for every request a UA sends (RFC 3261 §8.1): it runs the
// request through a client transaction, answers 401/407 digest challenges
// (§22.2, §22.3) with a new request (CSeq + 1, new branch, §8.1.3.5), and
// for INVITE sends CANCEL the way §9.1 asks: only once a provisional came
// in, never after a final response, and with no further challenge retries
// once the application asked to cancel.

import type { Endpoint, Header, SipRequest, SipResponse, Via } from '../message.ts';
import type { ClientOptions } from '../transaction/client.ts';
import type { ClientHandlers, ClientTransaction } from '../transaction/types.ts';
import { buildCancel } from '../transaction/build.ts';
import { DigestClient, parseDigestChallenge } from '../digest-client.ts';
import { generateBranch } from '../ids.ts';
import { formatVia } from '../via.ts';

/** What the UAC needs of the transaction layer (TransactionLayer satisfies it). */
export interface UacTransport {
  sendRequest(req: SipRequest, dest: Endpoint, handlers: ClientHandlers, options?: ClientOptions): ClientTransaction;
}

export type UacFailure = 'timeout' | 'transport';

export interface UacHandlers {
  /** Each 1xx (100 included) of the current attempt. */
  onProvisional?(res: SipResponse, uac: UacRequest): void;
  /** The final response, once (a challenge that is retried is not final). */
  onFinal?(res: SipResponse, uac: UacRequest): void;
  /** INVITE only: each further 2xx after the first (forks, retransmissions): the application ACKs them. */
  onExtra2xx?(res: SipResponse, uac: UacRequest): void;
  /** No final response: timer B/F (or the CANCEL grace period) ran out, or the transport failed. */
  onFailure?(kind: UacFailure, uac: UacRequest, err?: Error): void;
  /** Each request after the first (challenge retries), before it is sent: to log or keep a dialog's CSeq. */
  onRetry?(req: SipRequest, uac: UacRequest): void;
}

export interface UacOptions extends UacHandlers {
  transactions: UacTransport;
  dest: Endpoint;
  /** Credentials to answer challenges with; without them a 401/407 is simply final. */
  credentials?: { username: string; password: string } | DigestClient;
  /**
   * CSeq of a retry. Default: the previous one + 1. In a dialog pass
   * `() => ++dialog.localSeq` so the dialog's numbering stays in step.
   */
  nextCSeq?: () => number;
  /** Timer B/F override per attempt. */
  timeoutMs?: number;
  /** Bound on challenge retries, so a server that says stale=true forever cannot loop us (default 4). */
  maxRetries?: number;
}

/** Authorization for 401 (WWW-Authenticate), Proxy-Authorization for 407 (Proxy-Authenticate). */
const AUTH = {
  401: { challenge: 'www-authenticate', answer: 'authorization' },
  407: { challenge: 'proxy-authenticate', answer: 'proxy-authorization' },
} as const;

/**
 * A request in flight. `current` and `transaction` are those of the latest
 * attempt (what a CANCEL must copy). States: 'calling' until a provisional,
 * 'proceeding' after one, 'done' once a final response or failure was reported.
 */
export class UacRequest {
  current: SipRequest;
  transaction: ClientTransaction | undefined;
  state: 'calling' | 'proceeding' | 'done' = 'calling';
  /** The application asked to cancel (CANCEL sent, or pending until a provisional). */
  cancelRequested = false;
  /** The CANCEL we sent, if any. */
  cancelRequest: SipRequest | undefined;
  finalResponse: SipResponse | undefined;
  /** Requests sent so far (1 + challenge retries). */
  attempts = 0;
  private readonly opts: UacOptions;
  private digest: DigestClient | undefined;
  /** Authorization header names already answered once: a second challenge of the same kind needs stale=true. */
  private readonly answered = new Set<string>();
  /** Credentials sent so far, kept across retries (a proxy's and a registrar's may both be needed). */
  private auth: Header[] = [];
  private cancelHeaders: Header[] = [];

  constructor(request: SipRequest, opts: UacOptions) {
    if (request.method === 'ACK' || request.method === 'CANCEL') throw new TypeError(`${request.method} is not sent with the UAC`);
    this.current = request;
    this.opts = opts;
  }

  get method(): string {
    return this.current.method;
  }

  /** Sends the first attempt. Handlers are never called before this returns. */
  start(): this {
    this.send(this.current);
    return this;
  }

  /**
   * Asks to end an INVITE (§9.1): CANCEL now if a provisional came, else as
   * soon as one comes; nothing once a final response arrived. For other
   * methods it only stops challenge retries (a CANCEL of a non-INVITE is
   * pointless, §9.1). `headers` (e.g. Reason, RFC 3326) go into the CANCEL.
   * Returns false when it is too late.
   */
  cancel(headers: Header[] = []): boolean {
    if (this.state === 'done' || this.cancelRequested) return false;
    this.cancelRequested = true;
    this.cancelHeaders = headers;
    if (this.state === 'proceeding') this.sendCancel();
    return true;
  }

  /** Stops following the request without telling the peer (shutdown): no handler is called again. */
  abandon(): void {
    this.state = 'done';
    this.transaction?.terminate();
  }

  private send(req: SipRequest): void {
    this.current = req;
    this.attempts++;
    const opts = this.opts.timeoutMs !== undefined ? { timeoutMs: this.opts.timeoutMs } : undefined;
    // The transaction of this attempt only: a late event of an earlier one is ignored.
    let tx: ClientTransaction | undefined;
    const mine = (): boolean => this.state !== 'done' && this.transaction === tx;
    tx = this.opts.transactions.sendRequest(req, this.opts.dest, {
      onResponse: (res) => { if (mine()) this.response(res); else if (tx === this.transaction) this.late(res); },
      onTimeout: () => { if (mine()) this.fail('timeout'); },
      onTransportError: (err) => { if (mine()) this.fail('transport', err); },
    }, opts);
    this.transaction = tx;
  }

  /** Responses after the final one: only further 2xx to an INVITE matter. */
  private late(res: SipResponse): void {
    if (this.method === 'INVITE' && res.status >= 200 && res.status < 300 && this.finalResponse !== undefined && this.finalResponse.status < 300) {
      this.opts.onExtra2xx?.(res, this);
    }
  }

  private response(res: SipResponse): void {
    if (res.status < 200) {
      // 100 is hop-by-hop but still proves the INVITE arrived, which is all §9.1 needs.
      const first = this.state === 'calling';
      this.state = 'proceeding';
      if (first && this.cancelRequested) this.sendCancel();
      this.opts.onProvisional?.(res, this);
      return;
    }
    if ((res.status === 401 || res.status === 407) && this.retry(res)) return;
    this.state = 'done';
    this.finalResponse = res;
    this.opts.onFinal?.(res, this);
  }

  private fail(kind: UacFailure, err?: Error): void {
    this.state = 'done';
    this.opts.onFailure?.(kind, this, err);
  }

  /** Sends the request again with credentials; false when the challenge is final for us. */
  private retry(res: SipResponse): boolean {
    const creds = this.opts.credentials;
    if (creds === undefined || this.cancelRequested) return false;
    if (this.attempts > (this.opts.maxRetries ?? 4)) return false;
    const names = AUTH[res.status as 401 | 407];
    const values: string[] = [];
    for (const h of res.headers) if (h.name === names.challenge) values.push(h.value);
    this.digest ??= creds instanceof DigestClient ? creds : new DigestClient(creds);
    const chosen = this.digest.chooseChallenge(values);
    if (chosen === undefined) return false;
    // The same kind of challenge again means our credentials were refused, unless the nonce merely went stale (§22.4 / RFC 2617 §3.2.1).
    if (this.answered.has(names.answer) && parseDigestChallenge(chosen)?.stale !== true) return false;
    const prev = this.current;
    const value = this.digest.authorize(chosen, prev.method, prev.uriRaw, prev.body);
    if (value === undefined) return false;
    this.answered.add(names.answer);
    this.auth = this.auth.filter((h) => h.name !== names.answer).concat({ name: names.answer, value });
    const seq = this.opts.nextCSeq?.() ?? prev.cseq.seq + 1;
    const next = nextAttempt(prev, seq, this.auth);
    this.state = 'calling';
    this.opts.onRetry?.(next, this);
    if (this.state !== 'calling') return true;
    this.send(next);
    return true;
  }

  private sendCancel(): void {
    const tx = this.transaction;
    if (this.method !== 'INVITE' || tx === undefined) return;
    const cancel = buildCancel(this.current);
    if (this.cancelHeaders.length > 0) cancel.headers = cancel.headers.concat(this.cancelHeaders);
    this.cancelRequest = cancel;
    const ignore = (): void => {};
    // Whatever happens to the CANCEL, the INVITE's own final response (487
    // normally) or the grace timer below is what ends the request.
    this.opts.transactions.sendRequest(cancel, this.opts.dest, { onResponse: ignore, onTimeout: ignore, onTransportError: ignore });
    tx.startCancelTimeout();
  }
}

/**
 * The same request as a new transaction (§8.1.3.5): a fresh branch, CSeq
 * `seq`, the Authorization lines replaced by `auth`; everything else (body,
 * Route, Contact, tags, Call-ID) unchanged. Header objects are shared, never edited.
 */
export function nextAttempt(prev: SipRequest, seq: number, auth: readonly Header[]): SipRequest {
  const top = prev.via[0];
  if (top === undefined) throw new TypeError('the request has no Via');
  const via: Via = { ...top, params: new Map(top.params).set('branch', generateBranch()) };
  const headers: Header[] = [];
  let viaDone = false;
  for (const h of prev.headers) {
    if (h.name === 'authorization' || h.name === 'proxy-authorization') continue;
    if (h.name === 'via') {
      // Our request carries one Via, ours; any further lines would be a caller's bug, dropped with it.
      if (!viaDone) headers.push({ name: 'via', value: formatVia(via) });
      viaDone = true;
      continue;
    }
    headers.push(h.name === 'cseq' ? { name: 'cseq', value: seq + ' ' + prev.method } : h);
  }
  for (const h of auth) headers.push(h);
  return { ...prev, headers, via: [via], cseq: { seq, method: prev.method } };
}

/** Builds, starts and returns a UacRequest. */
export function sendUacRequest(request: SipRequest, opts: UacOptions): UacRequest {
  return new UacRequest(request, opts).start();
}

/**
 * The promise form for simple users (test phones, one-shot requests):
 * resolves with the final response, rejects on timeout or transport error.
 */
export function requestFinal(request: SipRequest, opts: Omit<UacOptions, 'onFinal' | 'onFailure'>): Promise<SipResponse> {
  return new Promise((resolve, reject) => {
    sendUacRequest(request, {
      ...opts,
      onFinal: (res) => resolve(res),
      onFailure: (kind, _uac, err) => reject(err ?? new Error(`${request.method} ${kind === 'timeout' ? 'timed out' : 'transport error'}`)),
    });
  });
}
