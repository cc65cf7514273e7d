import { afterEach, describe, expect, it, vi } from 'vitest';
import { JitterBuffer } from '../../../src/media/jitter-buffer.ts';
import { ManualMediaClock, PHASE_MIX, PHASE_RECEIVE, PHASE_SEND, RealMediaClock } from '../../../src/media/media-clock.ts';

describe('media clock', () => {
  afterEach(() => vi.useRealTimers());

  it('runs the three phases in order on each manual tick and stops calling after unsubscribe', () => {
    const clock = new ManualMediaClock();
    const seen: string[] = [];
    const offSend = clock.subscribe(PHASE_SEND, () => seen.push('send'));
    clock.subscribe(PHASE_MIX, () => seen.push('mix'));
    clock.subscribe(PHASE_RECEIVE, () => seen.push('recv'));
    clock.tick();
    expect(seen).toEqual(['recv', 'mix', 'send']);
    offSend();
    offSend();
    clock.tick(2);
    expect(seen).toEqual(['recv', 'mix', 'send', 'recv', 'mix', 'recv', 'mix']);
    expect(clock.ticks).toBe(3);
  });

  it('a handler that throws does not stop the others; unsubscribing during a tick is safe', () => {
    const clock = new ManualMediaClock();
    const errors: unknown[] = [];
    clock.onError = (e) => errors.push(e);
    let n = 0;
    const off = clock.subscribe(PHASE_RECEIVE, () => {
      off();
      throw new Error('boom');
    });
    clock.subscribe(PHASE_RECEIVE, () => n++);
    clock.tick(3);
    expect(errors).toHaveLength(1);
    expect(n).toBe(3);
  });

  it('the real clock ticks every 20 ms against its time line, catches up a little after a stall and re-anchors', () => {
    vi.useFakeTimers();
    let t = 1000;
    const clock = new RealMediaClock(() => t);
    let n = 0;
    const off = clock.subscribe(PHASE_SEND, () => n++);
    for (let i = 0; i < 50; i++) {
      t += 20;
      vi.advanceTimersByTime(20);
    }
    expect(n).toBe(50);
    // Timer 7 ms late each time: still one tick per 20 ms of the time line.
    for (let i = 0; i < 10; i++) {
      t += 27;
      vi.advanceTimersByTime(27);
      t -= 7;
    }
    expect(n).toBe(60);
    t += 1000; // the event loop stalled for a second
    vi.advanceTimersByTime(20);
    expect(n).toBe(65); // at most 5 back to back
    expect(clock.skipped).toBeGreaterThan(40);
    off();
    expect(vi.getTimerCount()).toBe(0); // no subscribers, no timer
  });
});

/** A JitterBuffer put() of `n` samples of value v at timestamp ts. */
function put(jb: JitterBuffer, ts: number, v: number, n = 160): boolean {
  return jb.put(ts, n, (ring, at, from, len) => ring.fill(v + from * 0, at, at + len));
}

describe('jitter buffer', () => {
  it('plays after the playout delay in timestamp order, whatever the arrival order', () => {
    const jb = new JitterBuffer(2);
    const out = new Int16Array(160);
    expect(jb.take(out)).toBe(false); // nothing yet
    put(jb, 1000, 1);
    put(jb, 1320, 3); // arrives before 1160
    put(jb, 1160, 2);
    const got: number[] = [];
    for (let i = 0; i < 5; i++) got.push(jb.take(out) ? out[0]! : 0);
    expect(got).toEqual([0, 0, 1, 2, 3]);
  });

  it('drops late and duplicate packets; conceals one missing frame, then silence', () => {
    const jb = new JitterBuffer(1);
    const out = new Int16Array(160);
    put(jb, 0, 5);
    jb.take(out);
    expect(jb.take(out) && out[0]).toBe(5);
    expect(put(jb, 0, 9)).toBe(false); // late
    expect(put(jb, 160, 6)).toBe(true);
    expect(put(jb, 160, 6)).toBe(false); // duplicate
    expect(jb.take(out) && out[0]).toBe(6);
    expect(jb.take(out) && out[0]).toBe(6); // concealed (repeat)
    expect(jb.take(out)).toBe(false);
    expect(out[0]).toBe(0);
    expect(jb.stats).toMatchObject({ late: 1, duplicates: 1, concealed: 1 });
  });

  it('re-anchors on a timestamp jump and after a run of late packets (peer clock behind)', () => {
    const jb = new JitterBuffer(1);
    const out = new Int16Array(160);
    put(jb, 0, 1);
    expect(put(jb, 900000, 2)).toBe(true); // far ahead: new time line
    jb.take(out);
    expect(jb.take(out) && out[0]).toBe(2);
    for (let i = 0; i < 20; i++) jb.take(out); // we run on, the peer stops
    let accepted = 0;
    for (let k = 0; k < 6; k++) if (put(jb, 900160 + 160 * k, 3)) accepted++;
    expect(jb.stats.resyncs).toBe(2);
    expect(accepted).toBe(3); // the first three late ones dropped, then re-anchored
  });

  it('wraps the ring and the 32-bit timestamp', () => {
    const jb = new JitterBuffer(1);
    const out = new Int16Array(160);
    let ts = 0xffffffff - 800;
    for (let k = 0; k < 100; k++) {
      put(jb, ts >>> 0, k + 1);
      ts += 160;
      expect(jb.take(out)).toBe(k > 0);
      if (k > 0) expect(out[159]).toBe(k);
    }
    expect(jb.stats.resyncs).toBe(0);
  });
});
