// The provisioning request log: a bounded ring, failures logged once per
// source per interval, last fetches written in batches that never fail a fetch.
import { describe, expect, it } from 'vitest';
import { RequestLog, type ProvisioningRequest } from '../../../src/provisioning/request-log.ts';
import type { DeviceFetch } from '../../../src/store/types.ts';

function harness(write: (m: ReadonlyMap<string, DeviceFetch>) => Promise<void> = async () => {}) {
  let t = 1_000_000;
  const warnings: { obj: object; msg?: string }[] = [];
  const log = { error() {}, info() {}, debug() {}, warn: (obj: object, msg?: string) => void warnings.push({ obj, msg }) };
  const log2 = new RequestLog({ devices: { recordFetches: write }, log, now: () => t, size: 3, logIntervalMs: 60_000, flushMs: 3_600_000 });
  return { log: log2, warnings, advance: (ms: number) => (t += ms), at: () => t };
}

const req = (over: Partial<ProvisioningRequest>): ProvisioningRequest =>
  ({ at: 0, mac: null, method: 'GET', file: '/f', status: 200, result: 'served', source: '10.0.0.1', ...over });

describe('RequestLog', () => {
  it('keeps the newest requests up to its size, newest first', async () => {
    const h = harness();
    for (let i = 1; i <= 5; i++) h.log.add(req({ at: i }));
    expect(h.log.recent().map((r) => r.at)).toEqual([5, 4, 3]);
    await h.log.close();
  });

  it('logs failures once per source per interval, then says how many went unlogged', async () => {
    const h = harness();
    for (let i = 0; i < 50; i++) h.log.add(req({ status: 401, result: 'refused: wrong password' }));
    h.log.add(req({ status: 404, source: '10.0.0.2' }));
    h.log.add(req({ status: 200 }));
    expect(h.warnings).toHaveLength(2);
    h.advance(60_000);
    h.log.add(req({ status: 401 }));
    expect(h.warnings).toHaveLength(3);
    expect(h.warnings[2]!.obj).toMatchObject({ source: '10.0.0.1', unloggedSinceLast: 49 });
    await h.log.close();
  });

  it("writes each device's last request, coalesced into one batch", async () => {
    const batches: Map<string, DeviceFetch>[] = [];
    const h = harness(async (m) => void batches.push(new Map(m)));
    h.log.add(req({ mac: 'aa', at: 1, file: '/a' }));
    h.log.add(req({ mac: 'aa', at: 2, file: '/b' }));
    h.log.add(req({ mac: 'bb', at: 3 }));
    h.log.add(req({ mac: null, at: 4 }));
    await h.log.flush();
    expect(batches).toHaveLength(1);
    expect([...batches[0]!.keys()]).toEqual(['aa', 'bb']);
    expect(batches[0]!.get('aa')).toEqual({ at: 2, file: '/b', status: 200, result: 'served', source: '10.0.0.1' });
    await h.log.flush();
    expect(batches).toHaveLength(1);
    await h.log.close();
  });

  it('a failing write is logged once per interval and never thrown', async () => {
    const h = harness(async () => { throw new Error('disk full'); });
    h.log.add(req({ mac: 'aa' }));
    await h.log.flush();
    h.log.add(req({ mac: 'aa' }));
    await h.log.flush();
    expect(h.warnings.filter((w) => w.msg?.includes('cannot record'))).toHaveLength(1);
    await h.log.close();
  });
});
