// The in-process fuzzer: mutated messages straight into the parser,
// serializer and stream framer. Checks that nothing throws, that the
// parser's defensive catch is never what answered, and that every accepted
// message survives serialize -> parse with the same key fields.

import type { ParseLimits } from '../../src/sip/message.ts';
import { DEFAULT_PARSE_LIMITS } from '../../src/sip/message.ts';
import { frameStream, parseMessage } from '../../src/sip/parser.ts';
import { serializeMessage } from '../../src/sip/serializer.ts';
import { makeRng } from '../lib/prng.ts';
import { loadCorpus } from './corpus.ts';
import { mutate } from './mutate.ts';

/** The reason parseMessage's defensive catch answers with: reaching it means a parser bug. */
const CAUGHT = 'Unparseable message';

/** Check one input; returns a description of the problem, or undefined when all is well. */
export function checkInput(buf: Buffer, limits: ParseLimits = DEFAULT_PARSE_LIMITS): string | undefined {
  try {
    const r = parseMessage(buf, { limits });
    if (!r.ok && r.reason === CAUGHT) return 'datagram parse threw internally';
    if (!r.ok && !/^[\x20-\x7e]{1,80}$/.test(r.reason)) return `unsafe reason text: ${JSON.stringify(r.reason)}`;
    const s = parseMessage(buf, { limits, stream: true });
    if (!s.ok && s.reason === CAUGHT) return 'stream parse threw internally';
    let offset = 0;
    for (let k = 0; k < 64; k++) {
      const f = frameStream(buf, offset, limits);
      if (f.kind === 'need-more' || f.kind === 'error') break;
      const end = f.kind === 'keepalive' ? f.end : f.end;
      if (end <= offset) return 'frameStream made no progress';
      if (f.kind === 'message') {
        const m = parseMessage(buf.subarray(f.start, f.end), { limits, stream: true });
        if (!m.ok && m.reason === CAUGHT) return 'framed parse threw internally';
      }
      offset = end;
    }
    if (r.ok) {
      const wire = serializeMessage(r.message);
      // Serializing may add a Content-Length line and spell compact names out
      // ("d" -> "Request-Disposition"), so the re-parse gets that much slack.
      const slack: ParseLimits = {
        maxMessageBytes: Math.max(limits.maxMessageBytes, wire.length),
        maxHeaders: limits.maxHeaders + 1,
        maxHeaderLineBytes: limits.maxHeaderLineBytes + 32,
      };
      const again = parseMessage(wire, { limits: slack });
      if (!again.ok) return `serialized message does not re-parse: ${again.reason}`;
      const a = r.message;
      const b = again.message;
      if (a.callId !== b.callId) return 'Call-ID changed through serialization';
      if (a.cseq.seq !== b.cseq.seq || a.cseq.method !== b.cseq.method) return 'CSeq changed through serialization';
      if (a.via.length !== b.via.length) return 'Via count changed through serialization';
      if (Buffer.compare(a.body, b.body) !== 0) return 'body changed through serialization';
      if (a.from.params.get('tag') !== b.from.params.get('tag')) return 'From tag changed through serialization';
    }
    return undefined;
  } catch (err) {
    return `threw: ${(err as Error).stack ?? String(err)}`;
  }
}

const TIGHT: ParseLimits = { maxMessageBytes: 600, maxHeaders: 10, maxHeaderLineBytes: 100 };

export interface FuzzOptions {
  seed: number;
  iterations?: number;
  seconds?: number;
  onFailure?: (input: Buffer, problem: string, iteration: number) => void;
}

export interface FuzzReport {
  iterations: number;
  failures: number;
  accepted: number;
}

export function runFuzz(opts: FuzzOptions, corpus: Buffer[] = loadCorpus()): FuzzReport {
  const rng = makeRng(opts.seed);
  const deadline = opts.seconds !== undefined ? Date.now() + opts.seconds * 1000 : Infinity;
  const max = opts.iterations ?? Infinity;
  let failures = 0;
  let accepted = 0;
  let i = 0;
  for (; i < max && (i % 256 !== 0 || Date.now() < deadline); i++) {
    const seed = corpus[Math.floor(rng() * corpus.length)]!;
    const input = mutate(seed, rng, corpus);
    // Now and then tight limits, so the limit paths get fuzzed as well.
    const problem = checkInput(input, rng() < 0.1 ? TIGHT : DEFAULT_PARSE_LIMITS);
    if (problem !== undefined) {
      failures++;
      opts.onFailure?.(input, problem, i);
    } else if (parseMessage(input).ok) {
      accepted++;
    }
  }
  return { iterations: i, failures, accepted };
}

