import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/sip/clock.ts';
import { ManualTimerQueue, TimerQueue } from '../../../src/sip/timer-queue.ts';

describe('ManualTimerQueue', () => {
  it('fires in deadline order with the clock at each deadline, FIFO on ties', () => {
    const q = new ManualTimerQueue();
    const seen: string[] = [];
    const at = (name: string) => () => seen.push(`${name}@${q.clock.now()}`);
    q.schedule(300, at('c'));
    q.schedule(100, at('a1'));
    q.schedule(200, at('b'));
    q.schedule(100, at('a2'));
    expect(q.size).toBe(4);
    expect(q.advance(150)).toBe(2);
    expect(seen).toEqual(['a1@100', 'a2@100']);
    expect(q.clock.now()).toBe(150);
    q.advance(1000);
    expect(seen).toEqual(['a1@100', 'a2@100', 'b@200', 'c@300']);
    expect(q.size).toBe(0);
  });

  it('passes the argument to the callback', () => {
    const q = new ManualTimerQueue();
    const got: number[] = [];
    q.schedule(10, (n: number) => got.push(n), 42);
    q.advance(10);
    expect(got).toEqual([42]);
  });

  it('cancel removes the entry at once, and is harmless on fired, cancelled or undefined handles', () => {
    const q = new ManualTimerQueue();
    let fired = 0;
    const h = q.schedule(10, () => fired++);
    const keep = q.schedule(20, () => fired++);
    expect(h.pending).toBe(true);
    q.cancel(h);
    expect(h.pending).toBe(false);
    expect(q.size).toBe(1);
    q.cancel(h);
    q.cancel(undefined);
    expect(q.size).toBe(1);
    q.advance(30);
    expect(fired).toBe(1);
    expect(keep.pending).toBe(false);
    q.cancel(keep);
    expect(q.size).toBe(0);
  });

  it('does not let a handle from another queue cancel anything', () => {
    const a = new ManualTimerQueue();
    const b = new ManualTimerQueue();
    const ha = a.schedule(10, () => {});
    b.schedule(10, () => {});
    b.cancel(ha);
    expect(a.size).toBe(1);
    expect(b.size).toBe(1);
  });

  it('runs timers scheduled by callbacks within the same advance when they fall due', () => {
    const q = new ManualTimerQueue();
    const seen: number[] = [];
    const tick = (n: number) => {
      seen.push(q.clock.now());
      if (n > 0) q.schedule(100, tick, n - 1);
    };
    q.schedule(100, tick, 3);
    q.advance(350);
    expect(seen).toEqual([100, 200, 300]);
    expect(q.size).toBe(1);
  });

  it('a callback rescheduling itself with delay 0 does not spin a single pass', () => {
    const q = new ManualTimerQueue();
    let n = 0;
    const again = () => {
      n++;
      if (n < 5) q.schedule(0, again);
    };
    q.schedule(0, again);
    expect(q.runDue()).toBe(5);
    expect(n).toBe(5);
  });

  it('keeps firing other timers when one throws, reporting to onError', () => {
    const errors: unknown[] = [];
    const q = new ManualTimerQueue({ onError: (e) => errors.push(e) });
    let after = 0;
    q.schedule(1, () => {
      throw new Error('boom');
    });
    q.schedule(1, () => after++);
    q.advance(1);
    expect(after).toBe(1);
    expect((errors[0] as Error).message).toBe('boom');
  });

  it('matches a sorted reference under random schedule/cancel churn and ends empty', () => {
    const q = new ManualTimerQueue({ clock: new ManualClock(1000) });
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const fired: number[] = [];
    const expected: { deadline: number; id: number }[] = [];
    const handles = new Map<number, ReturnType<typeof q.schedule>>();
    for (let id = 0; id < 5000; id++) {
      const delay = rnd(10_000);
      handles.set(id, q.schedule(delay, (x: number) => fired.push(x), id));
      expected.push({ deadline: 1000 + delay, id });
    }
    const cancelled = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const id = rnd(5000);
      q.cancel(handles.get(id));
      cancelled.add(id);
    }
    expect(q.size).toBe(5000 - cancelled.size);
    q.advance(20_000);
    const want = expected
      .filter((e) => !cancelled.has(e.id))
      .sort((a, b) => a.deadline - b.deadline || a.id - b.id)
      .map((e) => e.id);
    expect(fired).toEqual(want);
    expect(q.size).toBe(0);
  });

  it('close() cancels everything', () => {
    const q = new ManualTimerQueue();
    let fired = 0;
    for (let i = 0; i < 10; i++) q.schedule(i, () => fired++);
    q.close();
    expect(q.size).toBe(0);
    q.advance(100);
    expect(fired).toBe(0);
  });
});

describe('TimerQueue (real time)', () => {
  it('fires through one Node timer, earliest first, including a deadline added in front', async () => {
    const q = new TimerQueue();
    const seen: string[] = [];
    const done = new Promise<void>((resolve) => {
      q.schedule(40, () => {
        seen.push('late');
        resolve();
      });
      q.schedule(5, () => seen.push('early'));
    });
    const cancelled = q.schedule(10, () => seen.push('cancelled'));
    q.cancel(cancelled);
    // The queue's Node timer is unref'd; keep the test's event loop alive meanwhile.
    const keepAlive = setTimeout(() => {}, 1000);
    await done;
    clearTimeout(keepAlive);
    expect(seen).toEqual(['early', 'late']);
    expect(q.size).toBe(0);
    q.close();
  });

  it('re-arms after a pass for timers its callbacks scheduled', async () => {
    const q = new TimerQueue();
    const keepAlive = setTimeout(() => {}, 1000);
    const start = performance.now();
    const ticks = await new Promise<number>((resolve) => {
      let n = 0;
      const tick = () => (++n === 3 ? resolve(n) : q.schedule(5, tick));
      q.schedule(5, tick);
    });
    clearTimeout(keepAlive);
    expect(ticks).toBe(3);
    expect(performance.now() - start).toBeGreaterThanOrEqual(13);
    expect(q.size).toBe(0);
  });
});
