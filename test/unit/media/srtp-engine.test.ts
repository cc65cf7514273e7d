import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SRTP_ENCRYPT, SRTP_TRAILER, jsEngine, nativeEngine, type SrtpEngine } from '../../../src/media/srtp-engine.ts';
import { ENGINES } from './srtp-helpers.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function engine(name: string): SrtpEngine {
  if (name === 'js') return jsEngine;
  const n = nativeEngine();
  if ('error' in n) throw new Error(`native SRTP engine not loaded: ${n.error}`);
  return n.engine;
}

/** RFC 3711 §4.1.1 keystream from node:crypto's aes-ctr, as an independent reference. */
function keystream(key: Buffer, salt: Buffer, ssrc: number, index: number, length: number): Buffer {
  const iv = Buffer.alloc(16);
  salt.copy(iv);
  iv.writeUInt32BE((iv.readUInt32BE(4) ^ ssrc) >>> 0, 4);
  iv.writeUInt32BE((iv.readUInt32BE(8) ^ Math.floor(index / 0x10000)) >>> 0, 8);
  iv.writeUInt16BE(iv.readUInt16BE(12) ^ (index & 0xffff), 12);
  return crypto.createCipheriv(`aes-${key.length * 8}-ctr`, key, iv).update(Buffer.alloc(length));
}

function hmac(key: Buffer, data: Buffer, trailer: number | null): Buffer {
  const h = crypto.createHmac('sha1', key).update(data);
  if (trailer !== null) h.update(Buffer.from([trailer >>> 24, (trailer >>> 16) & 0xff, (trailer >>> 8) & 0xff, trailer & 0xff]));
  return h.digest();
}

