import { describe, expect, it } from 'vitest';
import { ManualTimerQueue } from '../../../src/lib/timer-queue.ts';
import { PendingSlots } from '../../../src/gateway/pending-slots.ts';

const tick = () => new Promise((r) => setImmediate(r));

describe('max pending registrations (B-01)', () => {
  it('with 1, one exchange after another, in order', async () => {
    const slots = new PendingSlots(new ManualTimerQueue(), 1, 32_000);
    const went: string[] = [];
    for (const id of ['a', 'b', 'c']) void slots.take(id).then(() => went.push(id));
    await tick();
    expect(went).toEqual(['a']);
    slots.release('a');
    await tick();
    expect(went).toEqual(['a', 'b']);
    slots.release('b');
    await tick();
    expect(went).toEqual(['a', 'b', 'c']);
    expect(slots.pending).toBe(1);
  });

  it('a line asking again while queued shares its wait and takes one slot (no slot lost to a superseded attempt)', async () => {
    const slots = new PendingSlots(new ManualTimerQueue(), 1, 32_000);
    void slots.take('a');
    let bGoes = 0;
    void slots.take('b').then(() => bGoes++);
    void slots.take('b').then(() => bGoes++);
    void slots.take('c');
    slots.release('a');
    await tick();
    expect(bGoes).toBe(2);
    expect(slots.pending).toBe(1);
    slots.release('b');
    await tick();
    expect(slots.pending).toBe(1);
    expect(slots.queued).toBe(0);
  });

  it('a new hold time applies to slots taken after it (a longer Timer F keeps its slot)', async () => {
    const timers = new ManualTimerQueue();
    const slots = new PendingSlots(timers, 1, 32_000);
    slots.setLimit(1, 128_000);
    void slots.take('a');
    let bGoes = 0;
    void slots.take('b').then(() => bGoes++);
    timers.advance(64_000);
    await tick();
    expect(bGoes).toBe(0);
    timers.advance(64_000);
    await tick();
    expect(bGoes).toBe(1);
  });

  it('a slot not given back is taken back after its hold time', async () => {
    const timers = new ManualTimerQueue();
    const slots = new PendingSlots(timers, 1, 32_000);
    void slots.take('a');
    let b = false;
    void slots.take('b').then(() => (b = true));
    timers.advance(31_999);
    await tick();
    expect(b).toBe(false);
    timers.advance(1);
    await tick();
    expect(b).toBe(true);
  });
});
