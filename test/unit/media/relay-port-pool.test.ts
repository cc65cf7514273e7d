import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { MediaError, PortPool, type PortPair } from '../../../src/media/port-pool.ts';

// Below Linux's ephemeral range (32768+), so no other test's client socket lands here by chance.
const BASE = 31400;

const open: PortPair[] = [];
const blockers: Socket[] = [];

async function take(pool: PortPool): Promise<PortPair> {
  const p = await pool.allocate();
  open.push(p);
  return p;
}

function block(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(port, '127.0.0.1', () => resolve(s));
    blockers.push(s);
  });
}

afterEach(async () => {
  for (const p of open.splice(0)) {
    p.rtp.removeAllListeners();
    try {
      p.rtp.close();
      p.rtcp.close();
    } catch {
      // released by the test already
    }
  }
  for (const s of blockers.splice(0)) {
    try {
      s.close();
    } catch {
      // already closed
    }
  }
});

describe('PortPool', () => {
  it('hands out an even RTP port with the odd RTCP port above it, both bound', async () => {
    const pool = new PortPool({ host: '127.0.0.1', portMin: BASE + 1, portMax: BASE + 8 });
    expect(pool.capacity).toBe(3); // pairs at +2, +4, +6 (the odd start is skipped; +8 has no odd partner)
    const p = await take(pool);
    expect(p.rtpPort % 2).toBe(0);
    expect(p.rtcpPort).toBe(p.rtpPort + 1);
    expect(p.rtpPort).toBe(BASE + 2);
    expect(p.rtp.address().port).toBe(p.rtpPort);
    expect(p.rtcp.address().port).toBe(p.rtcpPort);
    expect(p.rtp.address().address).toBe('127.0.0.1');
    expect(pool.inUse).toBe(1);
  });

  it('fails with a clear error once every pair is in use, and works again after a release', async () => {
    const pool = new PortPool({ host: '127.0.0.1', portMin: BASE + 10, portMax: BASE + 13 });
    const a = await take(pool);
    const b = await take(pool);
    expect(new Set([a.rtpPort, b.rtpPort])).toEqual(new Set([BASE + 10, BASE + 12]));
    const err = await pool.allocate().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MediaError);
    expect((err as MediaError).code).toBe('exhausted');
    expect((err as MediaError).message).toContain(`${BASE + 10}-${BASE + 13}`);
    await pool.release(a);
    expect(pool.inUse).toBe(1);
    const c = await take(pool);
    expect(c.rtpPort).toBe(a.rtpPort);
  });

  it('release closes the sockets so the ports can be bound by anyone', async () => {
    const pool = new PortPool({ host: '127.0.0.1', portMin: BASE + 20, portMax: BASE + 21 });
    const p = await take(pool);
    await pool.release(p);
    expect(pool.inUse).toBe(0);
    const s1 = await block(BASE + 20);
    const s2 = await block(BASE + 21);
    expect(s1.address().port).toBe(BASE + 20);
    expect(s2.address().port).toBe(BASE + 21);
  });

  it('a second release of the same pair does not free the port for its next holder', async () => {
    const pool = new PortPool({ host: '127.0.0.1', portMin: BASE + 24, portMax: BASE + 25 });
    const p = await take(pool);
    await pool.release(p);
    const q = await take(pool);
    expect(q.rtpPort).toBe(p.rtpPort);
    await pool.release(p);
    expect(pool.inUse).toBe(1);
    await expect(pool.allocate()).rejects.toMatchObject({ code: 'exhausted' });
  });

  it('skips a pair whose RTP or RTCP port another program holds', async () => {
    await block(BASE + 30); // RTP port of the first pair
    await block(BASE + 33); // RTCP port of the second pair
    const pool = new PortPool({ host: '127.0.0.1', portMin: BASE + 30, portMax: BASE + 35 });
    const p = await take(pool);
    expect(p.rtpPort).toBe(BASE + 34);
    const err = await pool.allocate().catch((e: unknown) => e);
    expect((err as MediaError).code).toBe('exhausted');
    expect((err as MediaError).message).toContain('2 busy elsewhere');
  });

  it('concurrent allocations never get the same pair', async () => {
    const pool = new PortPool({ host: '127.0.0.1', portMin: BASE + 40, portMax: BASE + 49 });
    const got = await Promise.all([1, 2, 3, 4, 5].map(() => take(pool)));
    expect(new Set(got.map((p) => p.rtpPort)).size).toBe(5);
    await expect(pool.allocate()).rejects.toMatchObject({ code: 'exhausted' });
  });

  it('does not reuse a just-released pair while others are free', async () => {
    const pool = new PortPool({ host: '127.0.0.1', portMin: BASE + 50, portMax: BASE + 55 });
    const a = await take(pool);
    await pool.release(a);
    const b = await take(pool);
    expect(b.rtpPort).not.toBe(a.rtpPort);
  });

  it('rejects bad configuration naming the field', () => {
    expect(() => new PortPool({ host: 'localhost', portMin: 20000, portMax: 20010 })).toThrow(/host must be an IP/);
    expect(() => new PortPool({ host: '127.0.0.1', portMin: 0, portMax: 20010 })).toThrow(/portMin/);
    expect(() => new PortPool({ host: '127.0.0.1', portMin: 20000, portMax: 70000 })).toThrow(/portMax/);
    expect(() => new PortPool({ host: '127.0.0.1', portMin: 20001, portMax: 20002 })).toThrow(/no even\/odd/);
    expect(() => new PortPool({ host: '127.0.0.1', portMin: 20010, portMax: 20000 })).toThrow(/no even\/odd/);
  });

  it('refuses allocations after close', async () => {
    const pool = new PortPool({ host: '127.0.0.1', portMin: BASE + 60, portMax: BASE + 61 });
    pool.close();
    await expect(pool.allocate()).rejects.toMatchObject({ code: 'closed' });
  });
});
