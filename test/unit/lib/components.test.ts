import { describe, expect, it } from 'vitest';
import { ComponentList, Late } from '../../../src/lib/components.ts';
import type { Component } from '../../../src/lib/components.ts';

function recorder() {
  const events: string[] = [];
  const part = (name: string, failStart = false, failStop = false): Component => ({
    name,
    start: async () => {
      await Promise.resolve();
      if (failStart) throw new Error(`${name} cannot start`);
      events.push(`start ${name}`);
    },
    stop: () => {
      events.push(`stop ${name}`);
      if (failStop) throw new Error(`${name} cannot stop`);
    },
  });
  return { events, part };
}

describe('ComponentList', () => {
  it('starts in order and stops in reverse', async () => {
    const { events, part } = recorder();
    const list = new ComponentList().add(part('a'), part('b'), part('c'));
    await list.start();
    expect(list.names).toEqual(['a', 'b', 'c']);
    await list.stop();
    expect(events).toEqual(['start a', 'start b', 'start c', 'stop c', 'stop b', 'stop a']);
    expect(list.names).toEqual([]);
  });

  it('stops the one that failed to start and what started before it, in reverse, and rethrows its error', async () => {
    const { events, part } = recorder();
    const list = new ComponentList().add(part('a'), part('b'), part('c', true), part('d'));
    await expect(list.start()).rejects.toThrow('c cannot start');
    // c may have done half its work (bound one socket of three): its stop runs too; d never started.
    expect(events).toEqual(['start a', 'start b', 'stop c', 'stop b', 'stop a']);
    expect(() => list.add(part('e'))).toThrow(/stopping/);
  });

  it('includes components of earlier start() calls and open() values in the rollback', async () => {
    const { events, part } = recorder();
    const list = new ComponentList();
    const db = await list.open('db', () => ({ open: true }), (v) => void events.push(`close db ${v.open}`));
    expect(db).toEqual({ open: true });
    list.add(part('x'), part('y', true));
    await expect(list.start()).rejects.toThrow('y cannot start');
    expect(events).toEqual(['start x', 'stop y', 'stop x', 'close db true']);
  });

  it('keeps stopping after a stop fails, reports it, and stops only once', async () => {
    const { events, part } = recorder();
    const failures: string[] = [];
    const list = new ComponentList({ onStopError: (name, err) => failures.push(`${name}: ${(err as Error).message}`) });
    await list.add(part('a'), part('b', false, true), part('c')).start();
    await Promise.all([list.stop(), list.stop()]);
    await list.stop();
    expect(events).toEqual(['start a', 'start b', 'start c', 'stop c', 'stop b', 'stop a']);
    expect(failures).toEqual(['b: b cannot stop']);
  });

  it('does not close a value whose open() failed', async () => {
    const closed: string[] = [];
    const list = new ComponentList();
    await expect(list.open('db', () => Promise.reject(new Error('locked')), () => void closed.push('db'))).rejects.toThrow('locked');
    expect(closed).toEqual([]);
  });

  it('allows components without start or stop', async () => {
    const list = new ComponentList().add({ name: 'plain' });
    await list.start();
    expect(list.names).toEqual(['plain']);
    await list.stop();
  });
});

describe('Late', () => {
  it('throws when used before it is set, and when set twice', () => {
    const late = new Late<number>('answer');
    expect(() => late.get()).toThrow('answer used before it was built');
    late.set(42);
    expect(late.get()).toBe(42);
    expect(() => late.set(43)).toThrow('answer set twice');
  });
});
