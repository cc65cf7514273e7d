// The lines' tally (metrics and the gateway alarm) is kept per change rather
// than counted over every line: this checks it against a count of the status
// list through registration, a refused password, an upstream gone, a line
// removed and one added, so a change that forgot to recount would show.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../lib/server.ts';
import { until } from '../lib/until.ts';
import { handsetPassword, startPair, stopAll, upstreamPassword } from './pair.ts';

let upstream: TestServer;
let gw: TestServer;

const lines = () => gw.server.gateway.lines!;

/** The tally as the status list says it, line by line. */
function counted(): { registered: number; failed: number; total: number } {
  const s = lines().status().lines;
  return {
    registered: s.filter((l) => l.registration === 'registered').length,
    failed: s.filter((l) => l.registration === 'failed').length,
    total: s.length,
  };
}

beforeAll(async () => {
  ({ upstream, gw } = await startPair({
    manualTime: true,
    lines: [
      { extension: '1001', upstreamUser: '41510' },
      { extension: '1002', upstreamUser: '41511' },
      { extension: '1003', upstreamUser: '41512', password: 'not-the-password' },
    ],
    upstreamUsers: [{ extension: '41513', password: upstreamPassword('41513') }],
    settings: { registerExpiresSec: 3600, maxPendingRegistrations: 1, mwi: false },
  }));
  await gw.server.store.users.add({ extension: '1004', password: handsetPassword('1004') });
}, 30_000);

afterAll(() => stopAll(gw, upstream));

describe('the gateway lines tally', () => {
  it('matches the status list after every kind of change', async () => {
    await until(() => lines().tally().registered === 2 && lines().tally().failed === 1, 'two registered, one refused');
    expect(lines().tally()).toEqual({ registered: 2, failed: 1, total: 3 });
    expect(lines().tally()).toEqual(counted());

    // The refused line gets its password right and registers; a new line joins.
    const store = gw.server.store;
    await store.gateway.updateLine('1003', { password: 'Up-41512-secret' });
    await store.gateway.setLine({ extension: '1004', upstreamUser: '41513', password: 'Up-41513-secret' });
    await gw.advance(1000);
    await until(() => lines().tally().registered === 4, 'all four registered');
    expect(lines().tally()).toEqual({ registered: 4, failed: 0, total: 4 });
    expect(lines().tally()).toEqual(counted());

    // A registered line is removed.
    await store.gateway.removeLine('1002');
    await gw.advance(1000);
    await until(() => lines().tally().total === 3, 'the line removed');
    expect(lines().tally()).toEqual({ registered: 3, failed: 0, total: 3 });
    expect(lines().tally()).toEqual(counted());

    // The alarm follows the tally: a re-register with a wrong password fails one line.
    await store.gateway.updateLine('1001', { password: 'wrong-again' });
    await gw.advance(1000);
    await until(() => lines().tally().failed === 1, 'one line refused');
    expect(lines().tally()).toEqual({ registered: 2, failed: 1, total: 3 });
    expect(lines().tally()).toEqual(counted());
    expect(gw.server.alarms.list().find((a) => a.kind === 'gateway-lines')?.text).toContain('1 of 3 gateway lines not registered');
  }, 30_000);
});
