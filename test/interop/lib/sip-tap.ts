// Every SIP message an in-process Switchboard receives or sends, as wire text
// with a timestamp and the peer's address: a trace of what the third-party
// programs really sent (also over TLS, which a capture cannot read without
// keys) and of what the server answered. Hooks the transport layer of the
// running server from the outside (its onInbound callback and its transmit
// step); nothing in src/ knows about it.
import { serializeMessage } from '../../../src/sip/serializer.ts';
import type { Server } from '../../../src/server.ts';
import { sdpMediaEnd } from './rtp-capture.ts';
import type { MediaEnd } from './rtp-capture.ts';

export interface TappedMessage {
  dir: 'in' | 'out';
  /** Date.now() when the transport handled it. */
  at: number;
  transport: string;
  /** The other end: where it came from (in) or where it went (out). */
  peer: { address: string; port: number };
  text: string;
  /** "INVITE sip:...@... SIP/2.0" or "SIP/2.0 200 OK". */
  startLine: string;
  /** Request method, or the CSeq method of a response. */
  method: string;
  /** 0 for requests. */
  status: number;
  reason: string;
  callId: string;
}

/** A header's values (compact forms too), from the wire text of one message. */
export function headerValues(text: string, name: string, compact?: string): string[] {
  const head = text.split(/\r?\n\r?\n/)[0] ?? '';
  const names = [name.toLowerCase(), ...(compact !== undefined ? [compact.toLowerCase()] : [])];
  const out: string[] = [];
  for (const line of head.split(/\r?\n/).slice(1)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    if (names.includes(line.slice(0, colon).trim().toLowerCase())) out.push(line.slice(colon + 1).trim());
  }
  return out;
}

export function bodyOf(text: string): string {
  const i = text.search(/\r?\n\r?\n/);
  return i < 0 ? '' : text.slice(i).replace(/^\r?\n\r?\n/, '');
}

function describe(dir: 'in' | 'out', transport: string, peer: { address: string; port: number }, text: string): TappedMessage {
  const startLine = text.split(/\r?\n/, 1)[0] ?? '';
  const st = /^SIP\/2\.0 (\d{3}) ?(.*)$/.exec(startLine);
  const cseq = headerValues(text, 'cseq')[0] ?? '';
  const method = st !== null ? (cseq.split(/\s+/)[1] ?? '').toUpperCase() : (startLine.split(' ')[0] ?? '');
  return {
    dir,
    at: Date.now(),
    transport,
    peer,
    text,
    startLine,
    method,
    status: st !== null ? Number(st[1]) : 0,
    reason: st?.[2] ?? '',
    callId: headerValues(text, 'call-id', 'i')[0] ?? '',
  };
}

/** Where a message's SDP asks for media (sdpMediaEnd); throws when it has none. */
export function mediaEndOf(m: TappedMessage | undefined, what: string): MediaEnd {
  const sdp = m === undefined ? '' : bodyOf(m.text);
  const end = sdpMediaEnd(sdp);
  if (end === null) throw new Error(`no media address in ${what}:\n${sdp || '(no SDP)'}`);
  return end;
}

/** Every media end the SDPs in these traces name since the marks: one call's, when the marks are its start. */
export function callMediaEnds(traces: ReadonlyArray<{ tap: SipTap; since: number }>): Set<MediaEnd> {
  const ends = new Set<MediaEnd>();
  for (const { tap, since } of traces) {
    for (const m of tap.find((x) => x.text.includes('\r\nm=audio '), since)) {
      const end = sdpMediaEnd(bodyOf(m.text));
      if (end !== null) ends.add(end);
    }
  }
  return ends;
}

export class SipTap {
  readonly messages: TappedMessage[] = [];

  /** Starts recording on a running server. Throws if the transport no longer has the hooks used here. */
  static attach(server: Server): SipTap {
    const tap = new SipTap();
    const layer = server.transport as unknown as Record<string, unknown>;
    const onInbound = layer.onInbound;
    const transmit = layer.transmit;
    if (typeof onInbound !== 'function' || typeof transmit !== 'function') {
      throw new Error('SipTap: TransportLayer has no onInbound/transmit to hook (src/sip/transport/layer.ts changed): update test/interop/lib/sip-tap.ts');
    }
    layer.onInbound = (inbound: { message: Parameters<typeof serializeMessage>[0]; source: { transport: string; address: string; port: number } }) => {
      try {
        tap.push(describe('in', inbound.source.transport, inbound.source, serializeMessage(inbound.message).toString('utf8')));
      } catch {
        // A message the serializer refuses is still delivered.
      }
      return (onInbound as (i: unknown) => unknown).call(server.transport, inbound);
    };
    layer.transmit = (data: Buffer, dest: { transport: string; address: string; port: number }, onError: unknown) => {
      tap.push(describe('out', dest.transport, dest, data.toString('utf8')));
      return (transmit as (...a: unknown[]) => unknown).call(server.transport, data, dest, onError);
    };
    return tap;
  }

  private push(m: TappedMessage): void {
    // Bounded: a long test keeps the last 20,000 messages.
    if (this.messages.length >= 20_000) this.messages.splice(0, 5_000);
    this.messages.push(m);
  }

  /** Index to pass as `since` to look only at what comes after now. */
  mark(): number {
    return this.messages.length;
  }

  find(pred: (m: TappedMessage) => boolean, since = 0): TappedMessage[] {
    return this.messages.slice(since).filter(pred);
  }

  /** Requests the server received (dir in) or sent (dir out) with this method. */
  requests(dir: 'in' | 'out', method: string, since = 0): TappedMessage[] {
    return this.find((m) => m.dir === dir && m.status === 0 && m.method === method, since);
  }

  /** Responses the server received (in) or sent (out) to requests of this method. */
  responses(dir: 'in' | 'out', method: string, since = 0): TappedMessage[] {
    return this.find((m) => m.dir === dir && m.status > 0 && m.method === method, since);
  }

  /** Resolves with the first message matching pred (from since), or null after timeoutMs. */
  async waitFor(pred: (m: TappedMessage) => boolean, timeoutMs = 10_000, since = 0): Promise<TappedMessage | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.messages.slice(since).find(pred);
      if (hit !== undefined) return hit;
      if (Date.now() > deadline) return null;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** The trace as text (start lines only, or whole messages), for failure messages. */
  dump(opts: { full?: boolean; since?: number; last?: number } = {}): string {
    let list = this.messages.slice(opts.since ?? 0);
    if (opts.last !== undefined) list = list.slice(-opts.last);
    const t0 = this.messages[0]?.at ?? 0;
    return list
      .map((m) => {
        const arrow = m.dir === 'in' ? '<-' : '->';
        const head = `+${m.at - t0}ms ${arrow} ${m.transport} ${m.peer.address}:${m.peer.port} ${m.startLine}  [${m.callId.slice(0, 24)}]`;
        return opts.full === true ? `${head}\n${m.text.trimEnd()}\n` : head;
      })
      .join('\n');
  }
}
