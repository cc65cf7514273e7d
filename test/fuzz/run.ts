// Mutation fuzzer for the SIP parser, serializer and stream framer.
//
//   node --import tsx test/fuzz/run.ts [--iterations N] [--seconds S] [--seed X]
//
// Seeds: every RFC 4475/5118 torture message plus a few everyday messages.
// Each iteration applies 1-4 random mutations (bit flips, byte insert/delete,
// truncation, header-line splicing and duplication, huge values, line-end
// changes) and checks that nothing throws, that the parser's defensive catch
// is never what answered, and that every accepted message survives
// serialize -> parse with the same key fields. Failing inputs are written to
// test-artifacts/fuzz/. The unit test (test/unit/sip/fuzz.test.ts) runs a short
// seeded pass of the same engine.

import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { ParseLimits } from '../../src/sip/message.ts';
import { DEFAULT_PARSE_LIMITS } from '../../src/sip/message.ts';
import { frameStream, parseMessage } from '../../src/sip/parser.ts';
import { serializeMessage } from '../../src/sip/serializer.ts';
import { makeRng } from '../lib/prng.ts';
import type { Rng } from '../lib/prng.ts';
import { TORTURE_DIR } from '../lib/torture.ts';

function crlf(text: string): Buffer {
  return Buffer.from(text.replace(/\r?\n/g, '\r\n'), 'utf8');
}

const EVERYDAY = [
  `INVITE sip:bob@biloxi.example.com SIP/2.0
Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;rport
Max-Forwards: 70
To: Bob <sip:bob@biloxi.example.com>
From: "Alice" <sip:alice@atlanta.example.com>;tag=1928301774
Call-ID: a84b4c76e66710@pc33.atlanta.example.com
CSeq: 314159 INVITE
Contact: <sip:alice@pc33.atlanta.example.com;transport=udp>
Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>
Supported: replaces, timer
Content-Type: application/sdp
Content-Length: 130

v=0
o=alice 2890844526 2890844526 IN IP4 192.0.2.101
s=-
c=IN IP4 192.0.2.101
t=0 0
m=audio 49172 RTP/AVP 0 8 101
a=rtpmap:101 telephone-event/8000
`,
  `REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/TCP [2001:db8::10]:5060;branch=z9hG4bK-524287-1;rport
Max-Forwards: 70
Contact: <sip:1001@[2001:db8::10]:5060;transport=tcp>;expires=3600;+sip.instance="<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>";reg-id=1
To: <sip:1001@example.com>
From: <sip:1001@example.com>;tag=8a3b1d4c
Call-ID: ZmQ4NjQ2ZjE0YjJmNDI0OGE5N2M
CSeq: 2 REGISTER
Authorization: Digest username="1001",realm="example.com",nonce="5f2b8c1d",uri="sip:example.com",response="0a4f113b9c8d7e6f",algorithm=MD5,cnonce="6b8b4567",qop=auth,nc=00000001
Content-Length: 0

`,
  `SIP/2.0 200 OK
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-1;received=192.0.2.10;rport=5060
To: <sip:1001@example.com>;tag=as7d8f
From: <sip:1001@example.com>;tag=8a3b1d4c
Call-ID: ZmQ4NjQ2ZjE0YjJmNDI0OGE5N2M
CSeq: 2 REGISTER
Contact: <sip:1001@192.0.2.10:5060>;expires=3600
Content-Length: 0

`,
];

/** Torture messages (CRLF line ends everywhere) plus everyday messages. */
export function loadCorpus(): Buffer[] {
  const out = EVERYDAY.map(crlf);
  const dir = new URL('msgs/', TORTURE_DIR);
  for (const f of readdirSync(dir).sort()) {
    if (!f.endsWith('.dat')) continue;
    const raw = readFileSync(new URL(f, dir));
    // RFC 5118 files use bare LF; convert those without touching binary bodies that already use CRLF.
    out.push(raw.includes('\r\n') ? raw : crlf(raw.toString('latin1')));
  }
  return out;
}

const INTERESTING = Buffer.from(' \t\r\n:;,<>"\\%@[]?=&/0123456789\u0000\u007f\u00ff', 'latin1');

function lines(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let s = 0;
  for (;;) {
    const i = buf.indexOf('\r\n', s);
    if (i < 0) break;
    out.push(buf.subarray(s, i + 2));
    s = i + 2;
  }
  out.push(buf.subarray(s));
  return out;
}

