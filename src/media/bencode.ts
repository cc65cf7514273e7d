// Bencode, the encoding of rtpengine's ng control protocol: byte strings
// ("4:spam"), integers ("i42e"), lists ("l...e") and dictionaries ("d...e").
//
// Decoding is for data from the network, so it never throws: it returns a
// reason, and it is bounded in nesting depth, input size, element count and
// string/integer length, so a hostile reply cannot exhaust the stack or the
// heap. Strings decode to Buffers (bencode strings are bytes; rtpengine puts
// SDP in them), dictionary keys to UTF-8 strings in a prototype-less object,
// so a key such as "__proto__" is just a key.
//
// rtpengine does not sort dictionary keys (its docs say so), so the decoder
// accepts any order; the encoder sorts them as the standard asks.

/** A decoded value. */
export type BencodeValue = Buffer | number | BencodeValue[] | BencodeDict;
export interface BencodeDict {
  [key: string]: BencodeValue;
}

/** What encodeBencode accepts: strings are written as UTF-8; undefined dictionary values are left out. */
export type BencodeInput = string | Buffer | Uint8Array | number | readonly BencodeInput[] | { readonly [key: string]: BencodeInput | undefined };

export interface BencodeLimits {
  /** Bytes of the whole input. */
  maxBytes: number;
  /** Nesting of lists and dictionaries. */
  maxDepth: number;
  /** Strings, integers, lists and dictionaries in total. */
  maxItems: number;
}

export const DEFAULT_BENCODE_LIMITS: Readonly<BencodeLimits> = Object.freeze({
  maxBytes: 1024 * 1024,
  maxDepth: 32,
  maxItems: 100_000,
});

export type DecodeResult = { ok: true; value: BencodeValue } | { ok: false; reason: string };

/** Thrown by encodeBencode (only) for a value bencode cannot carry. */
export class BencodeError extends Error {
  override name = 'BencodeError';
}

const COLON = 0x3a;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;
const E = 0x65;
/** Digits of Number.MAX_SAFE_INTEGER: anything longer cannot be exact. */
const MAX_INT_DIGITS = 16;

class Fail {
  constructor(readonly reason: string) {}
}

class Decoder {
  pos = 0;
  items = 0;
  constructor(
    readonly buf: Buffer,
    readonly limits: BencodeLimits,
  ) {}

  value(depth: number): BencodeValue | Fail {
    if (this.pos >= this.buf.length) return new Fail(`truncated at offset ${this.pos}: value expected`);
    if (++this.items > this.limits.maxItems) return new Fail(`more than ${this.limits.maxItems} items`);
    const c = this.buf[this.pos]!;
    if (c === 0x69 /* i */) return this.integer();
    if (c === 0x6c /* l */ || c === 0x64 /* d */) {
      if (depth >= this.limits.maxDepth) return new Fail(`nesting deeper than ${this.limits.maxDepth} at offset ${this.pos}`);
      return c === 0x6c ? this.list(depth + 1) : this.dict(depth + 1);
    }
    if (c >= ZERO && c <= NINE) return this.string();
    return new Fail(`unexpected byte 0x${c.toString(16).padStart(2, '0')} at offset ${this.pos}`);
  }

  /** Digits up to `end`, as a safe non-negative integer; no leading zeros except "0". */
  digits(end: number, what: string): number | Fail {
    const start = this.pos;
    let n = 0;
    while (this.pos < this.buf.length && this.buf[this.pos] !== end) {
      const c = this.buf[this.pos]!;
      if (c < ZERO || c > NINE) return new Fail(`bad ${what} at offset ${start}: byte 0x${c.toString(16)} is not a digit`);
      if (this.pos - start >= MAX_INT_DIGITS) return new Fail(`${what} at offset ${start} is too long`);
      n = n * 10 + (c - ZERO);
      this.pos++;
    }
    if (this.pos >= this.buf.length) return new Fail(`truncated ${what} at offset ${start}`);
    const len = this.pos - start;
    if (len === 0) return new Fail(`empty ${what} at offset ${start}`);
    if (len > 1 && this.buf[start] === ZERO) return new Fail(`${what} with a leading zero at offset ${start}`);
    if (!Number.isSafeInteger(n)) return new Fail(`${what} at offset ${start} is out of range`);
    this.pos++; // the terminator
    return n;
  }

  integer(): number | Fail {
    const start = this.pos++;
    const negative = this.buf[this.pos] === MINUS;
    if (negative) this.pos++;
    const n = this.digits(E, 'integer');
    if (n instanceof Fail) return n;
    if (negative && n === 0) return new Fail(`negative zero at offset ${start}`);
    return negative ? -n : n;
  }

  string(): Buffer | Fail {
    const start = this.pos;
    const len = this.digits(COLON, 'string length');
    if (len instanceof Fail) return len;
    const left = this.buf.length - this.pos;
    if (len > left) return new Fail(`string at offset ${start} claims ${len} bytes, only ${left} left`);
    // subarray shares memory; callers get a copy so the datagram can be freed.
    const s = Buffer.from(this.buf.subarray(this.pos, this.pos + len));
    this.pos += len;
    return s;
  }

  list(depth: number): BencodeValue[] | Fail {
    const start = this.pos++;
    const out: BencodeValue[] = [];
    for (;;) {
      if (this.pos >= this.buf.length) return new Fail(`truncated list starting at offset ${start}`);
      if (this.buf[this.pos] === E) {
        this.pos++;
        return out;
      }
      const v = this.value(depth);
      if (v instanceof Fail) return v;
      out.push(v);
    }
  }

