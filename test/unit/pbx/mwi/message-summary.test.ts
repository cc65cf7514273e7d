// RFC 3842 message-summary bodies: the RFC's own examples, and ours.
import { describe, expect, it } from 'vitest';
import { formatMessageSummary, parseMessageSummary } from '../../../../src/pbx/mwi/message-summary.ts';

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
});
