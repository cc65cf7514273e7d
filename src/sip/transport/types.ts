import type { Endpoint, SipMessage, TransportName } from '../message.ts';

/** Where a message came from; over TLS with a verified client certificate, also who (SPEC D-06). */
export interface InboundSource extends Endpoint {
  tlsPeer?: import('./tls-peer.ts').TlsPeer;
}

/** A message handed up by a transport, with where it came from and which listener took it. */
export interface Inbound {
  message: SipMessage;
  source: InboundSource;
  /** The local listener that received it (for Via/Contact/Record-Route building). */
  local: { transport: TransportName; address: string; port: number };
  /** The bytes as they arrived: a worker of a cluster hands them on as they are, not serialized again. */
  data?: Buffer;
}

/**
 * A message serialized once, with its destination resolved once, so that each
 * retransmission costs one socket write and holds no message object: made by
 * MessageSender.prepare, sent any number of times with sendPrepared.
 */
export interface PreparedMessage {
  /** The wire form. */
  readonly data: Buffer;
  /**
   * Where the bytes go. For a response: the connection it came on (streams),
   * or the top Via's received/rport address (RFC 3261 §18.2.2, RFC 3581).
   */
  readonly dest: Endpoint;
  /** Responses over a stream: where to go instead (the top Via) once the connection in `dest` has closed. */
  readonly fallback?: Endpoint;
}

/**
 * What the transaction layer and the applications need from the transport
 * layer. Sending never throws: failures are reported through the callback so
 * a dead TCP peer cannot crash the caller.
 */
export interface MessageSender {
  send(message: SipMessage, dest: Endpoint, onError?: (err: Error) => void): void;
  /**
   * Serializes `message` and resolves its destination as send() would, without
   * sending. Undefined (after onError) when it cannot be serialized. Later
   * changes to `message` do not change the prepared bytes.
   */
  prepare(message: SipMessage, dest: Endpoint, onError?: (err: Error) => void): PreparedMessage | undefined;
  /** Sends prepared bytes (again): no serialization, no header lookups. */
  sendPrepared(prepared: PreparedMessage, onError?: (err: Error) => void): void;
  /** Stream transports retransmit for us: no timer A/E/G retransmissions on them (RFC 3261 §17). */
  isReliable(transport: TransportName): boolean;
  /** The address:port to put in our Via / Contact for a transport. */
  localEndpoint(transport: TransportName): { address: string; port: number } | undefined;
}

/**
 * TLS of one outbound flow (issue 15 contract): the options come from
 * security/tls-policy.ts tlsClientOptions (trust list, servername to check,
 * client identity for MTLS, legacy switch); `key` names them, so a flow is
 * shared only between users of the same key.
 */
export interface TlsTarget {
  key: string;
  options: import('node:tls').ConnectionOptions;
}

/** An outbound flow (RFC 5626 §3): a UDP 5-tuple or one TCP/TLS connection. */
export interface Flow {
  readonly transport: TransportName;
  /** Where to send over this flow (carries connectionId for TCP/TLS). */
  readonly dest: Endpoint;
  /** Our side of it: the ephemeral port for TCP/TLS (B-03). */
  readonly local: { address: string; port: number };
  readonly open: boolean;
  /** Called once when the connection closes (never for UDP). */
  onClose(listener: (err?: Error) => void): () => void;
  /** RFC 5626 §4.4.1 double-CRLF ping; the pong (or any inbound bytes) is reported to onPong. */
  ping(): void;
  onPong(listener: () => void): () => void;
  /** Closes the connection (UDP: nothing); its other users see onClose. For a new TLS handshake (D-06 trusted server). */
  close(): void;
}

/** What the transport layer offers applications that keep flows (the gateway's lines). */
export interface FlowOpener {
  /**
   * Opens (or, unless `fresh`, reuses) a flow to dest. TLS handshake errors
   * reject with the node error (code kept) for classification.
   */
  openFlow(dest: Endpoint, opts?: { tls?: TlsTarget; fresh?: boolean }): Promise<Flow>;
}
