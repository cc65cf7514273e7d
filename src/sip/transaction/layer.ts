import type { Clock } from '../../lib/time.ts';
import type { Endpoint, Header, NameAddr, SipRequest, SipResponse } from '../message.ts';
import type { TimerQueue } from '../../lib/timer-queue.ts';
import type { Inbound, MessageSender, PreparedMessage } from '../transport/types.ts';
import { createResponse } from '../serializer.ts';
import { statelessResponse } from './stateless.ts';
import type { ClientOptions, ClientTxBase } from './client.ts';
import { NonInviteClientTx } from './client.ts';
import { InviteClientTx } from './client-invite.ts';
import type { TxContext } from './context.ts';
import { clientKey, isLegacyKey, serverKey, tagOf } from './keys.ts';
import { Retransmitter2xx } from './retransmit-2xx.ts';
import type { ServerTxBase } from './server.ts';
import { NonInviteServerTx, NonInviteServerView } from './server.ts';
import { InviteServerTx } from './server-invite.ts';
import type {
  ClientHandlers,
  ClientTransaction,
  InviteServerTransaction,
  ServerTransaction,
  TransactionCounters,
} from './types.ts';
import { newCounters } from './types.ts';

export interface TransactionLayerOptions {
  sender: MessageSender;
  timers: TimerQueue;
  clock: Clock;
  /** RTT estimate, ms (RFC 3261 default 500). */
  t1?: number;
  /** Cap on non-INVITE request and INVITE response retransmit intervals, ms (default 4000). */
  t2?: number;
  /** Time a message may linger in the network, ms (default 5000): timers I and K. */
  t4?: number;
  /** Timer D on unreliable transports, ms (default 32000; RFC 3261 asks for at least 32 s). */
  timerD?: number;
  /**
   * When the INVITE server transaction sends 100 Trying on its own if the TU
   * has not sent a response: ms after the INVITE (default 200, §17.2.1),
   * 0 = at once, before onRequest is called; false = never.
   */
  autoTrying?: number | false;
  /** Live server transactions beyond which new requests get a stateless 503 (default 1,000,000). */
  maxServerTransactions?: number;
  /**
   * Every new request, with the server transaction created for it. ACKs never
   * create transactions: ACKs the layer does not absorb (ACK for 2xx) come here
   * with tx undefined, unless onStrayAck is set.
   */
  onRequest: (req: SipRequest, tx: ServerTransaction | undefined, inbound: Inbound) => void;
  /**
   * Looks at each new request before a server transaction is made for it
   * (never at retransmissions of live transactions, nor at ACKs). A response
   * returned is sent statelessly (RFC 3261 §8.2.7: build it with
   * statelessResponse()) and the request goes no further; undefined lets it
   * through. Used for digest challenges, so that unauthenticated floods cost
   * no memory and no 401/407 is ever retransmitted.
   */
  screen?: (req: SipRequest, inbound: Inbound) => SipResponse | undefined;
  /**
   * Overload control (RFC 3261 §21.5.4), e.g. OverloadControl: asked about
   * every new out-of-dialog request (no To tag, not CANCEL) before the
   * screen; a refused one gets a stateless 503 with its Retry-After, a
   * dropped one nothing. Its RFC 7339 feedback goes on every new request
   * that asks for it (an "oc" in the top Via) and is not dropped. Requests
   * inside dialogs, CANCEL, ACK, responses and retransmissions of live
   * transactions are never refused, so work already taken on completes.
   */
  admission?: Admission;
  /** Responses matching no client transaction (a proxy or B2BUA may forward them); dropped otherwise. */
  onStrayResponse?: (res: SipResponse, inbound: Inbound) => void;
  /**
   * ACKs the layer does not absorb: ACKs for 2xx, which match no transaction
   * (new branch), or match an INVITE server transaction in "accepted" (a peer
   * reusing the INVITE branch) — then `inviteTx` is that transaction.
   */
  onStrayAck?: (ack: SipRequest, inbound: Inbound, inviteTx: InviteServerTransaction | undefined) => void;
}

