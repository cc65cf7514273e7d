import { afterEach, describe, expect, it, vi } from 'vitest';
import { ClusterStatus, mergeOverload, mergeStatus } from '../../../src/cluster/status.ts';
import type { StatusRequest } from '../../../src/cluster/status.ts';
import { overloadStatus } from '../../../src/pbx/status/status.ts';
import type { ExtensionStatus, StatusEvent, StatusListener, StatusService, StatusSnapshot } from '../../../src/pbx/status/status.ts';

const ext = (extension: string, state: ExtensionStatus['state'], calls: number): ExtensionStatus =>
  ({ extension, name: '', registered: true, contacts: [], state, calls, mediaStream: 'RTP' });
const call = (ref: string) => ({ ref }) as StatusSnapshot['calls'][number];
const snap = (extensions: ExtensionStatus[], calls: StatusSnapshot['calls']): StatusSnapshot => ({ at: 1, extensions, calls, trunks: [], parked: [] });

/** The management worker's own status: one idle extension, no calls. */
function localStatus(): { service: StatusService; emit: (e: StatusEvent) => void } {
  const listeners = new Set<StatusListener>();
  const service = {
    snapshot: () => snap([ext('1001', 'idle', 0)], []),
    extension: (e: string) => ext(e, 'idle', 0),
    subscribe: (l: StatusListener) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  } as unknown as StatusService;
  return { service, emit: (e) => listeners.forEach((l) => l(e)) };
}

/** The management worker (1) of three, with what it asks of the others. */
function cluster(): { status: ClusterStatus; local: ReturnType<typeof localStatus>; asked: [number, StatusRequest][] } {
  const local = localStatus();
  const asked: [number, StatusRequest][] = [];
  const status = new ClusterStatus(local.service, { self: 1, workers: 3, ask: (to, r) => asked.push([to, r]), waitMs: 2000 });
  return { status, local, asked };
}

afterEach(() => vi.useRealTimers());

describe('cluster status on the management worker', () => {
  it('asks the other workers to report only while it has listeners, and to stop when the last one goes', () => {
    const { status, asked } = cluster();
    expect(status.watching).toBe(false);
    const off1 = status.subscribe(() => {});
    const off2 = status.subscribe(() => {});
    expect(asked).toEqual([[2, { kind: 'watch', on: true }], [3, { kind: 'watch', on: true }]]);
    off1();
    expect(asked).toHaveLength(2);
    off2();
    expect(status.watching).toBe(false);
    expect(asked.slice(2)).toEqual([[2, { kind: 'watch', on: false }], [3, { kind: 'watch', on: false }]]);
    // Unwatched, reports that crossed the request are dropped.
    status.apply(2, { kind: 'snapshot', snapshot: snap([ext('1001', 'connected', 1)], [call('c1')]) });
    expect(status.extension('1001').state).toBe('idle');
  });

  it('answers a snapshot while nobody watches by asking each other worker, leaving out one that does not answer in time', async () => {
    vi.useFakeTimers();
    const { status, asked } = cluster();
    const pending = status.snapshot();
    expect(asked.map(([w, r]) => [w, r.kind])).toEqual([[2, 'query'], [3, 'query']]);
    const id = (asked[0]![1] as { id: number }).id;
    status.apply(2, { kind: 'answer', id, snapshot: snap([ext('1001', 'ringing', 1)], [call('c2')]) });
    // Worker 3 stays silent: the snapshot comes after the wait, without it.
    await vi.advanceTimersByTimeAsync(1999);
    let done = false;
    void pending.then(() => (done = true));
    await Promise.resolve();
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const s = await pending;
    expect(s.calls.map((c) => c.ref)).toEqual(['c2']);
    expect(s.extensions.find((e) => e.extension === '1001')).toMatchObject({ state: 'ringing', calls: 1 });
    // Watching was never started for it.
    expect(status.watching).toBe(false);
  });

  it('shows the calls another worker reports and the extension as busy as any worker sees it', async () => {
    const { status, local, asked } = cluster();
    const heard: StatusEvent[] = [];
    status.subscribe((e) => heard.push(e));
    // Events before the worker's snapshot are not applied: the snapshot carries them.
    status.apply(2, { kind: 'event', event: { type: 'call', call: call('early'), ended: false } });
    status.apply(2, { kind: 'snapshot', snapshot: snap([ext('1001', 'connected', 1)], [call('c1')]) });
    // Until every other worker has reported, a snapshot waits.
    let first: StatusSnapshot | undefined;
    const waiting = status.snapshot().then((s) => (first = s));
    await Promise.resolve();
    expect(first).toBeUndefined();
    status.apply(3, { kind: 'snapshot', snapshot: snap([], []) });
    await waiting;
    expect(first!.calls.map((c) => c.ref)).toEqual(['c1']);
    expect(status.extension('1001')).toMatchObject({ state: 'connected', calls: 1 });

    status.apply(2, { kind: 'event', event: { type: 'call', call: call('c2'), ended: false } });
    status.apply(2, { kind: 'event', event: { type: 'call', call: call('c1'), ended: true } });
    expect((await status.snapshot()).calls.map((c) => c.ref)).toEqual(['c2']);
    status.apply(2, { kind: 'event', event: { type: 'extension', extension: ext('1001', 'ringing', 1) } });
    expect(heard.map((e) => e.type)).toEqual(['call', 'call', 'extension']);
    expect(heard[2]).toMatchObject({ extension: { extension: '1001', state: 'ringing' } });
    // Our own events still come through.
    local.emit({ type: 'call', call: call('mine'), ended: false });
    expect(heard.at(-1)).toMatchObject({ call: { ref: 'mine' } });

    // Worker 2 restarted: what it said is gone, and it is asked to report again.
    asked.length = 0;
    status.restarted(2);
    expect(asked).toEqual([[2, { kind: 'watch', on: true }]]);
    expect(status.extension('1001').state).toBe('idle');
    status.apply(2, { kind: 'snapshot', snapshot: snap([], []) });
    expect((await status.snapshot()).calls).toEqual([]);
  });
});

