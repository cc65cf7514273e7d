import { describe, expect, it } from 'vitest';
import { InternTable, decodeBinding, encodeBinding, recordExpiresAt, recordHasContact } from '../../../src/pbx/registrar/binding-codec.ts';
import type { LiveBinding } from '../../../src/pbx/registrar/location.ts';

const AOR = 'sip:1001@example.com';

function full(over: Partial<LiveBinding> = {}): LiveBinding {
  return {
    aor: AOR, contactUri: 'sip:1001@192.0.2.7:5062;transport=tcp', contactRaw: 'sip:1001@192.0.2.7:5062;transport=tcp',
    callId: 'a84b4c76e66710@pc33', cseq: 314159, expiresAt: 1_796_609_640_445, q: 0.7,
    path: ['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>'], instanceId: 'urn:uuid:00000000-0000-1000-8000-000A95A0E128',
    regId: 1, pubGruu: null, tempGruu: null, transport: 'tcp', sourceAddress: '192.0.2.7', sourcePort: 5062,
    localAddress: '192.0.2.1', localPort: 5060, userAgent: 'Yealink SIP-T46U 108.86.0.20', updatedAt: 1_796_606_040_445,
    connectionId: 4097, remote: true, node: 'bravo', ...over,
  };
}

function roundTrip(b: LiveBinding, table = new InternTable()): LiveBinding {
  return decodeBinding(b.aor, encodeBinding(b, table), table);
}

describe('binding codec', () => {
  it('round-trips every field, and absent optional fields stay absent', () => {
    expect(roundTrip(full())).toEqual(full());
    const { connectionId: _c, remote: _r, node: _n, ...plain } = full();
    const back = roundTrip(plain);
    expect(back).toEqual(plain);
    expect('connectionId' in back).toBe(false);
    expect('remote' in back).toBe(false);
    expect('node' in back).toBe(false);
    // A binding read from the store before nodes had names: null, kept as null.
    expect(roundTrip(full({ node: null })).node).toBeNull();
  });

  it('tells null, the empty string and a missing value apart', () => {
    const b = full({ userAgent: '', instanceId: '', localAddress: null, q: null, regId: null, path: [''], remote: false, connectionId: 0 });
    expect(roundTrip(b)).toEqual(b);
    expect(roundTrip(full({ path: [] })).path).toEqual([]);
    expect(roundTrip(full({ contactUri: '', contactRaw: '' }))).toEqual(full({ contactUri: '', contactRaw: '' }));
  });

  it('keeps a contactRaw that differs from the contact URI, and writes nothing for one that does not', () => {
    const b = full({ contactRaw: '"Desk" <sip:1001@192.0.2.7:5062;transport=tcp>;expires=60' });
    expect(roundTrip(b).contactRaw).toBe(b.contactRaw);
    expect(encodeBinding(full(), new InternTable()).length).toBeLessThan(encodeBinding(b, new InternTable()).length);
  });

  it('keeps numbers that are not integers, negative or beyond base 36 shortcuts exact', () => {
    for (const n of [0, -1, 0.5, 1e-7, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 53 + 2, 1.7976931348623157e308, Number.NaN, Infinity]) {
      expect(roundTrip(full({ expiresAt: n, cseq: n })).expiresAt).toBe(n);
      expect(recordExpiresAt(encodeBinding(full({ expiresAt: n }), new InternTable()))).toBe(n);
    }
  });

  it('writes shared values once in the table and long or non-ASCII strings in full', () => {
    const table = new InternTable();
    const long = 'x'.repeat(10_000);
    const a = full({ userAgent: 'Téléphone ☎ 电话', callId: long, contactUri: `sip:ü@${long}`, contactRaw: `sip:ü@${long}` });
    expect(roundTrip(a, table)).toEqual(a);
    const r1 = encodeBinding(full({ userAgent: 'Same UA/1.0' }), table);
    const r2 = encodeBinding(full({ userAgent: 'Same UA/1.0', callId: 'other' }), table);
    expect(r1.includes('Same UA')).toBe(false);
    expect(decodeBinding(AOR, r2, table).userAgent).toBe('Same UA/1.0');
  });

  it('stops interning once the table is full and writes later values in full', () => {
    const table = new InternTable();
    for (let i = 0; i < 5000; i++) {
      const b = full({ userAgent: `UA ${i}` });
      const r = encodeBinding(b, table);
      expect(decodeBinding(AOR, r, table).userAgent).toBe(`UA ${i}`);
      if (i >= 4096) expect(r.includes(`UA ${i}`)).toBe(true);
    }
  });

  it('escapes its marker characters inside strings, and still finds the contact', () => {
    const odd = full({ contactUri: 'sip:a\x1fb@x', contactRaw: 'sip:a\x1fb@x', callId: '\x1e', instanceId: '\x1a\x1a', path: ['\x1c', '\x1d'] });
    const r = encodeBinding(odd, new InternTable());
    expect(r.split('\x1f')).toHaveLength(21);
    expect(roundTrip(odd)).toEqual(odd);
    expect(recordHasContact(r, 'sip:a')).toBe(false);
    expect(recordHasContact(r, 'sip:a\x1fb@x')).toBe(true);
    expect(recordExpiresAt(r)).toBe(odd.expiresAt);
  });

  it('matches the contact exactly, not a prefix of it', () => {
    const r = encodeBinding(full({ contactUri: 'sip:1001@192.0.2.7', contactRaw: 'sip:1001@192.0.2.7' }), new InternTable());
    expect(recordHasContact(r, 'sip:1001@192.0.2.7')).toBe(true);
    expect(recordHasContact(r, 'sip:1001@192.0.2')).toBe(false);
    expect(recordHasContact(r, 'sip:1001@192.0.2.77')).toBe(false);
    const empty = encodeBinding(full({ contactUri: '', contactRaw: '' }), new InternTable());
    expect(recordHasContact(empty, '')).toBe(true);
    expect(recordHasContact(r, '')).toBe(false);
  });

  it('round-trips random bindings, markers and astral characters included (seeded)', () => {
    // A small deterministic generator: failures reproduce.
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const alphabet = ['a', 'Z', '0', ':', ';', '@', '~', '-', '\x1b', '\x1c', '\x1d', '\x1e', '\x1f', '\x00', 'é', '☎', '😀', '{'];
    const str = (): string => Array.from({ length: rnd(12) }, () => alphabet[rnd(alphabet.length)]).join('');
    const opt = <T>(v: () => T): T | null => (rnd(3) === 0 ? null : v());
    const num = (): number => [0, -3, 7, 0.25, 2 ** 60, 1_796_609_640_445, Number.NaN][rnd(7)]!;
    for (let i = 0; i < 2000; i++) {
      const contactUri = str();
      const b: LiveBinding = {
        aor: AOR, contactUri, contactRaw: rnd(2) ? contactUri : str(), callId: str(), cseq: num(), expiresAt: num(), q: opt(num),
        path: Array.from({ length: rnd(3) }, str), instanceId: opt(str), regId: opt(num), pubGruu: opt(str), tempGruu: null,
        transport: str(), sourceAddress: str(), sourcePort: num(), localAddress: opt(str), localPort: opt(num), userAgent: opt(str),
        updatedAt: num(),
      };
      if (rnd(2)) b.connectionId = num();
      if (rnd(2)) b.remote = rnd(2) === 0;
      const table = new InternTable();
      const record = encodeBinding(b, table);
      expect(decodeBinding(AOR, record, table)).toEqual(b);
      expect(recordExpiresAt(record)).toEqual(b.expiresAt);
      expect(recordHasContact(record, b.contactUri)).toBe(true);
    }
  });
});