/** What the layer asks before taking on a new out-of-dialog request. */
export interface Admission {
  /**
   * Called once per new request: take it, refuse it with a 503, or drop it
   * unanswered. `vouched`: its connection proved who sent it (a verified TLS
   * client certificate, SPEC D-06), which counts as credentials.
   */
  admit(req: SipRequest, vouched?: boolean): 'admit' | 'refuse' | 'drop';
  /** The Retry-After header of the 503 that refuses it. */
  retryAfter(): Header;
  /**
   * RFC 7339: called for each new request (not dropped) whose top Via carries
   * "oc", before anything answers it; may put feedback on that Via, which
   * every response made from the request then echoes.
   */
  feedback?(req: SipRequest): void;
}

function sameTag(a: NameAddr, b: NameAddr): boolean {
  return tagOf(a.params) === tagOf(b.params);
}

function positive(name: string, value: number): number {
  if (!(value > 0) || !Number.isFinite(value)) throw new RangeError(`${name} must be a positive number of ms, got ${value}`);
  return value;
}

/**
 * RFC 3261 §17 transaction layer (with RFC 6026): matches every inbound
 * message to a server or client transaction, absorbs retransmissions, runs
 * the retransmission and timeout timers on the shared TimerQueue, and hands
 * the TU new requests, responses, timeouts and transport errors.
 */
export class TransactionLayer {
  readonly counters: TransactionCounters = newCounters();

  /**
   * Requests of ours still waiting for their final response (a BYE sent at
   * shutdown, say); transactions that only absorb retransmissions do not count.
   */
  get awaitingAnswers(): number {
    let n = 0;
    for (const tx of this.client.values()) {
      const st = tx.state;
      if (st === 'calling' || st === 'trying' || st === 'proceeding') n++;
    }
    return n;
  }
  readonly t1: number;
  readonly t2: number;
  readonly t4: number;
  private readonly sender: MessageSender;
  private readonly timers: TimerQueue;
  private readonly autoTrying: number | false;
  private readonly maxServer: number;
  private readonly server = new Map<string, ServerTxBase>();
  private readonly client = new Map<string, ClientTxBase>();
  private readonly ctx: TxContext;
  private readonly onRequest: TransactionLayerOptions['onRequest'];
  private readonly onStrayResponse: TransactionLayerOptions['onStrayResponse'];
  private readonly onStrayAck: TransactionLayerOptions['onStrayAck'];
  private readonly screen: TransactionLayerOptions['screen'];
  private readonly admission: Admission | undefined;

  /** Throws RangeError for non-positive timer values. */
  constructor(options: TransactionLayerOptions) {
    this.sender = options.sender;
    this.timers = options.timers;
    this.t1 = positive('t1', options.t1 ?? 500);
    this.t2 = positive('t2', options.t2 ?? 4000);
    this.t4 = positive('t4', options.t4 ?? 5000);
    this.autoTrying = options.autoTrying ?? 200;
    this.maxServer = options.maxServerTransactions ?? 1_000_000;
    this.onRequest = options.onRequest;
    this.onStrayResponse = options.onStrayResponse;
    this.onStrayAck = options.onStrayAck;
    this.screen = options.screen;
    this.admission = options.admission;
    const counters = this.counters;
    const server = this.server;
    const client = this.client;
    this.ctx = {
      sender: options.sender,
      timers: options.timers,
      clock: options.clock,
      t1: this.t1,
      t2: this.t2,
      t4: this.t4,
      timerD: positive('timerD', options.timerD ?? 32_000),
      counters,
      release(tx, side) {
        const map: Map<string, unknown> = side === 'server' ? server : client;
        // A colliding newer transaction may own the key by now; leave it alone.
        if (map.get(tx.key) === tx) map.delete(tx.key);
        if (side === 'server') {
          if (tx.kind === 'invite') counters.serverInvite--;
          else counters.serverNonInvite--;
        } else if (tx.kind === 'invite') counters.clientInvite--;
        else counters.clientNonInvite--;
      },
    };
  }

