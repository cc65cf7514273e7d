import type { LiveBinding } from './location.ts';

// One binding as one flat string, so an index of a million contacts holds a
// million strings rather than a million objects with a dozen strings each
// (an object with its strings costs ~1 KB of heap; its string ~150 bytes).
// Fields follow FIELDS in order, separated by SEP. The marker characters are
// control characters no phone sends; a string that holds one anyway has it
// escaped, so every value round-trips.

const SEP = '\x1f';
const SEP_CODE = 0x1f;
/** A field that is null. */
const NULL = '\x1e';
/** A string field that is the empty string (an empty field means undefined). */
const EMPTY = '\x1d';
/** Starts each element of a list field. */
const ITEM = '\x1c';
/** Starts an index into the intern table. */
const REF = '\x1b';
/** Escapes a marker character inside a string: ESC + (the character + 0x40). */
const ESC = '\x1a';
/** The marker characters, ESC included: 0x1a..0x1f. */
const MARK_MIN = 0x1a;
const MARK_MAX = 0x1f;
/** Starts a number that is not a safe integer (kept in decimal). */
const FLOAT = '~';

/**
 * How a field is written:
 * num: number | null | undefined, integers in base 36;
 * str: string | null | undefined;
 * intern: like str, for values shared by many bindings (transport, local address, user agent),
 *   written as an index into a small table of the values seen;
 * list: string[];
 * bool: boolean | undefined;
 * raw: the contact as registered, empty when it is the contact URI itself (the usual case).
 */
type Kind = 'num' | 'str' | 'intern' | 'list' | 'bool' | 'raw';

/**
 * The fields in the order they are written. expiresAt comes first so the
 * sweep reads it without decoding the rest, and contactUri second so a
 * binding is found by its contact in place. A new field is one more row here
 * (at the end: records written before keep decoding, the missing field is undefined).
 */
const FIELDS: readonly (readonly [keyof LiveBinding, Kind])[] = [
  ['expiresAt', 'num'],
  ['contactUri', 'str'],
  ['contactRaw', 'raw'],
  ['callId', 'str'],
  ['cseq', 'num'],
  ['q', 'num'],
  ['path', 'list'],
  ['instanceId', 'str'],
  ['regId', 'num'],
  ['pubGruu', 'str'],
  ['tempGruu', 'str'],
  ['transport', 'intern'],
  ['sourceAddress', 'str'],
  ['sourcePort', 'num'],
  ['localAddress', 'intern'],
  ['localPort', 'num'],
  ['userAgent', 'intern'],
  ['updatedAt', 'num'],
  ['connectionId', 'num'],
  ['remote', 'bool'],
  ['node', 'intern'],
];

/** Values written as table indexes, at most this many distinct ones; later ones are written in full. */
const INTERN_MAX = 4096;

/** The strings shared by many bindings, each kept once; one table per index. */
export class InternTable {
  private readonly values: string[] = [];
  private readonly index = new Map<string, number>();

  ref(v: string): number | undefined {
    let i = this.index.get(v);
    if (i === undefined && this.values.length < INTERN_MAX) {
      i = this.values.length;
      this.values.push(v);
      this.index.set(v, i);
    }
    return i;
  }

  at(i: number): string {
    const v = this.values[i];
    if (v === undefined) throw new RangeError(`intern table has no entry ${i}`);
    return v;
  }
}

function plain(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= MARK_MIN && c <= MARK_MAX) return false;
  }
  return true;
}

/** s with its marker characters escaped. */
function escape(s: string): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < MARK_MIN || c > MARK_MAX) continue;
    out += s.slice(from, i) + ESC + String.fromCharCode(c + 0x40);
    from = i + 1;
  }
  return out + s.slice(from);
}

function unescape(s: string): string {
  let out = '';
  let from = 0;
  for (let i = s.indexOf(ESC); i >= 0; i = s.indexOf(ESC, from)) {
    out += s.slice(from, i) + String.fromCharCode(s.charCodeAt(i + 1) - 0x40);
    from = i + 2;
  }
  return out + s.slice(from);
}

