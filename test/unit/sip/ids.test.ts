import { describe, expect, it } from 'vitest';
import { generateBranch, generateCallId, generateTag, MAGIC_COOKIE } from '../../../src/sip/ids.ts';
import { generateTag as serializerTag } from '../../../src/sip/serializer.ts';
import { generateBranch as txBranch, generateTag as txTag, MAGIC_COOKIE as txCookie } from '../../../src/sip/transaction/index.ts';
import { parseMessage } from '../../../src/sip/parser.ts';

const TOKEN = /^[A-Za-z0-9_-]+$/;

describe('generateBranch', () => {
  it('has the magic cookie, only token characters, and does not repeat', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const b = generateBranch();
      expect(b.startsWith('z9hG4bK')).toBe(true);
      expect(TOKEN.test(b)).toBe(true);
      seen.add(b);
    }
    expect(seen.size).toBe(5000);
  });
});

describe('generateTag', () => {
  it('generates distinct tags of 12 token characters', () => {
    const tags = new Set(Array.from({ length: 1000 }, generateTag));
    expect(tags.size).toBe(1000);
    for (const t of tags) expect(t).toMatch(/^[A-Za-z0-9_-]{12}$/);
  });

  it('is the one implementation the serializer and the transaction layer export', () => {
    expect(serializerTag).toBe(generateTag);
    expect(txTag).toBe(generateTag);
    expect(txBranch).toBe(generateBranch);
    expect(txCookie).toBe(MAGIC_COOKIE);
  });
});

describe('generateCallId', () => {
  it('gives 24 token characters, distinct, with an optional @host that the parser accepts', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => generateCallId()));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(generateCallId('')).toMatch(/^[A-Za-z0-9_-]{24}$/);
    for (const host of ['pbx.example.com', '192.0.2.1', '[2001:db8::1]']) {
      const id = generateCallId(host);
      expect(id.endsWith('@' + host)).toBe(true);
      const wire = `OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=${generateBranch()}\r\nFrom: <sip:a@b>;tag=${generateTag()}\r\n` +
        `To: <sip:a@b>\r\nCall-ID: ${id}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`;
      const r = parseMessage(Buffer.from(wire));
      expect(r.ok && r.message.callId).toBe(id);
    }
  });
});
