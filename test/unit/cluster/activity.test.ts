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
  it('counts the calls and the ringing of each extension here and tells only real changes', () => {
    const told: ActivityUpdate[] = [];
    const act = new ClusterActivity((u) => told.push(u));
    const c = call('1001', '1002', 'ringing');
    act.onCall(c, false);
    expect(told).toEqual([
      { kind: 'extension', activity: { extension: '1001', calls: 1, ringing: 0 } },
      { kind: 'extension', activity: { extension: '1002', calls: 1, ringing: 1 } },
    ]);
    told.length = 0;
    act.onCall(c, false); // the same call again, unchanged: nothing to tell
    expect(told).toEqual([]);
    (c as { state: string }).state = 'connected';
    act.onCall(c, false);
    expect(told).toEqual([{ kind: 'extension', activity: { extension: '1002', calls: 1, ringing: 0 } }]);
    told.length = 0;
    act.onCall(c, true);
    expect(told.map((u) => u.kind === 'extension' && u.activity)).toEqual([
      { extension: '1001', calls: 0, ringing: 0 },
      { extension: '1002', calls: 0, ringing: 0 },
    ]);
  });

  it('names the worker holding an extension’s calls, ringing or a park slot, and prefers this one', () => {
    const act = new ClusterActivity(() => {});
    act.apply(2, { kind: 'extension', activity: { extension: '1001', calls: 1, ringing: 0 } });
    act.apply(3, { kind: 'extension', activity: { extension: '1002', calls: 1, ringing: 1 } });
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
