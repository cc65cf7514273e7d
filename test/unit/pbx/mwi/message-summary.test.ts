// RFC 3842 message-summary bodies: the RFC's own examples, and ours.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MAX_SUMMARY_CLASSES, formatMessageSummary, parseMessageSummary } from '../../../../src/pbx/mwi/message-summary.ts';

describe('message-summary body (RFC 3842)', () => {
  it('parses the RFC NOTIFY body example (§3.5): waiting, account, voice 2 new / 8 old, urgent 0/2', () => {
    const s = parseMessageSummary('Messages-Waiting: yes\r\nMessage-Account: sip:alice@vmail.example.com\r\nVoice-Message: 2/8 (0/2)\r\n');
    expect(s).toEqual({ waiting: true, account: 'sip:alice@vmail.example.com', counts: new Map([['voice-message', { new: 2, old: 8, urgentNew: 0, urgentOld: 2 }]]) });
  });

  it('parses the example with message headers after the blank line (§4), which are not counts', () => {
    const body = [
      'Messages-Waiting: yes', 'Message-Account: sip:alice@vmail.example.com', 'Voice-Message: 4/8 (1/2)', '',
      'To: <alice@atlanta.example.com>', 'From: <bob@biloxi.example.com>', 'Subject: carpool tomorrow?', 'Priority: normal',
      'Message-ID: 13784434989@vmail.example.com', '',
    ].join('\r\n');
    const s = parseMessageSummary(body)!;
    expect(s.waiting).toBe(true);
    expect([...s.counts]).toEqual([['voice-message', { new: 4, old: 8, urgentNew: 1, urgentOld: 2 }]]);
  });

  it('case-insensitive names, LF line ends, several classes, counts without the urgent part', () => {
    const s = parseMessageSummary('messages-waiting: NO\nVOICE-MESSAGE: 0/3\nFax-Message: 1/1 (1/0)\n')!;
    expect(s).toEqual({ waiting: false, counts: new Map([['voice-message', { new: 0, old: 3 }], ['fax-message', { new: 1, old: 1, urgentNew: 1, urgentOld: 0 }]]) });
  });

  it('refuses a body without a valid Messages-Waiting; skips malformed count lines', () => {
    expect(parseMessageSummary('Voice-Message: 1/0\r\n')).toBeUndefined();
    expect(parseMessageSummary('Messages-Waiting: maybe\r\n')).toBeUndefined();
    expect(parseMessageSummary('')).toBeUndefined();
    expect([...parseMessageSummary('Messages-Waiting: yes\r\nVoice-Message: -1/x\r\nVoice-Message 2/2\r\n')!.counts]).toEqual([]);
  });

  it('formats what the RFC grammar parses back: yes while a message is new, no otherwise', () => {
    const on = formatMessageSummary('sip:1001@pbx.example', { new: 1, old: 0 });
    expect(on.toString()).toBe('Messages-Waiting: yes\r\nMessage-Account: sip:1001@pbx.example\r\nVoice-Message: 1/0 (0/0)\r\n');
    const off = formatMessageSummary(undefined, { new: 0, old: 5 });
    expect(off.toString()).toBe('Messages-Waiting: no\r\nVoice-Message: 0/5 (0/0)\r\n');
    expect(parseMessageSummary(off)).toEqual({ waiting: false, counts: new Map([['voice-message', { new: 0, old: 5, urgentNew: 0, urgentOld: 0 }]]) });
  });

  it('property: what we format parses back to the same lamp and counts (the waiting flag given or derived)', () => {
    const count = fc.integer({ min: 0, max: 999_999_999 });
    fc.assert(fc.property(count, count, fc.option(fc.boolean(), { nil: undefined }), (n, o, waiting) => {
      const s = parseMessageSummary(formatMessageSummary('sip:1001@pbx.example', { new: n, old: o }, waiting))!;
      expect(s.waiting).toBe(waiting ?? n > 0);
      expect(s.account).toBe('sip:1001@pbx.example');
      expect(s.counts.get('voice-message')).toEqual({ new: n, old: o, urgentNew: 0, urgentOld: 0 });
    }));
  });

  it('property: any body from the network (a hostile upstream) parses or is refused, never throws, and keeps a bounded number of classes', () => {
    const line = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.constantFrom('Messages-Waiting: yes', 'Messages-Waiting: no', 'Voice-Message: 1/2 (0/1)', ''),
      fc.tuple(fc.stringMatching(/^[A-Za-z-]{1,20}$/), fc.nat(), fc.nat()).map(([k, a, b]) => `${k}: ${a}/${b}`),
    );
    fc.assert(fc.property(fc.array(line, { maxLength: 200 }), fc.constantFrom('\r\n', '\n'), (lines, eol) => {
      const body = lines.join(eol);
      const s = parseMessageSummary(Buffer.from(body));
      if (s !== undefined) {
        expect(typeof s.waiting).toBe('boolean');
        expect(s.counts.size).toBeLessThanOrEqual(MAX_SUMMARY_CLASSES);
        for (const c of s.counts.values()) expect(Number.isSafeInteger(c.new) && Number.isSafeInteger(c.old)).toBe(true);
      }
    }));
  });

  it('reads only the first 4 KiB of a body: a Messages-Waiting line past it is not seen', () => {
    const body = 'X-Pad: ' + 'a'.repeat(5000) + '\r\nMessages-Waiting: yes\r\n';
    expect(parseMessageSummary(body)).toBeUndefined();
    expect(parseMessageSummary(Buffer.from(body))).toBeUndefined();
    const many = 'Messages-Waiting: yes\r\n' + Array.from({ length: 40 }, (_, i) => `Class-${i}: 1/1\r\n`).join('');
    expect(parseMessageSummary(many)!.counts.size).toBe(MAX_SUMMARY_CLASSES);
  });
});
