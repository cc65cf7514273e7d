// Builds SipMessage objects directly (no parser) and a recording MessageSender,
// so the state machines are tested on their own.
import type { Endpoint, Header, NameAddr, SipMessage, SipRequest, SipResponse, TransportName, Via } from '../../../../src/sip/message.ts';
import type { Clock } from '../../../../src/sip/clock.ts';
import type { Inbound, MessageSender, PreparedMessage } from '../../../../src/sip/transport/types.ts';
import { serializeMessage } from '../../../../src/sip/serializer.ts';
import { ManualTimerQueue } from '../../../../src/sip/timer-queue.ts';
import { TransactionLayer } from '../../../../src/sip/transaction/layer.ts';
import type { TransactionLayerOptions } from '../../../../src/sip/transaction/layer.ts';
import type { InviteServerTransaction, ServerTransaction } from '../../../../src/sip/transaction/types.ts';

let counter = 0;

export interface RequestSpec {
  method?: string;
  branch?: string | null;
  uri?: string;
  callId?: string;
  fromTag?: string;
  toTag?: string;
  seq?: number;
  viaHost?: string;
  viaPort?: number;
  viaTransport?: string;
  routes?: string[];
}

function nameAddr(user: string, host: string, tag: string | undefined): { na: NameAddr; raw: string } {
  const params = new Map<string, string | null>();
  if (tag !== undefined) params.set('tag', tag);
  const na: NameAddr = { uri: { scheme: 'sip', user, host, params: new Map(), headers: new Map() }, params };
  return { na, raw: `<sip:${user}@${host}>${tag !== undefined ? `;tag=${tag}` : ''}` };
}

export function makeRequest(spec: RequestSpec = {}): SipRequest {
  const n = ++counter;
  const method = spec.method ?? 'INVITE';
  const uri = spec.uri ?? 'sip:bob@example.com';
  const via: Via = {
    protocol: 'SIP/2.0',
    transport: spec.viaTransport ?? 'UDP',
    host: spec.viaHost ?? '192.0.2.10',
    port: spec.viaPort ?? 5060,
    params: new Map(),
  };
  const branch = spec.branch === undefined ? `z9hG4bK-test-${n}` : spec.branch;
  if (branch !== null) via.params.set('branch', branch);
  const from = nameAddr('alice', 'example.org', spec.fromTag ?? `ft${n}`);
  const to = nameAddr('bob', 'example.com', spec.toTag);
  const callId = spec.callId ?? `call-${n}@test`;
  const seq = spec.seq ?? 1;
  const viaRaw = `SIP/2.0/${via.transport} ${via.host}:${via.port}${branch !== null ? `;branch=${branch}` : ''}`;
  const headers: Header[] = [
    { name: 'via', value: viaRaw },
    { name: 'max-forwards', value: '70' },
    ...(spec.routes ?? []).map((r) => ({ name: 'route', value: r })),
    { name: 'from', value: from.raw },
    { name: 'to', value: to.raw },
    { name: 'call-id', value: callId },
    { name: 'cseq', value: `${seq} ${method}` },
    { name: 'content-length', value: '0' },
  ];
  return {
    kind: 'request',
    method,
    uriRaw: uri,
    uri: { scheme: 'sip', user: 'bob', host: 'example.com', params: new Map(), headers: new Map() },
    maxForwards: 70,
    headers,
    body: Buffer.alloc(0),
    via: [via],
    from: from.na,
    to: to.na,
    callId,
    cseq: { seq, method },
  };
}

/** A response to `req`; `toTag` is added to To as a UAS would. */
export function makeResponse(req: SipRequest, status: number, toTag?: string, reason = 'Reason'): SipResponse {
  const toParams = new Map(req.to.params);
  let toRaw = req.headers.find((h) => h.name === 'to')!.value;
  if (toTag !== undefined && !toParams.has('tag')) {
    toParams.set('tag', toTag);
    toRaw += `;tag=${toTag}`;
  }
  const headers: Header[] = req.headers
    .filter((h) => h.name === 'via' || h.name === 'from' || h.name === 'call-id' || h.name === 'cseq')
    .concat([{ name: 'to', value: toRaw }]);
  return {
    kind: 'response',
    status,
    reason,
    headers,
    body: Buffer.alloc(0),
    via: req.via,
    from: req.from,
    to: { uri: req.to.uri, params: toParams },
    callId: req.callId,
    cseq: req.cseq,
  };
}

/** A copy of `req` as a new object, like a retransmission parsed again. */
export function retransmissionOf(req: SipRequest): SipRequest {
  return { ...req, via: req.via.map((v) => ({ ...v, params: new Map(v.params) })) };
}

export interface Sent {
  message: SipMessage;
  dest: Endpoint;
  /** Clock reading at the send. */
  at: number;
  /** The prepared message sent, when it went through sendPrepared. */
  prepared?: PreparedMessage;
}

