// StreamTransport on its own, on loopback, with limits too small to reach
// through the config (the schema's shortest idle timeout is 10 s): idle
// timeouts, keep-alives, exact framing, connection limits (also for IPv4
// peers seen through an IPv6 socket), eviction order, the incomplete-message
// deadline (on a manual clock) and a peer that never reads.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_PARSE_LIMITS } from '../../src/sip/message.ts';
import { DEFAULT_STREAM_LIMITS, StreamTransport } from '../../src/sip/transport/stream.ts';
import type { Connection, StreamEvents, StreamLimits } from '../../src/sip/transport/stream.ts';
import { sleep, waitUntil } from '../lib/wait.ts';



interface Harness {
  st: StreamTransport;
  messages: { text: string; conn: Connection }[];
  framingErrors: string[];
  problems: { kind: string; remote: string }[];
}

const running: StreamTransport[] = [];
const sockets: net.Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const st of running.splice(0)) await st.close();
});

async function harness(limits: Partial<StreamLimits>, host = '127.0.0.1', onMessage?: StreamEvents['onMessage'], now?: () => number): Promise<Harness> {
  const h: Harness = { st: undefined as unknown as StreamTransport, messages: [], framingErrors: [], problems: [] };
  const events: StreamEvents = {
    onMessage: (data, conn) => {
      h.messages.push({ text: data.toString('latin1'), conn });
      onMessage?.(data, conn);
    },
    onFramingError: (reason) => void h.framingErrors.push(reason),
    onConnectionProblem: (kind, _detail, remote) => void h.problems.push({ kind, remote }),
  };
  h.st = new StreamTransport('tcp', events, DEFAULT_PARSE_LIMITS, { ...DEFAULT_STREAM_LIMITS, ...limits }, undefined, undefined, undefined, now);
  await h.st.start(host, 0);
  running.push(h.st);
  return h;
}

interface Peer {
  socket: net.Socket;
  received(): string;
  closed(): boolean;
}

function connect(port: number, host = '127.0.0.1', localAddress?: string): Promise<Peer> {
  const socket = net.connect({ host, port, localAddress, noDelay: true });
  sockets.push(socket);
  const chunks: Buffer[] = [];
  let closed = false;
  socket.on('data', (d: Buffer) => chunks.push(d));
  socket.on('error', () => {});
  socket.on('close', () => (closed = true));
  return new Promise((resolve, reject) => {
    socket.once('connect', () =>
      resolve({ socket, received: () => Buffer.concat(chunks).toString('latin1'), closed: () => closed }),
    );
    socket.once('error', reject);
  });
}

/** Smallest thing the framer accepts as a message: a start line, Content-Length, the empty line, the body. */
function frame(tag: string, body = ''): string {
  return `MESSAGE sip:${tag} SIP/2.0\r\nCall-ID: ${tag}\r\nContent-Length: ${Buffer.byteLength(body, 'latin1')}\r\n\r\n${body}`;
}

describe('idle timeout', () => {
  it('closes a silent connection after idleTimeoutMs', async () => {
    const h = await harness({ idleTimeoutMs: 300 });
    const p = await connect(h.st.port);
    const opened = Date.now();
    expect(await waitUntil(() => h.st.connectionCount === 1)).toBe(true);
    expect(await waitUntil(() => p.closed(), 5000)).toBe(true);
    expect(Date.now() - opened).toBeGreaterThanOrEqual(250);
    expect(h.st.connectionCount).toBe(0);
  });

  it('counts RFC 5626 keep-alives as traffic, answering each with CRLF', async () => {
    const h = await harness({ idleTimeoutMs: 700, keepalivePongMs: 0 });
    const p = await connect(h.st.port);
    for (let i = 0; i < 20; i++) {
      p.socket.write('\r\n\r\n');
      await sleep(100);
    }
    // 2 s with pings every 100 ms: almost three idle periods, still open.
    expect(p.closed()).toBe(false);
    expect(await waitUntil(() => p.received().length >= 40)).toBe(true);
    expect(p.received()).toBe('\r\n'.repeat(20));
    expect(await waitUntil(() => p.closed(), 5000)).toBe(true);
    expect(h.messages).toHaveLength(0);
  });
});

describe('framing', () => {
  it('hands up exactly the bytes of each message however the stream is cut', async () => {
    const h = await harness({});
    const p = await connect(h.st.port);
    // Bodies that look like a header end and a status line must not confuse the framer.
    const msgs = [
      frame('a', 'x\r\n\r\nSIP/2.0 200 OK\r\nContent-Length: 5\r\n\r\n'),
      frame('b'),
      frame('c', '\r\n\r\n'),
      frame('d', 'v=0\r\n'),
    ];
    // A CRLF between messages is tolerated (RFC 3261 §7.5).
    const stream = Buffer.from(msgs.join('') + '\r\n' + msgs.join(''), 'latin1');
    let seed = 7;
    for (let at = 0; at < stream.length; ) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const n = 1 + (seed % 23);
      p.socket.write(stream.subarray(at, at + n));
      at += n;
      if (seed % 3 === 0) await sleep(1);
    }
    expect(await waitUntil(() => h.messages.length >= 8)).toBe(true);
    await sleep(50);
    expect(h.messages.map((m) => m.text)).toEqual([...msgs, ...msgs]);
    expect(h.framingErrors).toEqual([]);
    expect(p.closed()).toBe(false);
  });
});

