import { describe, expect, it } from 'vitest';
import { ClusterStatus, mergeOverload, mergeStatus } from '../../../src/cluster/status.ts';
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

describe('cluster status on the management worker', () => {
  it('shows the calls another worker reports and the extension as busy as any worker sees it', () => {
    const local = localStatus();
    const status = new ClusterStatus(local.service);
    const heard: StatusEvent[] = [];
    status.subscribe((e) => heard.push(e));
    // Events before the worker's snapshot are not applied: the snapshot carries them.
    status.apply(2, { kind: 'event', event: { type: 'call', call: call('early'), ended: false } });
    expect(status.snapshot().calls).toEqual([]);
    status.apply(2, { kind: 'snapshot', snapshot: snap([ext('1001', 'connected', 1)], [call('c1')]) });
    expect(status.snapshot().calls.map((c) => c.ref)).toEqual(['c1']);
    expect(status.extension('1001')).toMatchObject({ state: 'connected', calls: 1 });

    status.apply(2, { kind: 'event', event: { type: 'call', call: call('c2'), ended: false } });
    status.apply(2, { kind: 'event', event: { type: 'call', call: call('c1'), ended: true } });
    expect(status.snapshot().calls.map((c) => c.ref)).toEqual(['c2']);
    status.apply(2, { kind: 'event', event: { type: 'extension', extension: ext('1001', 'ringing', 1) } });
    expect(heard.map((e) => e.type)).toEqual(['call', 'call', 'extension']);
    expect(heard[2]).toMatchObject({ extension: { extension: '1001', state: 'ringing' } });
    // Our own events still come through.
    local.emit({ type: 'call', call: call('mine'), ended: false });
    expect(heard.at(-1)).toMatchObject({ call: { ref: 'mine' } });

    status.forget(2);
    expect(status.snapshot().calls).toEqual([]);
    expect(status.extension('1001').state).toBe('idle');
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

  it('does not show another worker\'s start-up overload as current: only its own', () => {
    const local = localStatus();
    const status = new ClusterStatus({ ...local.service, snapshot: () => ({ ...snap([], []), overload: calm }) } as unknown as StatusService);
    status.apply(2, { kind: 'snapshot', snapshot: { ...snap([], []), overload: behind } });
    expect(status.snapshot().overload).toEqual(calm);
  });
});
