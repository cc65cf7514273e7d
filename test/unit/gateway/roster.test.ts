// Who the gateway speaks for, in every process (src/gateway/roster.ts): the
// gateway users and their lines' upstream users, read from the real SQLite
// store and followed as settings and lines change.
import { describe, expect, it } from 'vitest';
import { GatewayRoster } from '../../../src/gateway/roster.ts';
import type { Store } from '../../../src/store/index.ts';
import { sqliteEngine, storePerTest } from '../store/engines.ts';

describe('GatewayRoster (on the real SQLite store)', () => {
  let store: Store;
  storePerTest(sqliteEngine, async (_db, st) => {
    store = st;
    for (const ext of ['1001', '1002', '2000']) await store.users.add({ extension: ext, password: 'p', name: `User ${ext}` });
    await store.gateway.setLine({ extension: '1001', upstreamUser: '41510' });
    await store.gateway.setLine({ extension: '1002', upstreamUser: '41520', disabled: true });
  });

  it('knows the gateway users and upstream users in gateway and both modes, none in call-server mode; follows changes', async () => {
    const roster = new GatewayRoster({ repo: store.gateway, pollMs: 0 });
    // The default mode is call-server: nobody is a gateway user.
    await roster.start();
    try {
      expect(roster.concerns('1001', '2000')).toBe(false);
      expect(roster.concerns('2000', '41510')).toBe(false);

      await store.gateway.updateSettings({ mode: 'gateway' });
      await roster.refresh();
      expect(roster.concerns('1001', '2000')).toBe(true);
      expect(roster.concerns('2000', '41510')).toBe(true);
      // A disabled line's user is a local user; its upstream user is no line of ours.
      expect(roster.concerns('1002', '2000')).toBe(false);
      expect(roster.concerns('2000', '41520')).toBe(false);
      expect(roster.concerns('2000', '1001')).toBe(false);
      expect(roster.concerns(undefined, undefined)).toBe(false);

      await store.gateway.updateLine('1002', { disabled: false });
      await store.gateway.removeLine('1001');
      await roster.refresh();
      expect(roster.concerns('1002', undefined)).toBe(true);
      expect(roster.concerns(undefined, '41520')).toBe(true);
      expect(roster.concerns('1001', '41510')).toBe(false);
    } finally {
      roster.stop();
    }
  });
});