describe('connection limits', () => {
  async function openMany(port: number, n: number, host = '127.0.0.1', localAddress?: (i: number) => string): Promise<Peer[]> {
    const peers: Peer[] = [];
    for (let i = 0; i < n; i++) peers.push(await connect(port, host, localAddress?.(i)));
    return peers;
  }

  it('limits connections per source address but not across addresses', async () => {
    const h = await harness({ maxConnectionsPerSource: 2 });
    const a = await openMany(h.st.port, 4, '127.0.0.1', () => '127.0.0.1');
    const b = await openMany(h.st.port, 2, '127.0.0.1', () => '127.0.0.2');
    expect(await waitUntil(() => a.filter((p) => p.closed()).length === 2)).toBe(true);
    await sleep(200);
    expect(b.filter((p) => p.closed())).toHaveLength(0);
    expect(h.st.connectionCount).toBe(4);
    expect(h.problems.map((x) => x.kind)).toEqual(['per-source', 'per-source']);
  });

  it('enforces the total connection limit', async () => {
    const h = await harness({ maxConnections: 3 });
    const peers = await openMany(h.st.port, 5, '127.0.0.1', (i) => `127.0.0.${2 + i}`);
    expect(await waitUntil(() => peers.filter((p) => p.closed()).length === 2)).toBe(true);
    await sleep(200);
    expect(h.st.connectionCount).toBe(3);
  });

  it('counts IPv4 peers on an IPv6 (dual-stack) socket by their IPv4 address', async () => {
    // Bound to the v4-mapped loopback, an IPv6 socket sees its peer as "::ffff:127.0.0.1",
    // exactly what a listener on "::" sees for every IPv4 client.
    const h = await harness({ maxConnectionsPerSource: 2 }, '::ffff:127.0.0.1');
    const peers = await openMany(h.st.port, 4, '127.0.0.1');
    expect(await waitUntil(() => peers.filter((p) => p.closed()).length === 2)).toBe(true);
    await sleep(200);
    expect(h.st.connectionCount).toBe(2);
    expect(h.problems.every((x) => x.remote === '127.0.0.1')).toBe(true);
  });
});

describe('a peer that sends but never reads', () => {
  it('stops reading from it instead of queueing responses without bound', async () => {
    const reply = Buffer.alloc(64 * 1024, 0x61);
    const h = await harness({}, '127.0.0.1', (_data, conn) => conn.write(reply));
    const p = await connect(h.st.port);
    p.socket.pause();
    const total = 1000; // 64 MB of replies if all were produced at once
    p.socket.write(Buffer.from(Array.from({ length: total }, (_, i) => frame(`r${i}`)).join(''), 'latin1'));
    await waitUntil(() => h.messages.length === total, 1500);
    // Only as many requests as the socket buffers can take replies for are read.
    const whilePaused = h.messages.length;
    expect(whilePaused).toBeLessThan(total / 4);
    // Once the peer reads again, the rest are served.
    let bytes = 0;
    p.socket.removeAllListeners('data');
    p.socket.on('data', (d: Buffer) => (bytes += d.length));
    p.socket.resume();
    expect(await waitUntil(() => h.messages.length === total && bytes === total * reply.length, 20_000)).toBe(true);
    expect(p.closed()).toBe(false);
  }, 30_000);

  it('closes it on the idle timeout when it never catches up', async () => {
    const reply = Buffer.alloc(64 * 1024, 0x62);
    const h = await harness({ idleTimeoutMs: 500 }, '127.0.0.1', (_data, conn) => conn.write(reply));
    const p = await connect(h.st.port);
    p.socket.pause();
    p.socket.write(Buffer.from(Array.from({ length: 1000 }, (_, i) => frame(`s${i}`)).join(''), 'latin1'));
    expect(await waitUntil(() => h.st.connectionCount === 0, 10_000)).toBe(true);
    expect(h.messages.length).toBeLessThan(250);
  }, 20_000);
});

