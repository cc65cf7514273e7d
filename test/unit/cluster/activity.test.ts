import { describe, expect, it } from 'vitest';
import { ClusterActivity } from '../../../src/cluster/activity.ts';
import type { ActivityUpdate } from '../../../src/cluster/activity.ts';
import type { CallView } from '../../../src/pbx/call/context.ts';
import type { User } from '../../../src/store/types.ts';

const user = (extension: string) => ({ extension }) as User;
function call(caller: string, callee: string, state: CallView['state']): CallView {
  return { ref: `${caller}-${callee}`, state, caller: { number: caller, name: '', user: user(caller) }, callee: { number: callee, user: user(callee), trunk: undefined } } as unknown as CallView;
}

describe('cluster activity', () => {
  it('tells the other workers only when an extension passes between no call and some, or no ringing and some', () => {
    const told: ActivityUpdate[] = [];
    const act = new ClusterActivity((u) => told.push(u));
    const c = call('1001', '1002', 'ringing');
    act.onCall(c, false);
    expect(told).toEqual([
      { kind: 'extension', activity: { extension: '1001', inCall: true, ringing: false } },
      { kind: 'extension', activity: { extension: '1002', inCall: true, ringing: true } },
    ]);
    told.length = 0;
    act.onCall(c, false); // the same call again, unchanged: nothing to tell
    expect(told).toEqual([]);
    // A second call ringing 1002 here (call waiting), from 1003: only 1003 is news.
    const d = call('1003', '1002', 'ringing');
    act.onCall(d, false);
    expect(told).toEqual([{ kind: 'extension', activity: { extension: '1003', inCall: true, ringing: false } }]);
    told.length = 0;
    // The first is answered; the second still rings 1002: nothing changes for the others.
    (c as { state: string }).state = 'connected';
    act.onCall(c, false);
    expect(told).toEqual([]);
    (d as { state: string }).state = 'connected';
    act.onCall(d, false);
    expect(told).toEqual([{ kind: 'extension', activity: { extension: '1002', inCall: true, ringing: false } }]);
    told.length = 0;
    act.onCall(c, true);
    expect(told).toEqual([{ kind: 'extension', activity: { extension: '1001', inCall: false, ringing: false } }]);
    told.length = 0;
    act.onCall(d, true);
    expect(told.map((u) => u.kind === 'extension' && u.activity)).toEqual([
      { extension: '1003', inCall: false, ringing: false },
      { extension: '1002', inCall: false, ringing: false },
    ]);
  });

  it('names the worker holding an extension’s calls, ringing or a park slot, and prefers this one', () => {
    const act = new ClusterActivity(() => {});
    act.apply(2, { kind: 'extension', activity: { extension: '1001', inCall: true, ringing: false } });
    act.apply(3, { kind: 'extension', activity: { extension: '1002', inCall: true, ringing: true } });
    act.apply(3, { kind: 'slots', slots: ['5', '6'] });
    expect(act.callsAt('1001')).toBe(2);
    expect(act.callsAt('1009')).toBe(0);
    expect(act.ringingAt('1002')).toBe(3);
    expect(act.ringingAt('1001')).toBe(0);
    expect(act.ringingWhere((e) => e === '1002')).toBe(3);
    expect(act.slotAt('6')).toBe(3);
    expect(act.slotAt('7')).toBe(0);
    // Held here too: taken here.
    act.onCall(call('1001', '1003', 'connected'), false);
    expect(act.callsAt('1001')).toBe(0);
    // A worker that restarted forgets what it said before.
    act.apply(3, { kind: 'hello' });
    expect(act.ringingAt('1002')).toBe(0);
    expect(act.slotAt('6')).toBe(0);
  });
});