/** A string as written: escaped only when it must be (never, from a phone). */
function text(s: string): string {
  return plain(s) ? s : escape(s);
}

function num(v: unknown): string {
  if (v === undefined) return '';
  if (v === null) return NULL;
  const n = v as number;
  return Number.isSafeInteger(n) ? n.toString(36) : FLOAT + String(n);
}

function str(v: unknown): string {
  if (v === undefined) return '';
  if (v === null) return NULL;
  return v === '' ? EMPTY : text(v as string);
}

/** The binding (its aor is the index's key and is not written). */
export function encodeBinding(b: LiveBinding, table: InternTable): string {
  // Joined from parts, not built with +=: that would leave a tree of ~40
  // string pieces per record in the index instead of one flat string.
  const parts: string[] = new Array<string>(FIELDS.length);
  for (let f = 0; f < FIELDS.length; f++) {
    const [name, kind] = FIELDS[f]!;
    const v = b[name];
    switch (kind) {
      case 'num':
        parts[f] = num(v);
        break;
      case 'str':
        parts[f] = str(v);
        break;
      case 'raw':
        parts[f] = v === b.contactUri ? '' : str(v);
        break;
      case 'intern': {
        const i = typeof v === 'string' && v !== '' ? table.ref(v) : undefined;
        parts[f] = i === undefined ? str(v) : REF + i.toString(36);
        break;
      }
      case 'list': {
        const list = v as readonly string[];
        parts[f] = list.length === 0 ? '' : ITEM + list.map(text).join(ITEM);
        break;
      }
      case 'bool':
        parts[f] = v === undefined ? '' : v ? '1' : '0';
        break;
    }
  }
  return parts.join(SEP);
}

function readNum(s: string): number | null | undefined {
  if (s === '') return undefined;
  if (s === NULL) return null;
  return s[0] === FLOAT ? Number(s.slice(1)) : parseInt(s, 36);
}

function readStr(s: string): string | null | undefined {
  if (s === '') return undefined;
  if (s === NULL) return null;
  if (s === EMPTY) return '';
  return s.indexOf(ESC) < 0 ? s : unescape(s);
}

export function decodeBinding(aor: string, record: string, table: InternTable): LiveBinding {
  const parts = record.split(SEP);
  const b: Record<string, unknown> = { aor };
  for (let f = 0; f < FIELDS.length; f++) {
    const [name, kind] = FIELDS[f]!;
    const s = parts[f] ?? '';
    let v: unknown;
    switch (kind) {
      case 'num':
        v = readNum(s);
        break;
      case 'str':
        v = readStr(s);
        break;
      case 'raw':
        v = s === '' ? b.contactUri : readStr(s);
        break;
      case 'intern':
        v = s[0] === REF ? table.at(parseInt(s.slice(1), 36)) : readStr(s);
        break;
      case 'list':
        v = s === '' ? [] : s.slice(1).split(ITEM).map((item) => (item.indexOf(ESC) < 0 ? item : unescape(item)));
        break;
      case 'bool':
        v = s === '' ? undefined : s === '1';
        break;
    }
    // Absent optional fields stay absent, as in the binding that was written.
    if (v !== undefined) b[name] = v;
  }
  return b as unknown as LiveBinding;
}

/** expiresAt of a record, read without decoding the rest (the sweep looks at every binding). */
export function recordExpiresAt(record: string): number {
  const end = record.indexOf(SEP);
  if (record.charCodeAt(0) === 0x7e /* ~ */) return Number(record.slice(1, end));
  let n = 0;
  let sign = 1;
  for (let i = 0; i < end; i++) {
    const c = record.charCodeAt(i);
    if (c === 0x2d /* - */) sign = -1;
    else n = n * 36 + (c <= 0x39 ? c - 0x30 : c - 0x57);
  }
  return sign * n;
}

/** Whether the record is the binding of contactUri. */
export function recordHasContact(record: string, contactUri: string): boolean {
  const start = record.indexOf(SEP) + 1;
  const written = contactUri === '' ? EMPTY : text(contactUri);
  return record.startsWith(written, start) && record.charCodeAt(start + written.length) === SEP_CODE;
}