  /** Live server plus client transactions. */
  get size(): number {
    return this.server.size + this.client.size;
  }

  /** Entry point for every parsed message from the transport. Never throws for bad input (TU callbacks may). */
  receive(inbound: Inbound): void {
    const msg = inbound.message;
    if (msg.kind === 'response') {
      this.receiveResponse(msg, inbound);
      return;
    }
    if (msg.method === 'ACK') {
      this.receiveAck(msg, inbound);
      return;
    }
    const key = serverKey(msg, msg.method);
    if (key === undefined) {
      this.counters.droppedRequests++;
      return;
    }
    const existing = this.server.get(key);
    if (existing && (!(existing instanceof InviteServerTx) || !isLegacyKey(key) || sameTag(msg.to, existing.request.to))) {
      existing.receiveRetransmission();
      return;
    }
    const admission = this.admission;
    if (admission !== undefined) {
      let verdict = msg.method !== 'CANCEL' && !msg.to.params.has('tag') ? admission.admit(msg, inbound.source.tlsPeer !== undefined) : 'admit';
      // Dropping leans on the client's retransmission, which only UDP has (RFC 3261 §17.1.2.2):
      // over TCP or TLS a dropped request waits out its 32 s timeout, so it is refused instead.
      if (verdict === 'drop' && inbound.source.transport !== 'udp') verdict = 'refuse';
      if (verdict === 'drop') {
        this.counters.overloadDropped++;
        return;
      }
      // One Map lookup for everyone; the feedback is worked out only for upstreams that asked for it.
      if (admission.feedback !== undefined && msg.via[0]?.params.has('oc') === true) admission.feedback(msg);
      if (verdict === 'refuse') {
        this.counters.overloadShed++;
        this.sender.send(statelessResponse(msg, 503, 'Service Unavailable', [admission.retryAfter()]), inbound.source);
        return;
      }
    }
    if (this.screen !== undefined) {
      const answer = this.screen(msg, inbound);
      if (answer !== undefined) {
        this.counters.statelessResponses++;
        this.sender.send(answer, inbound.source);
        return;
      }
    }
    if (this.counters.serverInvite + this.counters.serverNonInvite >= this.maxServer) {
      this.counters.overloadRejected++;
      const busy = createResponse(msg, 503, 'Service Unavailable', { extraHeaders: [{ name: 'retry-after', value: '5' }] });
      this.sender.send(busy, inbound.source);
      return;
    }
    let tx: ServerTransaction;
    if (msg.method === 'INVITE') {
      const inv = new InviteServerTx(this.ctx, key, msg, inbound.source);
      this.server.set(key, inv);
      this.counters.serverInvite++;
      // Armed before the TU runs, so a TU that throws cannot leave the client without a 100.
      if (this.autoTrying !== false) inv.scheduleTrying(this.autoTrying);
      tx = inv;
    } else {
      const non = new NonInviteServerTx(this.ctx, key, inbound.source);
      this.server.set(key, non);
      this.counters.serverNonInvite++;
      non.start();
      tx = new NonInviteServerView(non, msg);
    }
    this.onRequest(msg, tx, inbound);
  }

  /**
   * Starts a client transaction and sends `req` to `dest`. The request must
   * carry a top Via with a unique branch (generateBranch()). Throws TypeError
   * for an ACK (never a transaction: send it with the MessageSender) or a
   * missing branch, and Error when a live transaction already uses the same
   * branch and method. Handlers are never called before this returns.
   */
  sendRequest(req: SipRequest, dest: Endpoint, handlers: ClientHandlers, options: ClientOptions = {}): ClientTransaction {
    if (req.method === 'ACK') throw new TypeError('ACK is not sent in a transaction; send it with the MessageSender');
    const branch = req.via[0]?.params.get('branch');
    if (!branch) throw new TypeError('the request needs a top Via with a branch parameter');
    const key = clientKey(branch, req.method);
    if (this.client.has(key)) throw new Error(`a client transaction for branch ${branch} ${req.method} is already live`);
    const timeout = options.timeoutMs !== undefined ? positive('timeoutMs', options.timeoutMs) : 64 * this.t1;
    let tx: ClientTxBase;
    if (req.method === 'INVITE') {
      tx = new InviteClientTx(this.ctx, key, branch, req, dest, handlers, timeout);
      this.counters.clientInvite++;
    } else {
      tx = new NonInviteClientTx(this.ctx, key, branch, req, dest, handlers, timeout);
      this.counters.clientNonInvite++;
    }
    this.client.set(key, tx);
    tx.start();
    return tx;
  }

