import type { Endpoint, SipMessage, TransportName } from '../message.ts';

/** A message handed up by a transport, with where it came from and which listener took it. */
export interface Inbound {
  message: SipMessage;
  source: Endpoint;
  /** The local listener that received it (for Via/Contact/Record-Route building). */
  local: { transport: TransportName; address: string; port: number };
}

/**
 * What the transaction layer and the applications need from the transport
 * layer. Sending never throws: failures are reported through the callback so
 * a dead TCP peer cannot crash the caller.
 */
export interface MessageSender {
  send(message: SipMessage, dest: Endpoint, onError?: (err: Error) => void): void;
  /** Stream transports retransmit for us: no timer A/E/G retransmissions on them (RFC 3261 §17). */
  isReliable(transport: TransportName): boolean;
  /** The address:port to put in our Via / Contact for a transport. */
  localEndpoint(transport: TransportName): { address: string; port: number } | undefined;
}
