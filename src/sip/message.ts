// The SIP message model shared by the parser, serializer, transports,
// transactions and every application on top (registrar, B2BUA, gateway).
//
// Parsing is deliberately shallow: the start line and the headers every
// message needs for routing and transaction matching (Via, From, To, Call-ID,
// CSeq, Max-Forwards, Content-Length) are decoded once by the parser; all other
// headers stay as raw strings and are decoded on demand by the helpers in
// headers.ts. Header names are stored in canonical lower-case long form
// ("v" -> "via"), values with folding already removed.

export type TransportName = 'udp' | 'tcp' | 'tls';

/** Parameters of a URI, Via or name-addr: lower-case name -> value (null when the parameter has no "="). */
export type Params = Map<string, string | null>;

export interface SipUri {
  /** Lower-case scheme: "sip", "sips", "tel", or any other scheme the parser met. */
  scheme: string;
  /** User part with %-escapes decoded (may contain any octet, even NUL). Undefined when absent. */
  user?: string;
  password?: string;
  /** Host as written, lower-cased; IPv6 references keep their brackets ("[2001:db8::1]"). For tel/unknown schemes: the opaque rest. */
  host: string;
  port?: number;
  params: Params;
  /** URI headers ("?a=b&c=d"), names as written, values %-decoded. */
  headers: Map<string, string>;
}

export interface NameAddr {
  displayName?: string;
  uri: SipUri;
  /** Header parameters outside the <>, e.g. tag, expires, q. */
  params: Params;
}

export interface Via {
  /** "SIP/2.0" */
  protocol: string;
  /** Upper-case transport token as written: UDP, TCP, TLS, SCTP, WS, or anything else. */
  transport: string;
  host: string;
  port?: number;
  params: Params;
}

export interface CSeq {
  seq: number;
  method: string;
}

export interface Header {
  /** Canonical lower-case long form. */
  name: string;
  /** Raw value, folding replaced by a single space, surrounding whitespace trimmed. */
  value: string;
}

interface MessageBase {
  /** Every header line in wire order (comma lists are NOT split here; see headers.ts). */
  headers: Header[];
  body: Buffer;
  /** Decoded at parse time because every layer needs them. */
  via: Via[];
  from: NameAddr;
  to: NameAddr;
  callId: string;
  cseq: CSeq;
}

export interface SipRequest extends MessageBase {
  kind: 'request';
  method: string;
  /** Request-URI exactly as on the wire, and decoded. */
  uriRaw: string;
  uri: SipUri;
  /** Max-Forwards, or undefined when absent (RFC 2543 peers). */
  maxForwards?: number;
}

export interface SipResponse extends MessageBase {
  kind: 'response';
  status: number;
  reason: string;
}

export type SipMessage = SipRequest | SipResponse;

/**
 * Why a message could not be parsed, and whether enough of it was understood
 * to send a 400 (a request whose start line, Via, From, To, Call-ID and CSeq
 * could be read). `status` is 400 by default, 505 for an unknown SIP version.
 */
export interface ParseFailure {
  ok: false;
  reason: string;
  status: number;
  /** Present when a response can be sent: the raw headers to copy into it. */
  respondTo?: { method: string; headers: Header[] };
}

export interface ParseSuccess {
  ok: true;
  message: SipMessage;
  /** Bytes of the input used by this message (stream framing). */
  consumed: number;
}

export type ParseResult = ParseSuccess | ParseFailure;

/** Limits on what the parser accepts from the network; all configurable. */
export interface ParseLimits {
  maxMessageBytes: number;
  maxHeaders: number;
  maxHeaderLineBytes: number;
}

export const DEFAULT_PARSE_LIMITS: ParseLimits = {
  maxMessageBytes: 65_535,
  maxHeaders: 256,
  maxHeaderLineBytes: 8_192,
};

/** Where a message came from or goes to. connectionId pins a stream connection. */
export interface Endpoint {
  transport: TransportName;
  address: string;
  port: number;
  connectionId?: number;
}
