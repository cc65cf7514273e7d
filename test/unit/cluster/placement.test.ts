// Where a new INVITE goes in a cluster (src/cluster/placement.ts): a call to
// a conference room goes to the one worker the room's number hashes to, so
// every caller of the room meets in one mixer, whatever worker the kernel
// gave the caller's flow to and whatever other calls the caller has.
import { describe, expect, it } from 'vitest';
import { placeRequest, roomWorker } from '../../../src/cluster/placement.ts';
import type { PlacementDeps } from '../../../src/cluster/placement.ts';
import { ClusterActivity } from '../../../src/cluster/activity.ts';
import { parseMessage } from '../../../src/sip/parser.ts';
import type { SipRequest } from '../../../src/sip/message.ts';

const ROOMS = new Set(['8200', '8201', '8202', '8203', '8204', '8205', '8206', '8207']);

function request(method: string, to: string, from = '1001'): SipRequest {
  const text = [
    `${method} sip:${to}@test.local SIP/2.0`,
    'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-placement',
    `From: <sip:${from}@test.local>;tag=f1`,
    `To: <sip:${to}@test.local>`,
    'Call-ID: placement-test',
    `CSeq: 1 ${method}`,
    'Max-Forwards: 70',
    'Content-Length: 0',
    '', '',
  ].join('\r\n');
  const r = parseMessage(Buffer.from(text));
  if (!r.ok || r.message.kind !== 'request') throw new Error('unparsable test request');
  return r.message;
}

function deps(workers: number, activity = new ClusterActivity(() => {})): PlacementDeps {
  return {
    activity,
    shortCode: () => undefined,
    user: () => undefined,
    room: (n) => ROOMS.has(n),
    workers,
  };
}

describe('placement of calls to conference rooms', () => {
  it('sends every INVITE to a room to the worker its number hashes to, the same for every caller', () => {
    const d = deps(2);
    for (const room of ROOMS) {
      const w = roomWorker(room, 2);
      expect([1, 2]).toContain(w);
      for (const caller of ['1001', '1002', '2999', 'anonymous']) expect(placeRequest(request('INVITE', room, caller), d)).toBe(w);
    }
  });

  it('spreads rooms over the workers, and keeps each one where it was (a stable hash, not a per-process one)', () => {
    const two = [...ROOMS].map((r) => roomWorker(r, 2));
    expect(new Set(two)).toEqual(new Set([1, 2]));
    const four = [...ROOMS].map((r) => roomWorker(r, 4));
    expect(four.every((w) => w >= 1 && w <= 4)).toBe(true);
    expect(new Set(four).size).toBeGreaterThan(1);
    // FNV-1a 32-bit of "8200" is 0xf2909d47 (a value any implementation of it gives).
    expect(roomWorker('8200', 1000)).toBe((0xf2909d47 % 1000) + 1);
    expect(roomWorker('8200', 1)).toBe(1);
  });

  it('puts the room before the caller\'s other calls: a caller in a call on another worker still joins the room\'s worker', () => {
    const activity = new ClusterActivity(() => {});
    const d = deps(2, activity);
    const room = [...ROOMS].find((r) => roomWorker(r, 2) === 1)!;
    activity.apply(2, { kind: 'extension', activity: { extension: '1001', inCall: true, ringing: false } });
    // Any other number follows the caller's calls to worker 2 ...
    expect(placeRequest(request('INVITE', '1002', '1001'), d)).toBe(2);
    // ... the room does not.
    expect(placeRequest(request('INVITE', room, '1001'), d)).toBe(1);
  });

  it('leaves other requests and other numbers where the kernel put them', () => {
    const d = deps(2);
    expect(placeRequest(request('INVITE', '1002'), d)).toBe(0);
    expect(placeRequest(request('INVITE', '8299'), d)).toBe(0);
    expect(placeRequest(request('OPTIONS', '8200'), d)).toBe(0);
    expect(placeRequest(request('MESSAGE', '8201'), d)).toBe(0);
  });
});

describe('placement of calls pinned to a worker (the handset gateway)', () => {
  const pinnedTo = (worker: number, users: Set<string>) => (req: SipRequest) => (users.has(req.from.uri.user ?? '') || users.has(req.uri.user ?? '') ? worker : 0);

  it('sends a pinned INVITE to its worker before rooms and a caller\'s other calls, and leaves the rest to the other rules', () => {
    const activity = new ClusterActivity(() => {});
    // 1001 has a call held by worker 2; 8200 is a room hashing to some worker.
    activity.apply(2, { kind: 'extension', activity: { extension: '1001', inCall: true, ringing: false } });
    const d: PlacementDeps = { ...deps(2, activity), pinned: pinnedTo(1, new Set(['1001', '41510'])) };
    expect(placeRequest(request('INVITE', '8200', '1001'), d)).toBe(1);
    expect(placeRequest(request('INVITE', '2002', '1001'), d)).toBe(1);
    expect(placeRequest(request('INVITE', '41510', 'upstream-desk'), d)).toBe(1);
    // Not pinned: 2002's call goes where its calls are, the room where it hashes.
    activity.apply(2, { kind: 'extension', activity: { extension: '2002', inCall: true, ringing: false } });
    expect(placeRequest(request('INVITE', '3003', '2002'), d)).toBe(2);
    expect(placeRequest(request('INVITE', '8200', '2002'), d)).toBe(roomWorker('8200', 2));
    // Only new INVITEs are placed.
    expect(placeRequest(request('MESSAGE', '41510', '1001'), d)).toBe(0);
  });
});
