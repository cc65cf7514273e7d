import { describe, expect, it } from 'vitest';
import { ClusterStatus } from '../../../src/cluster/status.ts';
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

  it('keeps another worker\'s extensions only while they are busy there', () => {
    const status = new ClusterStatus(localStatus().service);
    status.apply(2, { kind: 'snapshot', snapshot: snap([ext('1001', 'idle', 0), ext('1002', 'connected', 1), ext('1003', 'idle', 0)], []) });
    // Idle ones add nothing to ours: not held (1001 comes from our own view).
    expect(status.snapshot().extensions.map((e) => [e.extension, e.state])).toEqual([['1001', 'idle'], ['1002', 'connected']]);
    status.apply(2, { kind: 'event', event: { type: 'extension', extension: ext('1002', 'idle', 0) } });
    status.apply(2, { kind: 'event', event: { type: 'extension', extension: ext('1004', 'ringing', 1) } });
    expect(status.snapshot().extensions.map((e) => [e.extension, e.state])).toEqual([['1001', 'idle'], ['1004', 'ringing']]);
    expect(status.extension('1002').state).toBe('idle');
  });
});