/** What FakeSender.prepare makes: real bytes, plus the message itself unless `keep` is off. */
interface FakePrepared extends PreparedMessage {
  readonly kind: string | number;
  readonly message: SipMessage | undefined;
}

function kindOf(m: SipMessage): string | number {
  return m.kind === 'request' ? m.method : m.status;
}

function matches(m: SipMessage, what: string | number): boolean {
  return kindOf(m) === what;
}

export class FakeSender implements MessageSender {
  readonly sent: Sent[] = [];
  reliable = new Set<TransportName>(['tcp', 'tls']);
  /** When set, the next sends fail with this error; 'sync' calls onError inside send. */
  failMode: 'none' | 'sync' | 'async' = 'none';
  /** False keeps only per-kind counts (large runs), and prepared messages then hold bytes only. */
  keep = true;
  /** Calls of send, prepare and sendPrepared: serializations are sends + prepares. */
  readonly calls = { send: 0, prepare: 0, sendPrepared: 0 };
  private readonly counts = new Map<string | number, number>();

  constructor(private readonly clock: Clock = { now: () => 0 }) {}

  send(message: SipMessage, dest: Endpoint, onError?: (err: Error) => void): void {
    this.calls.send++;
    this.record(kindOf(message), message, dest, undefined, onError);
  }

  prepare(message: SipMessage, dest: Endpoint): PreparedMessage {
    this.calls.prepare++;
    const prepared: FakePrepared = { data: serializeMessage(message), dest, kind: kindOf(message), message: this.keep ? message : undefined };
    return prepared;
  }

  sendPrepared(prepared: PreparedMessage, onError?: (err: Error) => void): void {
    this.calls.sendPrepared++;
    const p = prepared as FakePrepared;
    this.record(p.kind, p.message, p.dest, p, onError);
  }

  private record(kind: string | number, message: SipMessage | undefined, dest: Endpoint, prepared: PreparedMessage | undefined, onError?: (err: Error) => void): void {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
    if (this.keep && message) this.sent.push({ message, dest, at: this.clock.now(), prepared });
    if (this.failMode === 'none' || !onError) return;
    const err = new Error('send failed');
    if (this.failMode === 'sync') onError(err);
    else queueMicrotask(() => onError(err));
  }

  isReliable(transport: TransportName): boolean {
    return this.reliable.has(transport);
  }

  localEndpoint(): { address: string; port: number } {
    return { address: '192.0.2.1', port: 5060 };
  }

  /** Sends so far whose start line matches, e.g. 'INVITE', 'ACK', 100, 486. */
  count(what: string | number): number {
    return this.counts.get(what) ?? 0;
  }

  /** Clock readings of the sends matching `what`. */
  times(what: string | number): number[] {
    return this.sent.filter((s) => matches(s.message, what)).map((s) => s.at);
  }

  all(what: string | number): SipMessage[] {
    return this.sent.filter((s) => matches(s.message, what)).map((s) => s.message);
  }

  last(): SipMessage | undefined {
    return this.sent[this.sent.length - 1]?.message;
  }
}

export const UDP_PEER: Endpoint = { transport: 'udp', address: '192.0.2.10', port: 5060 };
export const TCP_PEER: Endpoint = { transport: 'tcp', address: '192.0.2.10', port: 5060, connectionId: 7 };

export function inbound(message: SipMessage, source: Endpoint = UDP_PEER): Inbound {
  return { message, source, local: { transport: source.transport, address: '192.0.2.1', port: 5060 } };
}

export interface Harness {
  timers: ManualTimerQueue;
  sender: FakeSender;
  layer: TransactionLayer;
  requests: { req: SipRequest; tx: ServerTransaction | undefined }[];
  strayResponses: SipResponse[];
  strayAcks: { ack: SipRequest; tx: InviteServerTransaction | undefined }[];
}

export function harness(options: Partial<TransactionLayerOptions> = {}, answer?: (req: SipRequest, tx: ServerTransaction | undefined) => void): Harness {
  const timers = new ManualTimerQueue();
  const sender = new FakeSender(timers.clock);
  const requests: Harness['requests'] = [];
  const strayResponses: SipResponse[] = [];
  const strayAcks: Harness['strayAcks'] = [];
  const layer = new TransactionLayer({
    sender,
    timers,
    clock: timers.clock,
    onRequest: (req, tx) => {
      requests.push({ req, tx });
      answer?.(req, tx);
    },
    onStrayResponse: (res) => strayResponses.push(res),
    onStrayAck: (ack, _in, tx) => strayAcks.push({ ack, tx }),
    ...options,
  });
  return { timers, sender, layer, requests, strayResponses, strayAcks };
}

/** Handlers that record what the client transaction reported. */
export function recorder() {
  const events: { responses: SipResponse[]; timeouts: number; errors: Error[] } = { responses: [], timeouts: 0, errors: [] };
  return {
    events,
    handlers: {
      onResponse: (r: SipResponse) => void events.responses.push(r),
      onTimeout: () => void events.timeouts++,
      onTransportError: (e: Error) => void events.errors.push(e),
    },
  };
}