function mutateOnce(buf: Buffer, rng: Rng, corpus: Buffer[]): Buffer {
  const n = buf.length;
  const pos = Math.floor(rng() * (n + 1));
  const pick = (b: Buffer) => b[Math.floor(rng() * b.length)] ?? 0x20;
  switch (Math.floor(rng() * 10)) {
    case 0: {
      if (n === 0) return buf;
      const out = Buffer.from(buf);
      const p = Math.min(pos, n - 1);
      out[p] = (out[p] ?? 0) ^ (1 << Math.floor(rng() * 8));
      return out;
    }
    case 1:
      return Buffer.concat([buf.subarray(0, pos), Buffer.from([rng() < 0.7 ? pick(INTERESTING) : Math.floor(rng() * 256)]), buf.subarray(pos)]);
    case 2:
      return Buffer.concat([buf.subarray(0, pos), buf.subarray(Math.min(n, pos + 1 + Math.floor(rng() * 8)))]);
    case 3:
      return buf.subarray(0, pos);
    case 4: {
      // Splice a header line from another message in at a line boundary.
      const other = lines(corpus[Math.floor(rng() * corpus.length)]!);
      const mine = lines(buf);
      const at = Math.floor(rng() * (mine.length + 1));
      mine.splice(at, 0, other[Math.floor(rng() * other.length)]!);
      return Buffer.concat(mine);
    }
    case 5: {
      const mine = lines(buf);
      const at = Math.floor(rng() * mine.length);
      mine.splice(at, 0, mine[at]!);
      return Buffer.concat(mine);
    }
    case 6: {
      // A huge value: long runs of one octet or digits, sometimes past every limit.
      const len = rng() < 0.1 ? 20_000 + Math.floor(rng() * 60_000) : 1 + Math.floor(rng() * 3000);
      const fill = rng() < 0.5 ? 0x39 : pick(INTERESTING);
      return Buffer.concat([buf.subarray(0, pos), Buffer.alloc(len, fill), buf.subarray(pos)]);
    }
    case 7: {
      // Line-end games: CRLF -> LF, or a folding continuation.
      const i = buf.indexOf('\r\n', pos);
      if (i < 0) return buf;
      const repl = rng() < 0.5 ? '\n' : '\r\n ';
      return Buffer.concat([buf.subarray(0, i), Buffer.from(repl), buf.subarray(i + 2)]);
    }
    case 8: {
      // Swap two header lines.
      const mine = lines(buf);
      if (mine.length < 3) return buf;
      const a = 1 + Math.floor(rng() * (mine.length - 1));
      const b = 1 + Math.floor(rng() * (mine.length - 1));
      [mine[a], mine[b]] = [mine[b]!, mine[a]!];
      return Buffer.concat(mine);
    }
    default: {
      // Overwrite a run with bytes copied from elsewhere in the message.
      if (n < 2) return buf;
      const from = Math.floor(rng() * n);
      const len = 1 + Math.floor(rng() * 16);
      const out = Buffer.from(buf);
      buf.copy(out, Math.min(pos, n - 1), from, Math.min(n, from + len));
      return out;
    }
  }
}

export function mutate(buf: Buffer, rng: Rng, corpus: Buffer[]): Buffer {
  let out = buf;
  const count = 1 + Math.floor(rng() * 4);
  for (let i = 0; i < count; i++) out = mutateOnce(out, rng, corpus);
  return out;
}

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

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function main(): void {
  const seed = Number(arg('--seed') ?? Date.now() % 0x7fffffff);
  const seconds = arg('--seconds') !== undefined ? Number(arg('--seconds')) : undefined;
  const iterations = arg('--iterations') !== undefined ? Number(arg('--iterations')) : seconds === undefined ? 100_000 : undefined;
  const outDir = new URL('../../test-artifacts/fuzz/', import.meta.url);
  console.log(`fuzz: seed=${seed} iterations=${iterations ?? '-'} seconds=${seconds ?? '-'}`);
  const t0 = Date.now();
  let shown = 0;
  const report = runFuzz({
    seed,
    ...(iterations !== undefined ? { iterations } : {}),
    ...(seconds !== undefined ? { seconds } : {}),
    onFailure: (input, problem, it) => {
      if (++shown > 20) return;
      mkdirSync(outDir, { recursive: true });
      const file = new URL(`seed${seed}-it${it}.bin`, outDir);
      writeFileSync(file, input);
      console.log(`FAIL at iteration ${it}: ${problem.split('\n')[0]} -> ${file.pathname}`);
    },
  });
  const secs = (Date.now() - t0) / 1000;
  console.log(`fuzz: ${report.iterations} inputs in ${secs.toFixed(1)} s, ${report.accepted} accepted, ${report.failures} failures`);
  process.exitCode = report.failures > 0 ? 1 : 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
