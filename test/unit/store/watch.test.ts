import { describe, expect, it } from 'vitest';
import { startWatch, watchRevision } from '../../../src/store/watch.ts';

describe('change watchers', () => {
  it('runs checks one at a time, in order, and coalesces wake-ups that arrive while one waits', async () => {
    let running = 0;
    let maxRunning = 0;
    let checks = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    let fire!: () => void;
    const w = startWatch(async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      checks++;
      await gate;
      running--;
      return true;
    }, { intervalMs: 0, wake: (f) => { fire = f; return () => {}; }, onError: (e) => { throw e; } });
    const first = w.poll();
    for (let i = 0; i < 5; i++) fire(); // one more check covers them all
    release();
    expect(await first).toBe(true);
    expect(await w.poll()).toBe(true);
    expect(maxRunning).toBe(1);
    expect(checks).toBe(3);
    w.stop();
  });

  it('reports a failed check and looks again on the next poll; poll() still looks after stop()', async () => {
    const errors: string[] = [];
    let fail = true;
    const w = startWatch(async () => {
      if (fail) throw new Error('store down');
      return true;
    }, { intervalMs: 0, onError: (e) => void errors.push(e.message) });
    expect(await w.poll()).toBe(false);
    expect(errors).toEqual(['store down']);
    fail = false;
    w.stop();
    expect(await w.poll()).toBe(true);
  });

  it('stops waking on stop(): no more notifications reach the check', async () => {
    let checks = 0;
    let fire: (() => void) | undefined;
    const w = startWatch(async () => ++checks > 0, {
      intervalMs: 0,
      wake: (f) => { fire = f; return () => { fire = undefined; }; },
      onError: (e) => { throw e; },
    });
    fire!();
    await w.poll();
    const before = checks;
    w.stop();
    expect(fire).toBeUndefined();
    expect(checks).toBe(before);
  });

  it('calls a revision listener on the first look and whenever the revision moves', async () => {
    let revision = 7;
    const calls: number[] = [];
    const w = watchRevision(async () => revision, () => void calls.push(revision), { intervalMs: 0, onError: (e) => { throw e; } });
    expect(await w.poll()).toBe(true);
    expect(await w.poll()).toBe(false);
    revision = 8;
    expect(await w.poll()).toBe(true);
    expect(calls).toEqual([7, 8]);
    w.stop();
  });
});
