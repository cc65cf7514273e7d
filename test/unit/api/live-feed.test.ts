// The status feed's fan-out with fake sockets and a fake clock: snapshot first,
// one subscription for all clients, slow clients dropped, ended sessions
// closed, dead clients cut off after a missed ping, a client cap; plus the
// /metrics bearer check.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { bearerMatches } from '../../../src/api/ops-routes.ts';
import { FEED_CLOSE, LiveFeed, type FeedSocket, type LiveDeps } from '../../../src/api/live.ts';
import type { AlarmEvent } from '../../../src/ops/alarms.ts';
import type { StatusEvent, StatusSnapshot } from '../../../src/pbx/status/status.ts';
import type { AdminSession } from '../../../src/store/admin-types.ts';

class FakeSocket implements FeedSocket {
  readyState = 1;
  bufferedAmount = 0;
  sent: any[] = [];
  closed: { code?: number; reason?: string } | null = null;
  terminated = false;
  pings = 0;
  /** A live browser answers every ping. */
  autoPong = true;
  private readonly handlers = new Map<string, ((...a: unknown[]) => void)[]>();
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close(code?: number, reason?: string) {
    this.closed = { code, reason };
    this.readyState = 3;
    this.emit('close');
  }
  terminate() {
    this.terminated = true;
    this.readyState = 3;
    this.emit('close');
  }
  ping() {
    this.pings++;
    if (this.autoPong) this.emit('pong');
  }
  on(event: string, fn: (...a: unknown[]) => void) {
    this.handlers.set(event, [...(this.handlers.get(event) ?? []), fn]);
  }
  emit(event: string, ...a: unknown[]) {
    for (const f of this.handlers.get(event) ?? []) f(...a);
  }
}

function setup(over: Partial<LiveDeps> = {}) {
  let now = 1_000_000;
  const statusListeners = new Set<(e: StatusEvent) => void>();
  const alarmListeners = new Set<(e: AlarmEvent) => void>();
  const sessions = new Map<string, AdminSession>();
  const snapshot: StatusSnapshot = { at: now, extensions: [], calls: [], trunks: [], parked: [] };
  const deps: LiveDeps = {
    status: {
      snapshot: () => snapshot,
      subscribe: (l) => {
        statusListeners.add(l);
        return () => statusListeners.delete(l);
      },
      extension: () => { throw new Error('unused'); },
    },
    alarms: {
      list: () => [],
      onEvent: (l) => {
        alarmListeners.add(l);
        return () => alarmListeners.delete(l);
      },
    },
    sessions: { get: async (h) => sessions.get(h) },
    idleMs: 600_000,
    now: () => now,
    checkIntervalMs: 1000,
    ...over,
  };
  const session = (hash: string, lastSeenAt = now) =>
    sessions.set(hash, { idHash: hash, adminId: 1, csrfToken: 't', sourceIp: '127.0.0.1', createdAt: lastSeenAt, lastSeenAt });
  return {
    feed: new LiveFeed(deps), statusListeners, alarmListeners, sessions, session,
    /** The session check reads the store asynchronously: its awaits run before this resolves. */
    advance: async (ms: number) => {
      now += ms;
      await vi.advanceTimersByTimeAsync(ms);
    },
  };
}

const extEvent = (ext: string): StatusEvent => ({
  type: 'extension', extension: { extension: ext, name: '', registered: true, contacts: [], state: 'idle', calls: 0 } as never,
});

afterEach(() => vi.useRealTimers());