describe('a tight budget', () => {
  it('evicts silent connections first, then unauthenticated ones, never trusted ones', async () => {
    const h = await harness({ maxConnections: 3 });
    const trusted = await connect(h.st.port, '127.0.0.1', '127.0.1.1');
    trusted.socket.write(frame('t'));
    expect(await waitUntil(() => h.messages.length === 1)).toBe(true);
    h.messages[0]!.conn.trust();
    const speaking = await connect(h.st.port, '127.0.0.1', '127.0.1.2');
    speaking.socket.write(frame('s'));
    expect(await waitUntil(() => h.messages.length === 2)).toBe(true);
    const silent = await connect(h.st.port, '127.0.0.1', '127.0.1.3');
    silent.socket.write('OPTIONS sip:x SIP/2.0\r\n'); // never finished
    expect(await waitUntil(() => h.st.connectionCount === 3)).toBe(true);

    const newcomer1 = await connect(h.st.port, '127.0.0.1', '127.0.1.4');
    expect(await waitUntil(() => silent.closed())).toBe(true);
    expect(speaking.closed()).toBe(false);
    const newcomer2 = await connect(h.st.port, '127.0.0.1', '127.0.1.5');
    // newcomer1 has not spoken: it goes before the connection that has.
    expect(await waitUntil(() => newcomer1.closed())).toBe(true);
    expect(speaking.closed()).toBe(false);
    newcomer2.socket.write(frame('n2'));
    expect(await waitUntil(() => h.messages.length === 3)).toBe(true);
    const newcomer3 = await connect(h.st.port, '127.0.0.1', '127.0.1.6');
    // Now only speaking ones are left besides the trusted: the oldest goes.
    expect(await waitUntil(() => speaking.closed())).toBe(true);
    await sleep(100);
    expect(trusted.closed()).toBe(false);
    expect(newcomer2.closed()).toBe(false);
    expect(newcomer3.closed()).toBe(false);
    expect(h.st.budget.hits.evicted).toBe(3);
    expect(h.problems.filter((p) => p.kind === 'evicted').map((p) => p.remote)).toEqual(['127.0.1.3', '127.0.1.4', '127.0.1.2']);
  });

  it('refuses a newcomer when every slot is held by a trusted connection', async () => {
    const h = await harness({ maxConnections: 1 });
    const trusted = await connect(h.st.port);
    trusted.socket.write(frame('t'));
    expect(await waitUntil(() => h.messages.length === 1)).toBe(true);
    h.messages[0]!.conn.trust();
    const newcomer = await connect(h.st.port, '127.0.0.1', '127.0.0.9');
    expect(await waitUntil(() => newcomer.closed())).toBe(true);
    expect(trusted.closed()).toBe(false);
    expect(h.st.budget.hits['budget-full']).toBe(1);
  });
});

describe('incomplete messages', () => {
  it('closes a connection whose message does not arrive whole within the deadline, counting it', async () => {
    let now = 0;
    const h = await harness({ incompleteMessageMs: 30_000 }, '127.0.0.1', undefined, () => now);
    const dripping = await connect(h.st.port);
    const finished = await connect(h.st.port);
    const idleAfterMessage = await connect(h.st.port);
    idleAfterMessage.socket.write(frame('done'));
    expect(await waitUntil(() => h.messages.length === 1)).toBe(true);
    now = 10_000;
    // A declared body that never comes, dripped a byte at a time.
    const head = 'MESSAGE sip:x SIP/2.0\r\nCall-ID: x\r\nContent-Length: 100\r\n\r\n';
    dripping.socket.write(head);
    finished.socket.write(frame('late'));
    expect(await waitUntil(() => h.messages.length === 2)).toBe(true);
    now = 29_000;
    expect(h.st.expireIncomplete()).toBe(0);
    dripping.socket.write('a');
    await sleep(50);
    now = 30_001; // 30 s after the dripping connection was accepted (it owed its first message from then)
    expect(h.st.expireIncomplete()).toBe(1);
    expect(await waitUntil(() => dripping.closed())).toBe(true);
    // Connections that finished their messages stay, however long they are quiet.
    now = 100_000;
    expect(h.st.expireIncomplete()).toBe(0);
    expect(finished.closed()).toBe(false);
    expect(idleAfterMessage.closed()).toBe(false);
    expect(h.st.budget.hits['incomplete-message']).toBe(1);
    // A later message that stalls starts its own deadline at its first byte.
    finished.socket.write('OPTIONS sip:y SIP/2.0\r\n');
    await sleep(50);
    now = 129_000;
    expect(h.st.expireIncomplete()).toBe(0);
    now = 130_001;
    expect(h.st.expireIncomplete()).toBe(1);
    expect(await waitUntil(() => finished.closed())).toBe(true);
  });
});

describe('a CRLF flood', () => {
  it('costs one pass and gets few answers: 10 MB of CRLF on one connection', async () => {
    const h = await harness({});
    const p = await connect(h.st.port);
    const mb = Buffer.alloc(1024 * 1024, '\r\n');
    for (let i = 0; i < 10; i++) p.socket.write(mb);
    p.socket.write(frame('after'));
    expect(await waitUntil(() => h.messages.length === 1, 20_000)).toBe(true);
    // Every read of the flood is one ping; answers are limited to one per keepalivePongMs.
    expect(p.received().length / 2).toBeLessThanOrEqual(2 * (1 + 20));
    expect(p.received().length).toBeGreaterThan(0);
    expect(h.st.budget.hits['keepalive-flood']).toBeGreaterThan(0);
    expect(h.messages[0]!.text).toBe(frame('after'));
    expect(p.closed()).toBe(false);
  }, 30_000);
});