  dict(depth: number): BencodeDict | Fail {
    const start = this.pos++;
    const out: BencodeDict = Object.create(null) as BencodeDict;
    for (;;) {
      if (this.pos >= this.buf.length) return new Fail(`truncated dictionary starting at offset ${start}`);
      if (this.buf[this.pos] === E) {
        this.pos++;
        return out;
      }
      const c = this.buf[this.pos]!;
      if (c < ZERO || c > NINE) return new Fail(`dictionary key at offset ${this.pos} is not a string`);
      if (++this.items > this.limits.maxItems) return new Fail(`more than ${this.limits.maxItems} items`);
      const k = this.string();
      if (k instanceof Fail) return k;
      const key = k.toString('utf8');
      if (Object.prototype.hasOwnProperty.call(out, key)) return new Fail(`duplicate dictionary key ${JSON.stringify(key)}`);
      if (this.pos >= this.buf.length) return new Fail(`truncated dictionary: no value for key ${JSON.stringify(key)}`);
      const v = this.value(depth);
      if (v instanceof Fail) return v;
      out[key] = v;
    }
  }
}

/** Decodes exactly one value filling the whole input; never throws. */
export function decodeBencode(input: Buffer | Uint8Array, limits: BencodeLimits = DEFAULT_BENCODE_LIMITS): DecodeResult {
  const buf = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  if (buf.length > limits.maxBytes) return { ok: false, reason: `input of ${buf.length} bytes exceeds ${limits.maxBytes}` };
  if (buf.length === 0) return { ok: false, reason: 'empty input' };
  const d = new Decoder(buf, limits);
  const v = d.value(0);
  if (v instanceof Fail) return { ok: false, reason: v.reason };
  if (d.pos !== buf.length) return { ok: false, reason: `${buf.length - d.pos} trailing bytes after the value at offset ${d.pos}` };
  return { ok: true, value: v };
}

/**
 * Encodes a value. Throws BencodeError for what bencode cannot carry (a
 * non-integer or unsafe number, null, a boolean, a cycle or nesting deeper
 * than maxDepth); those are programming errors, not input errors.
 */
export function encodeBencode(value: BencodeInput, maxDepth = DEFAULT_BENCODE_LIMITS.maxDepth): Buffer {
  const parts: Buffer[] = [];
  encodeInto(value, parts, 0, maxDepth);
  return Buffer.concat(parts);
}

function encodeInto(v: BencodeInput, out: Buffer[], depth: number, maxDepth: number): void {
  if (typeof v === 'string') {
    const b = Buffer.from(v, 'utf8');
    out.push(Buffer.from(`${b.length}:`, 'latin1'), b);
  } else if (v instanceof Uint8Array) {
    out.push(Buffer.from(`${v.length}:`, 'latin1'), Buffer.isBuffer(v) ? v : Buffer.from(v));
  } else if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new BencodeError(`bencode carries safe integers only, not ${v}`);
    out.push(Buffer.from(`i${v}e`, 'latin1'));
  } else if (Array.isArray(v)) {
    if (depth >= maxDepth) throw new BencodeError(`nesting deeper than ${maxDepth} (a cycle?)`);
    out.push(Buffer.from('l', 'latin1'));
    for (const item of v as readonly BencodeInput[]) encodeInto(item, out, depth + 1, maxDepth);
    out.push(Buffer.from('e', 'latin1'));
  } else if (typeof v === 'object' && v !== null) {
    if (depth >= maxDepth) throw new BencodeError(`nesting deeper than ${maxDepth} (a cycle?)`);
    const dict = v as { readonly [key: string]: BencodeInput | undefined };
    // Keys sorted as raw bytes (the standard's order), not as UTF-16 units.
    const keys = Object.keys(dict)
      .filter((k) => dict[k] !== undefined)
      .map((k) => ({ k, raw: Buffer.from(k, 'utf8') }))
      .sort((a, b) => Buffer.compare(a.raw, b.raw));
    out.push(Buffer.from('d', 'latin1'));
    for (const { k, raw } of keys) {
      out.push(Buffer.from(`${raw.length}:`, 'latin1'), raw);
      encodeInto(dict[k]!, out, depth + 1, maxDepth);
    }
    out.push(Buffer.from('e', 'latin1'));
  } else {
    throw new BencodeError(`bencode cannot carry ${v === null ? 'null' : typeof v}`);
  }
}

/** The string value of a decoded Buffer, or undefined for anything else. */
export function bencodeText(v: BencodeValue | undefined): string | undefined {
  return Buffer.isBuffer(v) ? v.toString('utf8') : undefined;
}

/** A decoded dictionary, or undefined for anything else. */
export function bencodeDict(v: BencodeValue | undefined): BencodeDict | undefined {
  return v !== undefined && typeof v === 'object' && !Buffer.isBuffer(v) && !Array.isArray(v) ? v : undefined;
}

/** A decoded list, or undefined for anything else. */
export function bencodeList(v: BencodeValue | undefined): BencodeValue[] | undefined {
  return Array.isArray(v) ? v : undefined;
}

/** A decoded integer, or undefined for anything else. */
export function bencodeInt(v: BencodeValue | undefined): number | undefined {
  return typeof v === 'number' ? v : undefined;
}