describe('LiveFeed', () => {
  it('sends the snapshot first, then every event to every client through one subscription', () => {
    const t = setup();
    const [a, b] = [new FakeSocket(), new FakeSocket()];
    t.feed.attach(a, 'h1');
    t.feed.attach(b, 'h2');
    expect(t.statusListeners.size).toBe(1);
    expect(t.alarmListeners.size).toBe(1);
    expect(a.sent[0]).toMatchObject({ type: 'snapshot', status: { extensions: [] }, alarms: [] });
    for (const l of t.statusListeners) l(extEvent('1001'));
    for (const l of t.alarmListeners) l({ type: 'raised', alarm: { id: 'x', kind: 'k', severity: 'major', text: 't', since: 1, lastAt: 1, count: 1 } });
    for (const s of [a, b]) {
      expect(s.sent.map((m) => m.type)).toEqual(['snapshot', 'extension', 'alarm']);
      expect(s.sent[2]).toMatchObject({ event: 'raised', alarm: { id: 'x' } });
    }
    a.close();
    b.close();
    expect(t.feed.size).toBe(0);
    expect(t.statusListeners.size).toBe(0);
    expect(t.alarmListeners.size).toBe(0);
  });

  it('drops a client whose unsent data passes the limit, and keeps serving the others', () => {
    const t = setup({ maxBufferedBytes: 1000 });
    const [slow, fast] = [new FakeSocket(), new FakeSocket()];
    t.feed.attach(slow, 'h1');
    t.feed.attach(fast, 'h2');
    // The snapshot itself may wait in full: on a big system it alone is larger than the limit.
    const snapshotBytes = JSON.stringify(slow.sent[0]).length;
    slow.bufferedAmount = snapshotBytes + 900;
    fast.bufferedAmount = snapshotBytes;
    for (const l of t.statusListeners) l(extEvent('1001'));
    expect(slow.terminated).toBe(true);
    expect(slow.sent).toHaveLength(1);
    expect(fast.sent).toHaveLength(2);
    expect(t.feed.size).toBe(1);
  });

  it('closes feeds whose session ended or went idle, with code 4401', async () => {
    vi.useFakeTimers();
    const t = setup({ idleMs: 5000 });
    t.session('gone');
    t.session('idle');
    t.session('active');
    const [gone, idle, active] = [new FakeSocket(), new FakeSocket(), new FakeSocket()];
    t.feed.attach(gone, 'gone');
    t.feed.attach(idle, 'idle');
    t.feed.attach(active, 'active');
    t.sessions.delete('gone'); // logout
    await t.advance(1000);
    expect(gone.closed?.code).toBe(FEED_CLOSE.sessionEnded);
    expect(idle.closed).toBeNull();
    t.session('active', 1_000_000 + 4000); // the browser used the API meanwhile
    await t.advance(4000);
    expect(idle.closed?.code).toBe(FEED_CLOSE.sessionEnded);
    expect(active.closed).toBeNull();
    expect(t.feed.size).toBe(1);
  });

  it('cuts off a client that does not answer a ping', async () => {
    vi.useFakeTimers();
    const t = setup();
    t.session('h');
    const s = new FakeSocket();
    s.autoPong = false;
    t.feed.attach(s, 'h');
    await t.advance(1000);
    expect(s.pings).toBe(1);
    await t.advance(1000);
    expect(s.terminated).toBe(true);
    expect(t.feed.size).toBe(0);
  });

  it('refuses clients over the cap with 1013', () => {
    const t = setup({ maxClients: 2 });
    const socks = [new FakeSocket(), new FakeSocket(), new FakeSocket()];
    for (const s of socks) t.feed.attach(s, 'h');
    expect(socks[2]!.closed?.code).toBe(FEED_CLOSE.tooMany);
    expect(socks[2]!.sent).toHaveLength(0);
    expect(t.feed.size).toBe(2);
    t.feed.close();
    expect(socks[0]!.closed?.code).toBe(FEED_CLOSE.shutdown);
    expect(t.feed.size).toBe(0);
  });
});

describe('LiveFeed on a cluster (a snapshot that waits for the other workers)', () => {
  it('subscribes before asking for the snapshot, and adds the client with it; one that left meanwhile is not added', async () => {
    let subscribedBeforeSnapshot = false;
    const listeners = new Set<(e: StatusEvent) => void>();
    let release: (s: StatusSnapshot) => void = () => {};
    const t = setup({
      status: {
        snapshot: () => {
          subscribedBeforeSnapshot = listeners.size === 1;
          return new Promise<StatusSnapshot>((r) => (release = r));
        },
        subscribe: (l) => {
          listeners.add(l);
          return () => listeners.delete(l);
        },
        extension: () => { throw new Error('unused'); },
      },
    });
    const a = new FakeSocket();
    t.feed.attach(a, 'h1');
    expect(subscribedBeforeSnapshot).toBe(true);
    // An event before the snapshot is ready does not reach the client: the snapshot will carry it.
    for (const l of listeners) l(extEvent('1001'));
    expect(a.sent).toHaveLength(0);
    release({ at: 1, extensions: [], calls: [{ ref: 'c1' } as never], trunks: [], parked: [] });
    await Promise.resolve();
    await Promise.resolve();
    expect(a.sent.map((m) => m.type)).toEqual(['snapshot']);
    expect(a.sent[0].status.calls).toEqual([{ ref: 'c1' }]);
    for (const l of listeners) l(extEvent('1002'));
    expect(a.sent.map((m) => m.type)).toEqual(['snapshot', 'extension']);
    a.close();
    expect(listeners.size).toBe(0);

    // A browser that closes while its snapshot is gathered: never added, and the subscription ends.
    const b = new FakeSocket();
    t.feed.attach(b, 'h2');
    expect(listeners.size).toBe(1);
    b.close();
    release({ at: 2, extensions: [], calls: [], trunks: [], parked: [] });
    await Promise.resolve();
    await Promise.resolve();
    await Promise.resolve();
    expect(b.sent).toHaveLength(0);
    expect(t.feed.size).toBe(0);
    expect(listeners.size).toBe(0);
  });
});

describe('bearerMatches', () => {
  it('accepts exactly the configured token', () => {
    const token = 'scrape-token-0123456789';
    expect(bearerMatches(`Bearer ${token}`, token)).toBe(true);
    expect(bearerMatches(`bearer  ${token} `, token)).toBe(true);
    expect(bearerMatches(`Bearer ${token}x`, token)).toBe(false);
    expect(bearerMatches(`Basic ${token}`, token)).toBe(false);
    expect(bearerMatches(undefined, token)).toBe(false);
    expect(bearerMatches('Bearer ', token)).toBe(false);
  });
});
