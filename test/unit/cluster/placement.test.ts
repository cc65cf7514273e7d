import { describe, expect, it } from 'vitest';
import { ClusterActivity } from '../../../src/cluster/activity.ts';
import { placeRequest, roomWorker } from '../../../src/cluster/placement.ts';
import { parseMessage } from '../../../src/sip/parser.ts';
import type { SipRequest } from '../../../src/sip/message.ts';

function invite(to: string, from: string): SipRequest {
  const text = [
    `INVITE sip:${to}@lab.test SIP/2.0`,
    'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1',
    `From: <sip:${from}@lab.test>;tag=a`,
    `To: <sip:${to}@lab.test>`,
    'Call-ID: c1',
    'CSeq: 1 INVITE',
    'Max-Forwards: 70',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  const r = parseMessage(Buffer.from(text));
  if (!r.ok || r.message.kind !== 'request') throw new Error('bad test message');
  return r.message;
}

describe('placement of meet-me room calls', () => {
  const deps = (workers: number) => ({
    activity: new ClusterActivity(() => {}),
    shortCode: () => undefined,
    user: () => undefined,
    isRoom: (n: string) => n === '8200' || n === '8201',
    workers,
  });

  it('puts every caller of a room on the same worker, whoever calls', () => {
    for (const room of ['8200', '8201']) {
      const w = roomWorker(room, 4);
      expect(w).toBeGreaterThanOrEqual(1);
      expect(w).toBeLessThanOrEqual(4);
      for (const caller of ['1001', '1002', '1003']) expect(placeRequest(invite(room, caller), deps(4))).toBe(w);
    }
  });

  it('leaves other numbers, and a single worker, alone', () => {
    expect(placeRequest(invite('1002', '1001'), deps(4))).toBe(0);
    expect(placeRequest(invite('8200', '1001'), deps(1))).toBe(0);
  });
});
