// The digits a caller types into an application: type-ahead kept in order
// and bounded, timeouts on the server's timers, collection up to '#' or a
// length, and a call's end releasing whoever waits; and the lockout that
// stops code guessing across calls.
import { describe, expect, it } from 'vitest';
import { ManualTimerQueue } from '../../../../src/lib/timer-queue.ts';
import { DigitQueue } from '../../../../src/pbx/apps/digits.ts';
import { LoginLockout } from '../../../../src/pbx/voicemail/voicemail.ts';

describe('DigitQueue', () => {
  it('hands out digits typed ahead in order, then waits for the next one', async () => {
    const timers = new ManualTimerQueue();
    const q = new DigitQueue(timers);
    q.push('1');
    q.push('2');
    expect(q.waiting).toBe(true);
    expect(await q.next(1000)).toBe('1');
    expect(await q.next(1000)).toBe('2');
    const later = q.next(1000);
    q.push('3');
    expect(await later).toBe('3');
  });

  it('times out on the server’s timers, not before', async () => {
    const timers = new ManualTimerQueue();
    const q = new DigitQueue(timers);
    let got: string | undefined | null = null;
    void q.next(5000).then((d) => (got = d));
    timers.advance(4999);
    await Promise.resolve();
    expect(got).toBeNull();
    timers.advance(1);
    await Promise.resolve();
    expect(got).toBeUndefined();
  });

  it('collects up to the terminator or the length; an entry cut by the timeout counts as typed', async () => {
    const timers = new ManualTimerQueue();
    const q = new DigitQueue(timers);
    for (const d of '4711#9') q.push(d);
    expect(await q.collect({ max: 16, terminator: '#', firstMs: 1000, nextMs: 1000 })).toBe('4711');
    expect(await q.collect({ max: 1, firstMs: 1000, nextMs: 1000 })).toBe('9');
    q.push('5');
    const partial = q.collect({ max: 4, terminator: '#', firstMs: 1000, nextMs: 1000 });
    await Promise.resolve();
    timers.advance(1000);
    expect(await partial).toBe('5');
    const nothing = q.collect({ max: 4, terminator: '#', firstMs: 1000, nextMs: 1000 });
    timers.advance(1000);
    expect(await nothing).toBeUndefined();
  });

  it('keeps at most 32 digits typed ahead, and clear() forgets them', async () => {
    const q = new DigitQueue(new ManualTimerQueue());
    for (let i = 0; i < 1000; i++) q.push(String(i % 10));
    let n = 0;
    while (q.waiting) {
      await q.next(1);
      n++;
    }
    expect(n).toBe(32);
    q.push('1');
    q.clear();
    expect(q.waiting).toBe(false);
  });

  it('the end of the call releases a waiting reader and ignores later digits', async () => {
    const q = new DigitQueue(new ManualTimerQueue());
    const waiting = q.next(60_000);
    q.close();
    expect(await waiting).toBeUndefined();
    q.push('1');
    expect(q.waiting).toBe(false);
    expect(await q.next(1)).toBeUndefined();
  });
});

describe('LoginLockout', () => {
  it('locks a mailbox after five wrong codes for 15 minutes, whoever calls; a right code resets the count', () => {
    let now = 0;
    const l = new LoginLockout(() => now);
    for (let i = 0; i < 4; i++) l.failed('1001');
    expect(l.locked('1001')).toBe(false);
    l.succeeded('1001');
    for (let i = 0; i < 4; i++) l.failed('1001');
    expect(l.locked('1001')).toBe(false);
    l.failed('1001');
    expect(l.locked('1001')).toBe(true);
    expect(l.locked('1002')).toBe(false);
    now += 15 * 60_000 - 1;
    expect(l.locked('1001')).toBe(true);
    now += 1;
    expect(l.locked('1001')).toBe(false);
  });

  it('remembers a bounded number of mailboxes (a sweep of numbers cannot grow memory)', () => {
    const l = new LoginLockout(() => 0);
    for (let i = 0; i < 20_000; i++) l.failed(String(i));
    expect((l as unknown as { failures: Map<string, unknown> }).failures.size).toBeLessThanOrEqual(10_000);
  });
});
