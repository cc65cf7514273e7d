// Byte-level mutations of SIP messages, seeded: bit flips, byte insert and
// delete, truncation, header-line splicing and duplication, huge values,
// line-end changes. The same engine feeds the in-process and network fuzzers.

import type { Rng } from '../lib/prng.ts';

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

