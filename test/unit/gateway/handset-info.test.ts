// B-14: handset model and firmware from the User-Agent (src/gateway/handset-info.ts),
// recorded on the real SQLite store only when they change.
import { describe, expect, it } from 'vitest';
import { HandsetRecorder, parseHandsetUserAgent } from '../../../src/gateway/handset-info.ts';
import { silentLogger } from '../../../src/lib/log.ts';
import type { Store } from '../../../src/store/index.ts';
import { sqliteEngine, storePerTest } from '../store/engines.ts';

describe('parseHandsetUserAgent', () => {
  it('reads the handsets and phones seen in the field', () => {
    expect(parseHandsetUserAgent('Spectralink 7202 PCS20GA')).toEqual({ model: 'Spectralink 7202', firmware: 'PCS20GA' });
    expect(parseHandsetUserAgent('Yealink W70B 146.85.0.20')).toEqual({ model: 'Yealink W70B', firmware: '146.85.0.20' });
    expect(parseHandsetUserAgent('baresip v3.10.1')).toEqual({ model: 'baresip', firmware: 'v3.10.1' });
  });

  it('takes the first product token and its version, without comments', () => {
    expect(parseHandsetUserAgent('Linphone/5.2.0 (belle-sip/5.2.0)')).toEqual({ model: 'Linphone', firmware: '5.2.0' });
    expect(parseHandsetUserAgent('Zoiper rv2.10 (Windows)')).toEqual({ model: 'Zoiper', firmware: 'rv2.10' });
    expect(parseHandsetUserAgent('SomePhone')).toEqual({ model: 'SomePhone', firmware: '' });
    expect(parseHandsetUserAgent('   ')).toEqual({ model: '', firmware: '' });
  });

  it('drops control characters and bounds the fields', () => {
    expect(parseHandsetUserAgent('Evil\u0000Phone\u001b[2J 1.0\u007f')).toEqual({ model: 'Evil Phone [2J', firmware: '1.0' });
    const long = parseHandsetUserAgent(`${'M'.repeat(500)}/${'9'.repeat(500)}`);
    expect(long.model.length).toBeLessThanOrEqual(64);
    expect(long.firmware.length).toBeLessThanOrEqual(64);
    expect(parseHandsetUserAgent(`Phone ${'x'.repeat(10_000)} 1.0`).model.length).toBeLessThanOrEqual(64);
  });
});

describe('HandsetRecorder (on the real SQLite store)', () => {
  let store: Store;
  storePerTest(sqliteEngine, async (_db, st) => {
    store = st;
    for (const ext of ['1001', '2000']) await store.users.add({ extension: ext, password: 'p' });
    await store.gateway.setLine({ extension: '1001', upstreamUser: '41510' });
  });

  async function settle(): Promise<void> {
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  }

  it('writes a gateway user\'s handset once per change, never for a user without a line', async () => {
    let writes = 0;
    let reads = 0;
    const repo = {
      getLine: (ext: string) => (reads++, store.gateway.getLine(ext)),
      recordHandset: (ext: string, info: { model?: string; firmware?: string }) => (writes++, store.gateway.recordHandset(ext, info)),
    };
    let t = 0;
    const rec = new HandsetRecorder({ repo, now: () => t, log: silentLogger });
    rec.registered('1001', 'Yealink W70B 146.85.0.20');
    await settle();
    expect((await store.gateway.getLine('1001'))!.handset).toMatchObject({ model: 'Yealink W70B', firmware: '146.85.0.20' });
    expect(writes).toBe(1);
    // Refreshes with the same User-Agent: no store access at all.
    rec.registered('1001', 'Yealink W70B 146.85.0.20');
    rec.registered('1001', null);
    await settle();
    expect(writes).toBe(1);
    expect(reads).toBe(1);
    // A firmware update is written.
    rec.registered('1001', 'Yealink W70B 146.85.0.25');
    await settle();
    expect((await store.gateway.getLine('1001'))!.handset.firmware).toBe('146.85.0.25');
    expect(writes).toBe(2);
    // Not a gateway user: looked up once, then again only after a while.
    rec.registered('2000', 'Yealink SIP-T46S 66.86.0.15');
    rec.registered('2000', 'Yealink SIP-T46S 66.86.0.15');
    await settle();
    expect(reads).toBe(3);
    t += 10 * 60_000;
    rec.registered('2000', 'Yealink SIP-T46S 66.86.0.15');
    await settle();
    expect(reads).toBe(4);
    expect(writes).toBe(2);
  });
});
