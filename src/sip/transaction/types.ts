import type { Endpoint, SipRequest, SipResponse } from '../message.ts';

/** RFC 3261 §17.2.1 with the RFC 6026 "accepted" state for 2xx. */
export type InviteServerState = 'proceeding' | 'accepted' | 'completed' | 'confirmed' | 'terminated';
/** RFC 3261 §17.2.2. */
export type NonInviteServerState = 'trying' | 'proceeding' | 'completed' | 'terminated';
/** RFC 3261 §17.1.1 with the RFC 6026 "accepted" state for 2xx. */
export type InviteClientState = 'calling' | 'proceeding' | 'accepted' | 'completed' | 'terminated';
/** RFC 3261 §17.1.2. */
export type NonInviteClientState = 'trying' | 'proceeding' | 'completed' | 'terminated';

/**
 * The TU's handle on a server transaction. What the layer itself keeps to
 * match and answer retransmissions is the serialized bytes of the last
 * response and where they went, not message objects: a non-INVITE handle is
 * a separate object holding `request` and `lastResponse`, so once the TU lets
 * go of it both can be collected while the transaction waits out timer J.
 * An INVITE transaction is its own handle for its whole life, because
 * TransactionLayer.findInviteServerTransactionForCancel hands it back in any
 * state.
 */
export interface ServerTransaction {
  readonly kind: 'invite' | 'non-invite';
  readonly state: InviteServerState | NonInviteServerState;
  /** The request that created the transaction (held by this handle, see above). */
  readonly request: SipRequest;
  /** Where it came from; responses are sent there (the transport applies §18.2.2 / rport). */
  readonly source: Endpoint;
  /** Clock reading when the transaction was created. */
  readonly createdAt: number;
  /**
   * The last response respond() accepted (for INVITE also the automatic
   * 100 Trying), if any. It is serialized when respond() is called: later
   * changes to the object do not reach the wire, retransmissions included.
   */
  readonly lastResponse: SipResponse | undefined;
  /**
   * Sends a response through the transaction and moves its state machine.
   * Returns false (and sends nothing) when the state does not allow it: after
   * a final response (except further 2xx to an INVITE in "accepted", which
   * are 2xx retransmissions by the TU), or once terminated.
   */
  respond(response: SipResponse): boolean;
  /** Set by the TU: the transport failed to send a response (the transaction is terminated). */
  onTransportError?: (err: Error) => void;
  /** Set by the TU: INVITE only, timer H fired: no ACK came for a non-2xx final response. */
  onTimeout?: () => void;
  /** Set by the TU: the transaction reached "terminated" for whatever reason. */
  onTerminated?: () => void;
}

export interface InviteServerTransaction extends ServerTransaction {
  readonly kind: 'invite';
  readonly state: InviteServerState;
}

export interface NonInviteServerTransaction extends ServerTransaction {
  readonly kind: 'non-invite';
  readonly state: NonInviteServerState;
}

export interface ClientHandlers {
  /** Every response the TU must see: 1xx, the final response, and for INVITE each 2xx (retransmissions and forks too). */
  onResponse(response: SipResponse): void;
  /** Timer B or F fired (or the CANCEL grace period ran out) without a final response. */
  onTimeout(): void;
  /** The transport could not send the request. Never called after a final response was delivered. */
  onTransportError(err: Error): void;
}

export interface ClientTransaction {
  readonly kind: 'invite' | 'non-invite';
  readonly state: InviteClientState | NonInviteClientState;
  /** The request as given to sendRequest; serialized once there, so retransmissions (timers A, E) are those bytes. */
  readonly request: SipRequest;
  readonly dest: Endpoint;
  /** Top Via branch of the request; responses match on it plus the CSeq method. */
  readonly branch: string;
  readonly createdAt: number;
  /**
   * INVITE only (no-op otherwise): call after sending a CANCEL for this
   * request. If no final response arrives within 64*T1, onTimeout is called
   * and the transaction ends (RFC 3261 §9.1), so a peer that never answers
   * the CANCEL cannot pin the transaction forever.
   */
  startCancelTimeout(): void;
  /** Ends the transaction at once without telling the TU (shutdown, TU lost interest). */
  terminate(): void;
}

export interface TransactionCounters {
  /** Live transactions (gauges). */
  serverInvite: number;
  serverNonInvite: number;
  clientInvite: number;
  clientNonInvite: number;
  /** Requests and responses re-sent by timers A, E and G. */
  retransmissionsSent: number;
  /** Responses re-sent because a retransmitted request came in, plus ACKs re-sent for retransmitted non-2xx. */
  retransmissionsAnswered: number;
  /** Retransmitted requests and responses absorbed without reaching the TU. */
  retransmissionsAbsorbed: number;
  /** Timers B, F and H (and the CANCEL grace period) firing. */
  timeouts: number;
  transportErrors: number;
  strayResponses: number;
  /** Requests dropped because they lack a top Via. */
  droppedRequests: number;
  /** Requests refused with 503 because maxServerTransactions was reached. */
  overloadRejected: number;
  /** New out-of-dialog requests refused with a stateless 503 by the admission (overload) control. */
  overloadShed: number;
  /** New out-of-dialog requests dropped unanswered by the admission (overload) control. */
  overloadDropped: number;
  /** New requests answered without a transaction by the screen hook (stateless challenges). */
  statelessResponses: number;
  /** Non-INVITE server transactions the TU never answered, ended by the 64*T1 guard. */
  unansweredServer: number;
}

export function newCounters(): TransactionCounters {
  return {
    serverInvite: 0,
    serverNonInvite: 0,
    clientInvite: 0,
    clientNonInvite: 0,
    retransmissionsSent: 0,
    retransmissionsAnswered: 0,
    retransmissionsAbsorbed: 0,
    timeouts: 0,
    transportErrors: 0,
    strayResponses: 0,
    droppedRequests: 0,
    overloadRejected: 0,
    overloadShed: 0,
    overloadDropped: 0,
    statelessResponses: 0,
    unansweredServer: 0,
  };
}