  /**
   * The INVITE server transaction a CANCEL refers to (RFC 3261 §9.2: the
   * §17.2.3 match with the method taken as INVITE), whatever its state; the
   * TU answers it with 487 only while it is "proceeding".
   */
  findInviteServerTransactionForCancel(cancel: SipRequest): InviteServerTransaction | undefined {
    const key = serverKey(cancel, 'INVITE');
    if (key === undefined) return undefined;
    const tx = this.server.get(key);
    if (!(tx instanceof InviteServerTx)) return undefined;
    if (isLegacyKey(key) && !sameTag(cancel.to, tx.request.to)) return undefined;
    return tx;
  }

  /**
   * Starts the UAS core's 2xx retransmission for an answered INVITE (the 2xx
   * must already have been sent with tx.respond). Call stop() on the result
   * when the ACK arrives; onTimeout fires after 64*T1 without one.
   */
  retransmit2xx(tx: InviteServerTransaction, response: SipResponse, onTimeout?: () => void): Retransmitter2xx {
    const counters = this.counters;
    const sender = this.sender;
    // Only used if the re-sends outlast "accepted" (timer L may end it before the last one).
    let prepared: PreparedMessage | undefined;
    return new Retransmitter2xx({
      timers: this.timers,
      t1: this.t1,
      t2: this.t2,
      send: () => {
        counters.retransmissionsSent++;
        if (tx.state === 'accepted' && tx.respond(response)) return;
        prepared ??= sender.prepare(response, tx.source);
        if (prepared !== undefined) sender.sendPrepared(prepared);
      },
      onTimeout,
    });
  }

  /** Ends every transaction at once without calling the TU (shutdown). */
  close(): void {
    for (const tx of [...this.server.values()]) tx.terminate();
    for (const tx of [...this.client.values()]) tx.terminate();
  }

  private receiveAck(ack: SipRequest, inbound: Inbound): void {
    const key = serverKey(ack, 'INVITE');
    if (key === undefined) {
      this.counters.droppedRequests++;
      return;
    }
    const tx = this.server.get(key);
    if (tx instanceof InviteServerTx && (!isLegacyKey(key) || this.ackTagMatches(tx, ack))) {
      if (tx.receiveAck()) return;
      this.deliverAck(ack, inbound, tx);
      return;
    }
    this.deliverAck(ack, inbound, undefined);
  }

  /** RFC 2543 ACK matching: its To tag is the one of the response we sent (§17.2.3). */
  private ackTagMatches(tx: InviteServerTx, ack: SipRequest): boolean {
    const sent = tx.lastResponse;
    return tagOf(ack.to.params) === tagOf((sent ?? tx.request).to.params);
  }

  private deliverAck(ack: SipRequest, inbound: Inbound, tx: InviteServerTransaction | undefined): void {
    if (this.onStrayAck) this.onStrayAck(ack, inbound, tx);
    else this.onRequest(ack, undefined, inbound);
  }

  private receiveResponse(res: SipResponse, inbound: Inbound): void {
    const branch = res.via[0]?.params.get('branch');
    const tx = branch ? this.client.get(clientKey(branch, res.cseq.method)) : undefined;
    if (!tx) {
      this.counters.strayResponses++;
      this.onStrayResponse?.(res, inbound);
      return;
    }
    tx.receiveResponse(res);
  }
}
