import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/lib/log.ts';
import { ManualTimerQueue } from '../../../src/lib/timer-queue.ts';
import { OutageGate } from '../../../src/gateway/outage-gate.ts';

const tick = () => new Promise((r) => setImmediate(r));
/** Pacing as the lines use it: 5 s doubling, capped at a 30 s blacklist. */
const pace = (n: number) => Math.min(5_000 * 2 ** (n - 1), 30_000);

/** Lines that asked and were told to wait; each records when it went. */
function park(gate: OutageGate, ids: string[], went: string[]): void {
  for (const id of ids) {
    expect(gate.mayTry('', id), id).toBe(false);
    void gate.wait('', id).then(() => went.push(id));
  }
}

describe('outage gate (one probe at a time while every proxy is down)', () => {
  it('lets everyone try while the scope is up, and a failure that leaves a target free begins no outage', () => {
    const gate = new OutageGate(new ManualTimerQueue(), pace, silentLogger);
    gate.noAnswer('', 'a', false);
    expect(gate.isDown('')).toBe(false);
    expect(gate.mayTry('', 'a') && gate.mayTry('', 'b')).toBe(true);
  });

  it('paces probes, hands the turn on in arrival order, and lets every waiting line go at the first answer', async () => {
    const timers = new ManualTimerQueue();
    const gate = new OutageGate(timers, pace, silentLogger);
    gate.noAnswer('', 'a', true);
    expect(gate.isDown('')).toBe(true);
    const went: string[] = [];
    park(gate, ['a', 'b', 'c'], went);
    timers.advance(4_999);
    await tick();
    expect(went).toEqual([]);
    timers.advance(1);
    await tick();
    expect(went).toEqual(['a']);
    expect(gate.mayTry('', 'a')).toBe(true);
    expect(gate.mayTry('', 'b')).toBe(false);
    // A straggler's failure (an attempt sent before the outage) does not move the pacing.
    gate.noAnswer('', 'c', true);
    // The probe fails: the next probe is b's, after the second pacing step.
    gate.noAnswer('', 'a', true);
    park(gate, ['a'], went);
    timers.advance(9_999);
    await tick();
    expect(went).toEqual(['a']);
    timers.advance(1);
    await tick();
    expect(went).toEqual(['a', 'b']);
    gate.answered('');
    await tick();
    expect(went).toEqual(['a', 'b', 'c', 'a']);
    expect(gate.isDown('')).toBe(false);
    expect(gate.mayTry('', 'c')).toBe(true);
  });

  it('a probe that goes away passes its turn on at once; the turn stays open when nobody waits', async () => {
    const timers = new ManualTimerQueue();
    const gate = new OutageGate(timers, pace, silentLogger);
    gate.noAnswer('', 'a', true);
    timers.advance(5_000);
    // Nobody waited when the pacing ended: the first line to ask probes.
    expect(gate.mayTry('', 'x')).toBe(true);
    const went: string[] = [];
    park(gate, ['y', 'z'], went);
    gate.leave('', 'x');
    await tick();
    expect(went).toEqual(['y']);
    gate.leave('', 'z');
    await tick();
    expect(went).toEqual(['y', 'z']);
    expect(gate.mayTry('', 'z')).toBe(false);
  });

  it('scopes are apart, and clear() lets every waiting line go', async () => {
    const timers = new ManualTimerQueue();
    const gate = new OutageGate(timers, pace, silentLogger);
    gate.noAnswer('a.example', 'a', true);
    expect(gate.mayTry('b.example', 'b')).toBe(true);
    let went = false;
    expect(gate.mayTry('a.example', 'c')).toBe(false);
    void gate.wait('a.example', 'c').then(() => (went = true));
    gate.clear();
    await tick();
    expect(went).toBe(true);
    expect(gate.isDown('a.example')).toBe(false);
  });
});
