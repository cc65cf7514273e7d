// A line's TCP flow whose CRLF pings go unanswered (RFC 5626 §4.4.1): the
// gateway closes that connection and registers again over a new one, not
// over the dead one the pool would otherwise hand it again.
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../lib/server.ts';
import { until } from '../lib/until.ts';

/** A registrar on raw TCP: answers every REGISTER 200 and never a ping (a peer behind a path that lost its state). */
class DeafRegistrar {
  readonly conns: { socket: Socket; registers: number; closed: boolean }[] = [];
  readonly server: NetServer;
  constructor() {
    this.server = createServer((socket) => {
      const c = { socket, registers: 0, closed: false };
      this.conns.push(c);
      let buf = '';
      socket.on('close', () => (c.closed = true));
      socket.on('error', () => {});
      socket.on('data', (d) => {
        buf += d.toString('utf8');
        for (let end = buf.indexOf('\r\n\r\n'); end >= 0; end = buf.indexOf('\r\n\r\n')) {
          const head = buf.slice(0, end);
          buf = buf.slice(end + 4);
          // A CRLFCRLF ping is an empty head: no answer. REGISTERs have no body here.
          if (!head.startsWith('REGISTER ')) continue;
          c.registers++;
          const lines = head.split('\r\n');
          const h = (n: string) => lines.filter((l) => l.toLowerCase().startsWith(`${n}:`));
          const contact = h('contact')[0]!.replace(/^contact:\s*/i, '').replace(/;expires=\d+/, '');
          socket.write(['SIP/2.0 200 OK', ...h('via'), ...h('from'), `${h('to')[0]};tag=up1`, ...h('call-id'), ...h('cseq'),
            `Contact: ${contact};expires=3600`, 'Content-Length: 0', '', ''].join('\r\n'));
        }
      });
    });
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }
}

let gw: TestServer;
let up: DeafRegistrar;
const status = () => gw.server.gateway.lines!.lineStatus('1001');

beforeAll(async () => {
  up = new DeafRegistrar();
  await new Promise<void>((r) => up.server.listen(0, '127.0.0.1', r));
  gw = await startTestServer({ manualTime: true, config: { sip: { domain: 'gw.test' } } });
  const store = gw.server.store;
  await store.users.add({ extension: '1001', password: 'Handset-1001-pw' });
  await store.gateway.addProxy({ uri: `sip:127.0.0.1:${up.port};transport=tcp`, priority: 1 });
  await store.gateway.setLine({ extension: '1001', upstreamUser: '41510', password: 'Up-41510-secret' });
  await store.gateway.updateSettings({
    mode: 'gateway', defaultDomain: 'upstream.test', transport: 'tcp', registerExpiresSec: 3600, keepaliveIntervalSec: 30,
  });
}, 30_000);

afterAll(async () => {
  await gw?.stop();
  for (const c of up?.conns ?? []) c.socket.destroy();
  up?.server.close();
});

describe('gateway line keep-alive', () => {
  it('closes a connection whose pings go unanswered and registers again over a new one', async () => {
    await until(() => status()?.registration === 'registered', 'registered over TCP', 8000);
    expect(up.conns.length).toBe(1);
    // Two intervals without a pong (and a second of grace): the keeper gives the flow up at the third ping time.
    for (let t = 0; t < 100_000 && up.conns.length < 2; t += 5_000) {
      await gw.advance(5_000);
      await new Promise((r) => setTimeout(r, 20));
    }
    await until(() => up.conns.length === 2 && up.conns[1]!.registers >= 1, 'a REGISTER over a new connection', 5000);
    await until(() => up.conns[0]!.closed, 'the unanswered connection closed', 5000);
    expect(up.conns[0]!.registers).toBe(1);
    await until(() => status()?.registration === 'registered', 'registered again', 5000);
  }, 30_000);
});
