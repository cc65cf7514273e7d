// How the System Status page folds the feed's messages into what it shows.
import { describe, expect, it } from 'vitest';
import { applyMessage, type LiveState } from '../../../web/src/live-state.ts';
import type { CallStatus, ExtensionStatus, TrunkStatus } from '../../../web/src/types.ts';

const empty = (): LiveState => ({
  connection: 'connecting', extensions: new Map(), calls: new Map(), alarms: new Map(), trunks: [], parked: [], clockOffsetMs: 0, version: 0,
});
const ext = (n: string, o: Partial<ExtensionStatus> = {}): ExtensionStatus =>
  ({ extension: n, name: '', registered: true, contacts: [], state: 'idle', calls: 0, mediaStream: 'RTP', ...o });
const leg = () => ({ stream: 'RTP', packetsIn: null, packetsOut: null, lost: null, lossPercent: null, jitterMs: null });
const call = (ref: string, o: Partial<CallStatus> = {}): CallStatus => ({
  ref, state: 'ringing', direction: 'internal', caller: '1', callerName: '', callee: '2', calleeExtension: '2', trunk: null,
  startedAt: 0, answeredAt: null, durationSec: 0, codec: null, held: false, connectionType: '', legs: { caller: leg(), callee: leg() }, ...o,
});

const trunk = (name: string, state: TrunkStatus['state']): TrunkStatus => ({
  trunk: name, state, reason: '', since: 1, reachable: 'up', rttMs: 3, probeStatus: 200, registration: null, lastStatus: 0,
});

describe('applyMessage', () => {
  it('replaces a trunk by name as its state changes, in name order, as a new list', () => {
    const s = empty();
    applyMessage(s, { type: 'trunk', trunk: trunk('pstn', 'up') });
    applyMessage(s, { type: 'trunk', trunk: trunk('itsp', 'registering') });
    const before = s.trunks;
    applyMessage(s, { type: 'trunk', trunk: { ...trunk('pstn', 'down'), reason: 'no answer to OPTIONS' } });
    expect(s.trunks.map((t) => [t.trunk, t.state])).toEqual([['itsp', 'registering'], ['pstn', 'down']]);
    expect(s.trunks).not.toBe(before);
    expect(s.version).toBe(3);
  });

  it('replaces everything with a snapshot and learns the server clock offset', () => {
    const s = empty();
    s.extensions.set('stale', ext('stale'));
    applyMessage(s, {
      type: 'snapshot',
      status: { at: Date.now() + 60_000, extensions: [ext('1001')], calls: [call('c1')], trunks: [],
        parked: [{ slot: '5', call: 'c1', party: { number: '1001', name: '' }, parkedBy: '1002', since: 1 }] },
      alarms: [{ id: 'a', kind: 'k', severity: 'minor', text: 't', since: 1, lastAt: 1, count: 1 }],
    });
    expect([...s.extensions.keys()]).toEqual(['1001']);
    expect([...s.calls.keys()]).toEqual(['c1']);
    expect([...s.alarms.keys()]).toEqual(['a']);
    expect(s.parked.map((p) => p.slot)).toEqual(['5']);
    expect(s.clockOffsetMs).toBeGreaterThan(55_000);
    expect(s.version).toBe(1);
  });

  it('adds, updates and removes extensions, calls and alarms as events arrive', () => {
    const s = empty();
    applyMessage(s, { type: 'extension', extension: ext('1001') });
    applyMessage(s, { type: 'extension', extension: ext('1001', { state: 'connected', calls: 1 }) });
    expect(s.extensions.get('1001')?.state).toBe('connected');
    // Unregistered but still in a call: kept; unregistered and idle: gone.
    applyMessage(s, { type: 'extension', extension: ext('1001', { registered: false, calls: 1 }) });
    expect(s.extensions.has('1001')).toBe(true);
    applyMessage(s, { type: 'extension', extension: ext('1001', { registered: false, calls: 0 }) });
    expect(s.extensions.has('1001')).toBe(false);

    applyMessage(s, { type: 'call', call: call('c1'), ended: false });
    applyMessage(s, { type: 'call', call: call('c1', { state: 'connected', codec: 'PCMU' }), ended: false });
    expect(s.calls.get('c1')?.codec).toBe('PCMU');
    applyMessage(s, { type: 'call', call: call('c1', { state: 'connected' }), ended: true });
    expect(s.calls.size).toBe(0);

    const alarm = { id: 'x', kind: 'k', severity: 'major' as const, text: 't', since: 1, lastAt: 1, count: 1 };
    applyMessage(s, { type: 'alarm', event: 'raised', alarm });
    applyMessage(s, { type: 'alarm', event: 'updated', alarm: { ...alarm, count: 5 } });
    expect(s.alarms.get('x')?.count).toBe(5);
    applyMessage(s, { type: 'alarm', event: 'cleared', alarm });
    expect(s.alarms.size).toBe(0);
    expect(s.version).toBe(10);
  });
});
