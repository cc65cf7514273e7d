// Shared by the UA unit tests: messages come from text through the real
// parser, and what the UA sends is checked as bytes parsed back.
import type { Endpoint, SipMessage, SipRequest, SipResponse } from '../../../../src/sip/message.ts';
import { parseMessage } from '../../../../src/sip/parser.ts';
import { serializeMessage } from '../../../../src/sip/serializer.ts';
import { TransactionLayer } from '../../../../src/sip/transaction/layer.ts';
import { ManualTimerQueue } from '../../../../src/sip/timer-queue.ts';
import { UserAgentCore } from '../../../../src/sip/ua/core.ts';
import type { UserAgentCoreOptions } from '../../../../src/sip/ua/core.ts';
import { FakeSender, inbound, UDP_PEER } from '../transaction/factory.ts';

export { inbound, UDP_PEER };

export function parse(text: string): SipMessage {
  const r = parseMessage(Buffer.from(text.replace(/\n/g, '\r\n')));
  if (!r.ok) throw new Error('test message does not parse: ' + r.reason);
  return r.message;
}

export function parseReq(text: string): SipRequest {
  return parse(text) as SipRequest;
}

/** The message as the peer would read it off the wire. */
export function reparse(msg: SipMessage): SipMessage {
  const r = parseMessage(serializeMessage(msg));
  if (!r.ok) throw new Error('we sent something that does not parse: ' + r.reason);
  return r.message;
}

export function header(msg: SipMessage, name: string): string | undefined {
  return msg.headers.find((h) => h.name === name)?.value;
}

let n = 0;

/** A request from alice at 192.0.2.10 to bob. */
export function request(method: string, o: { toTag?: string; fromTag?: string; callId?: string; seq?: number; uri?: string; extra?: string[]; body?: string; branch?: string } = {}): SipRequest {
  n++;
  const body = o.body ?? '';
  const lines = [
    `${method} ${o.uri ?? 'sip:bob@192.0.2.1'} SIP/2.0`,
    `Via: SIP/2.0/UDP 192.0.2.10:5060;branch=${o.branch ?? 'z9hG4bKua' + n}`,
    'Max-Forwards: 70',
    `From: <sip:alice@example.org>;tag=${o.fromTag ?? 'ft' + n}`,
    `To: <sip:bob@example.com>${o.toTag ? ';tag=' + o.toTag : ''}`,
    `Call-ID: ${o.callId ?? 'call' + n + '@test'}`,
    `CSeq: ${o.seq ?? 1} ${method}`,
    'Contact: <sip:alice@192.0.2.10:5060>',
    ...(o.extra ?? []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ];
  return parseReq(lines.join('\n'));
}

/** A response to `req` as the peer would write it. */
export function responseTo(req: SipRequest, status: number, o: { toTag?: string; extra?: string[]; reason?: string; body?: string } = {}): SipResponse {
  const get = (name: string): string => req.headers.filter((h) => h.name === name).map((h) => h.value)[0]!;
  const via = req.headers.filter((h) => h.name === 'via').map((h) => 'Via: ' + h.value);
  const to = get('to') + (o.toTag !== undefined && req.to.params.get('tag') == null ? ';tag=' + o.toTag : '');
  const body = o.body ?? '';
  const lines = [
    `SIP/2.0 ${status} ${o.reason ?? 'Reason'}`,
    ...via,
    `From: ${get('from')}`,
    `To: ${to}`,
    `Call-ID: ${req.callId}`,
    `CSeq: ${req.cseq.seq} ${req.cseq.method}`,
    ...(o.extra ?? []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ];
  return parse(lines.join('\n')) as SipResponse;
}

export interface UaHarness {
  timers: ManualTimerQueue;
  sender: FakeSender;
  layer: TransactionLayer;
  core: UserAgentCore;
  /** Feeds a message in as if it came from `from`. */
  receive(msg: SipMessage, from?: Endpoint): void;
  /** What was sent, parsed back from its bytes. */
  sent(): SipMessage[];
  lastSent(): SipMessage;
  sentRequests(method: string): SipRequest[];
  sentResponses(): SipResponse[];
}

export function uaHarness(opts: Partial<UserAgentCoreOptions> = {}): UaHarness {
  const timers = new ManualTimerQueue();
  const sender = new FakeSender(timers.clock);
  const core = new UserAgentCore({
    allowedMethods: ['INVITE', 'BYE', 'OPTIONS', 'REGISTER', 'SUBSCRIBE', 'NOTIFY', 'REFER', 'UPDATE', 'INFO', 'PRACK'],
    supportedOptions: ['100rel', 'timer', 'replaces', 'norefersub'],
    ...opts,
  });
  const layer = new TransactionLayer({ sender, timers, clock: timers.clock, autoTrying: false, onRequest: core.onRequest });
  core.transactions = layer;
  const sent = (): SipMessage[] => sender.sent.map((s) => reparse(s.message));
  return {
    timers, sender, layer, core,
    receive: (msg, from = UDP_PEER) => layer.receive(inbound(msg, from)),
    sent,
    lastSent: () => reparse(sender.last()!),
    sentRequests: (method) => sent().filter((m): m is SipRequest => m.kind === 'request' && m.method === method),
    sentResponses: () => sent().filter((m): m is SipResponse => m.kind === 'response'),
  };
}