for (const name of ENGINES) {
  describe(`${name} SRTP packet engine`, () => {
    /** The keystream the engine applies: seal over zeros, no tag. */
    const engineKeystream = (key: Buffer, salt: Buffer, ssrc: number, index: number, length: number): Buffer => {
      const c = engine(name).create(key, Buffer.alloc(20), salt);
      const buf = Buffer.alloc(length);
      c.seal(buf, buf, 0, length, ssrc, Math.floor(index / 0x10000), index & 0xffff, 0, 0, 0, 0, SRTP_ENCRYPT);
      return buf;
    };
    const blocks = (ks: Buffer, ...n: number[]): string[] => n.map((i) => ks.subarray(i * 16, i * 16 + 16).toString('hex').toUpperCase());

    it('reproduces the RFC 3711 B.2 AES-CM keystream at both ends of the 65282-block segment', () => {
      const ks = engineKeystream(hex('2B7E151628AED2A6ABF7158809CF4F3C'), hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD'), 0, 0, 0xff02 * 16);
      expect(blocks(ks, 0, 1, 2, 0xfeff, 0xff00, 0xff01)).toEqual([
        'E03EAD0935C95E80E166B16DD92B4EB4', 'D23513162B02D0F72A43A2FE4A5F97AB', '41E95B3BB0A2E8DD477901E4FCA894C0',
        'EC8CDF7398607CB0F2D21675EA9EA1E4', '362B7C3C6773516318A077D7FC5073AE', '6A2CC3787889374FBEB4C81B17BA6C44',
      ]);
    });

    it('reproduces the RFC 6188 §7.1 AES-256-CM keystream', () => {
      const key = hex('57f82fe3613fd170a85ec93c40b1f092 2ec4cb0dc025b58272147cc438944a98');
      const ks = engineKeystream(key, hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD'), 0, 0, 0xff02 * 16);
      expect(blocks(ks, 0, 1, 2, 0xfeff, 0xff00, 0xff01)).toEqual([
        '92BDD28A93C3F52511C677D08B5515A4', '9DA71B2378A854F67050756DED165BAC', '63C4868B7096D88421B563B8C94C9A31',
        'CEA518C90FD91CED9CBB18C078A54711', '3DBC4814F4DA5F00A08772B63C6A046D', '6EB246913062A16891433E97DD01A57F',
      ]);
    });

    it('seals and opens like AES-CTR + HMAC-SHA1 from node:crypto, for every key size, length and tag', () => {
      for (const keyLen of [16, 24, 32]) {
        const key = crypto.randomBytes(keyLen), authKey = crypto.randomBytes(20), salt = crypto.randomBytes(14);
        const c = engine(name).create(key, authKey, salt);
        for (const len of [0, 1, 15, 16, 17, 160, 1488]) {
          for (const [tagLen, withTrailer] of [[10, true], [4, true], [10, false], [0, false]] as const) {
            const from = 12, to = from + len, ssrc = crypto.randomInt(2 ** 32 - 1), index = crypto.randomInt(2 ** 48 - 1);
            const hi = Math.floor(index / 0x10000), lo = index & 0xffff, roc = hi >>> 0;
            const plain = crypto.randomBytes(to);
            const flags = SRTP_ENCRYPT | (withTrailer ? SRTP_TRAILER : 0);
            const sealed = Buffer.alloc(to + tagLen, 0xee);
            c.seal(plain, sealed, from, to, ssrc, hi, lo, to, roc, to, tagLen, flags);
            // seal writes only [from, to) and the tag: the header is the caller's to copy.
            expect(sealed.subarray(0, from).equals(Buffer.alloc(from, 0xee))).toBe(true);
            const ks = keystream(key, salt, ssrc, index, len);
            const body = Buffer.from(plain.subarray(from, to));
            for (let i = 0; i < len; i++) body[i]! ^= ks[i]!;
            expect(sealed.subarray(from, to).equals(body), `len ${len}`).toBe(true);
            const authed = Buffer.concat([Buffer.alloc(from, 0xee), body]);
            expect(sealed.subarray(to).equals(hmac(authKey, authed, withTrailer ? roc : null).subarray(0, tagLen))).toBe(true);

            // open in place and into another buffer gives the plaintext back.
            const other = Buffer.alloc(to, 0x11);
            expect(c.open(sealed, other, from, to, ssrc, hi, lo, to, roc, to, tagLen, flags)).toBe(true);
            expect(other.subarray(from).equals(plain.subarray(from))).toBe(true);
            const inPlace = Buffer.from(sealed);
            expect(c.open(inPlace, inPlace, from, to, ssrc, hi, lo, to, roc, to, tagLen, flags)).toBe(true);
            expect(inPlace.subarray(from, to).equals(plain.subarray(from))).toBe(true);
          }
        }
      }
    });

    it('refuses a changed byte, tag or ROC and then leaves the output as it was', () => {
      const key = crypto.randomBytes(16), authKey = crypto.randomBytes(20), salt = crypto.randomBytes(14);
      const c = engine(name).create(key, authKey, salt);
      const plain = crypto.randomBytes(172);
      const sealed = Buffer.alloc(182);
      const flags = SRTP_ENCRYPT | SRTP_TRAILER;
      c.seal(plain, sealed, 12, 172, 7, 1, 2, 172, 1, 172, 10, flags);
      for (const at of [0, 12, 100, 171, 172, 181]) {
        const bad = Buffer.from(sealed);
        bad[at]! ^= 0x01;
        const out = Buffer.alloc(172, 0x33);
        expect(c.open(bad, out, 12, 172, 7, 1, 2, 172, 1, 172, 10, flags), `byte ${at}`).toBe(false);
        expect(out.equals(Buffer.alloc(172, 0x33))).toBe(true);
      }
      const copy = Buffer.from(sealed);
      expect(c.open(copy, copy, 12, 172, 7, 1, 2, 172, 2, 172, 10, flags)).toBe(false);
      expect(copy.equals(sealed)).toBe(true);
    });

    it('applies the right keystream whatever order indices, SSRCs and lengths come in', () => {
      const key = crypto.randomBytes(16), salt = crypto.randomBytes(14);
      const c = engine(name).create(key, crypto.randomBytes(20), salt);
      const steps: [number, number, number][] = [];
      for (let i = 0; i < 40; i++) steps.push([0x1111, 65530 + i, 160]); // in order across a ROC change
      steps.push([0x1111, 65540, 160], [0x1111, 65500, 160], [0x1111, 70000, 160], [0x1111, 70001, 1400], [0x1111, 70002, 160]);
      for (let s = 0; s < 12; s++) for (let i = 0; i < 3; i++) steps.push([s * 1000 + 1, i, 20 + s]); // more streams than runs kept
      steps.push([0x1111, 70003, 160], [0x2222, 2 ** 48 - 2, 160], [0x2222, 2 ** 48 - 1, 160]);
      for (const [ssrc, index, len] of steps) {
        const data = crypto.randomBytes(len);
        const out = Buffer.alloc(len);
        c.seal(data, out, 0, len, ssrc, Math.floor(index / 0x10000), index & 0xffff, 0, 0, 0, 0, SRTP_ENCRYPT);
        const ks = keystream(key, salt, ssrc, index, len);
        for (let i = 0; i < len; i++) out[i]! ^= ks[i]!;
        expect(out.equals(data), `ssrc ${ssrc} index ${index} len ${len}`).toBe(true);
      }
    });

    it('copies without encrypting when the flag is clear', () => {
      const c = engine(name).create(crypto.randomBytes(16), crypto.randomBytes(20), crypto.randomBytes(14));
      const data = crypto.randomBytes(40);
      const out = Buffer.alloc(40);
      c.seal(data, out, 8, 40, 1, 0, 1, 0, 0, 0, 0, 0);
      expect(out.subarray(8).equals(data.subarray(8))).toBe(true);
      expect(out.subarray(0, 8).equals(Buffer.alloc(8))).toBe(true);
    });

    if (name === 'native') {
      it('checks every range against the Buffers and refuses keys after wipe', () => {
        const c = engine(name).create(crypto.randomBytes(16), crypto.randomBytes(20), crypto.randomBytes(14));
        const b = Buffer.alloc(50);
        expect(() => c.seal(b, b, 0, 51, 0, 0, 0, 0, 0, 0, 0, SRTP_ENCRYPT)).toThrow(RangeError);
        expect(() => c.seal(b, b, 10, 5, 0, 0, 0, 0, 0, 0, 0, SRTP_ENCRYPT)).toThrow(RangeError);
        expect(() => c.seal(b, b, 0, 10, 0, 0, 0, 51, 0, 0, 0, SRTP_ENCRYPT)).toThrow(RangeError);
        expect(() => c.seal(b, b, 0, 10, 0, 0, 0, 10, 0, 45, 10, SRTP_ENCRYPT)).toThrow(RangeError);
        expect(() => c.open(b, Buffer.alloc(5), 0, 10, 0, 0, 0, 10, 0, 40, 10, SRTP_ENCRYPT)).toThrow(RangeError);
        expect(() => c.open(b, b, 0, 10, 0, 0, 0, 10, 0, 45, 10, SRTP_ENCRYPT)).toThrow(RangeError);
        expect(() => engine(name).create(Buffer.alloc(20), Buffer.alloc(20), Buffer.alloc(14))).toThrow(RangeError);
        c.seal(b, b, 0, 10, 0, 0, 0, 10, 0, 40, 10, SRTP_ENCRYPT);
        c.wipe();
        expect(() => c.seal(b, b, 0, 10, 0, 0, 0, 10, 0, 40, 10, SRTP_ENCRYPT)).toThrow(RangeError);
      });
    }
  });
}

describe('engine choice (SWITCHBOARD_SRTP)', () => {
  /** srtpEngine() in a fresh process with SWITCHBOARD_SRTP = value (undefined: unset). */
  const choose = (value: string | undefined): { out: string; err: string; status: number | null } => {
    const env = { ...process.env };
    delete env['SWITCHBOARD_SRTP'];
    if (value !== undefined) env['SWITCHBOARD_SRTP'] = value;
    const engineModule = new URL('../../../src/media/srtp-engine.ts', import.meta.url).href;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e',
      `const m = await import(${JSON.stringify(engineModule)}); console.log(JSON.stringify(m.srtpEngine()));`], { env, encoding: 'utf8' });
    return { out: r.stdout, err: r.stderr, status: r.status };
  };

  it('takes JS when asked to', () => {
    expect(JSON.parse(choose('js').out)).toEqual({ name: 'js', why: 'SWITCHBOARD_SRTP=js' });
  });

  if (ENGINES.includes('native')) {
    it('takes the addon when it loads, unasked or asked', () => {
      expect(JSON.parse(choose(undefined).out)).toEqual({ name: 'native', why: 'addon loaded' });
      expect(JSON.parse(choose('native').out).name).toBe('native');
    });
  }

  it('refuses a value it does not know', () => {
    const r = choose('fast');
    expect(r.status).not.toBe(0);
    expect(r.err).toMatch(/SWITCHBOARD_SRTP must be native or js, got fast/);
  });
});