describe('overload state of several workers', () => {
  const calm = overloadStatus({ admitted: 1, admittedUnauthenticated: 1, delayMs: 3, refused: 1, dropped: 10, ocFeedback: 0 }, []);
  const behind = overloadStatus(
    { admitted: 0.5, admittedUnauthenticated: 0, delayMs: 450, refused: 7, dropped: 900, ocFeedback: 12 },
    [{ peer: 'carrier', reduction: 40, until: 5000, shed: 3 }],
  );

  it('shows the cluster as its worst worker, with the counters summed and each trunk at its strongest reduction', () => {
    const other = overloadStatus(undefined, [{ peer: 'carrier', reduction: 10, until: 9000, shed: 2 }]);
    expect(mergeOverload([calm, behind, other, undefined])).toEqual({
      enabled: true,
      receiveDelayMs: 450,
      admitted: 0.5,
      admittedUnauthenticated: 0,
      refused: 8,
      dropped: 910,
      ocFeedback: 12,
      trunks: [{ trunk: 'carrier', reduction: 40, until: 9000, shed: 5 }],
    });
    expect(mergeOverload([undefined])).toBeUndefined();
    expect(overloadStatus(undefined, [])).toMatchObject({ enabled: false, admitted: 1, receiveDelayMs: 0 });
  });

  it('merges the workers\' snapshots with their overload, and leaves it out when none has one', () => {
    expect(mergeStatus([{ ...snap([], []), overload: calm }, { ...snap([], []), overload: behind }]).overload?.dropped).toBe(910);
    expect('overload' in mergeStatus([snap([], []), snap([], [])])).toBe(false);
  });

  it('does not show the overload another worker reported when the watch began as current: only its own', async () => {
    const local = localStatus();
    const status = new ClusterStatus({ ...local.service, snapshot: () => ({ ...snap([], []), overload: calm }) } as unknown as StatusService,
      { self: 1, workers: 2, ask: () => {}, waitMs: 2000 });
    const off = status.subscribe(() => {});
    status.apply(2, { kind: 'snapshot', snapshot: { ...snap([], []), overload: behind } });
    expect((await status.snapshot()).overload).toEqual(calm);
    off();
  });

  it('keeps another worker\'s extensions only while they are busy there', async () => {
    const status = new ClusterStatus(localStatus().service, { self: 1, workers: 2, ask: () => {}, waitMs: 2000 });
    const off = status.subscribe(() => {});
    status.apply(2, { kind: 'snapshot', snapshot: snap([ext('1001', 'idle', 0), ext('1002', 'connected', 1), ext('1003', 'idle', 0)], []) });
    // Idle ones add nothing to ours: not held (1001 comes from our own view).
    expect((await status.snapshot()).extensions.map((e) => [e.extension, e.state])).toEqual([['1001', 'idle'], ['1002', 'connected']]);
    status.apply(2, { kind: 'event', event: { type: 'extension', extension: ext('1002', 'idle', 0) } });
    status.apply(2, { kind: 'event', event: { type: 'extension', extension: ext('1004', 'ringing', 1) } });
    expect((await status.snapshot()).extensions.map((e) => [e.extension, e.state])).toEqual([['1001', 'idle'], ['1004', 'ringing']]);
    expect(status.extension('1002').state).toBe('idle');
    off();
  });
});
