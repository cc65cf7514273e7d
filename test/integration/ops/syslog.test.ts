import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createRootCa, issueCertificate } from '../../../src/security/ca.ts';
import { freePort, startTestServer, tempDataDir } from '../lib/server.ts';
import type { TestServer } from '../lib/server.ts';
import { TestClient } from '../lib/sip-client.ts';
import { waitUntil } from '../../lib/wait.ts';

/** What a collector received: one RFC 5424 message per entry. */
interface Collector {
  port: number;
  messages: string[];
  close(): Promise<void>;
}

async function udpCollector(): Promise<Collector> {
  const socket = dgram.createSocket('udp4');
  const messages: string[] = [];
  socket.on('message', (m) => messages.push(m.toString('utf8')));
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  return { port: socket.address().port, messages, close: () => new Promise((r) => socket.close(() => r())) };
}

/** Reads RFC 6587 octet-counted frames ("LEN SP MSG") from a byte stream; throws on anything else. */
function octetFramer(out: string[]): (chunk: Buffer) => void {
  let pending = Buffer.alloc(0);
  return (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    for (let i = 0; i < 10_000; i++) {
      const sp = pending.indexOf(0x20);
      if (sp < 0) return;
      const lenText = pending.subarray(0, sp).toString('ascii');
      if (!/^[1-9]\d{0,5}$/.test(lenText)) throw new Error(`bad octet count "${lenText}"`);
      const len = Number(lenText);
      if (pending.length < sp + 1 + len) return;
      out.push(pending.subarray(sp + 1, sp + 1 + len).toString('utf8'));
      pending = pending.subarray(sp + 1 + len);
    }
  };
}

async function streamCollector(port: number, tlsOptions?: tls.TlsOptions): Promise<Collector> {
  const messages: string[] = [];
  const sockets = new Set<net.Socket>();
  const onSocket = (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    s.on('data', octetFramer(messages));
  };
  const server = tlsOptions ? tls.createServer(tlsOptions, onSocket) : net.createServer(onSocket);
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    messages,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

const RFC5424 = /^<(\d{1,3})>1 (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (\S+) (\S+) (\d+) (\S+) (-|\[.*\])(?: (.*))?$/s;

function parsed(m: string) {
  const x = RFC5424.exec(m);
  if (!x) throw new Error(`not RFC 5424: ${m}`);
  return { pri: Number(x[1]), time: x[2]!, host: x[3]!, app: x[4]!, procId: x[5]!, msgId: x[6]!, sd: x[7]!, msg: x[8] };
}

const running: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of running.splice(0).reverse()) await c();
});

async function server(syslog: Record<string, unknown>): Promise<TestServer> {
  const ts = await startTestServer({ config: { log: { syslog: syslog as never } } });
  running.push(() => ts.stop());
  return ts;
}

describe('remote syslog from a real server', () => {
  it('sends RFC 5424 datagrams over UDP at or above the minimum level, with facility and app name', async () => {
    const c = await udpCollector();
    running.push(() => c.close());
    const ts = await server({ target: `udp://127.0.0.1:${c.port}`, minLevel: 'info', facility: 'local4', appName: 'sb-test' });
    expect(await waitUntil(() => c.messages.some((m) => m.endsWith(' state restored')))).toBe(true);
    const restored = parsed(c.messages.find((m) => m.endsWith(' state restored'))!);
    // local4 = 20, info = 6.
    expect(restored).toMatchObject({ pri: 20 * 8 + 6, app: 'sb-test', procId: String(process.pid), msgId: '-' });
    expect(restored.sd).toMatch(/^\[fields@32473 restoredBindings="0" users="0"\]$/);
    expect(Math.abs(Date.parse(restored.time) - Date.now())).toBeLessThan(60_000);

    // A garbage datagram makes a warning with its kind as MSGID.
    const client = await new TestClient('udp', ts.host, ts.sipPort).open();
    running.push(async () => client.close());
    client.sendRaw('this is not SIP\r\n\r\n');
    expect(await waitUntil(() => c.messages.some((m) => m.includes(' malformed ')))).toBe(true);
    const warn = parsed(c.messages.find((m) => m.includes(' malformed '))!);
    expect(warn).toMatchObject({ pri: 20 * 8 + 4, msgId: 'malformed', msg: 'SIP transport problem' });
    expect(c.messages.every((m) => RFC5424.test(m))).toBe(true);
  });

  it('leaves out messages below the minimum level', async () => {
    const c = await udpCollector();
    running.push(() => c.close());
    const ts = await server({ target: `udp://127.0.0.1:${c.port}`, minLevel: 'warn' });
    const client = await new TestClient('udp', ts.host, ts.sipPort).open();
    running.push(async () => client.close());
    client.sendRaw('garbage\r\n\r\n');
    expect(await waitUntil(() => c.messages.some((m) => m.includes(' malformed ')))).toBe(true);
    expect(c.messages.some((m) => m.includes('state restored'))).toBe(false);
    expect(c.messages.every((m) => parsed(m).pri === 16 * 8 + 4 || parsed(m).pri === 16 * 8 + 3)).toBe(true);
  });

  it('sends octet-counted frames over TCP, queueing while the collector is down and delivering once it is up', async () => {
    const port = await freePort();
    // The collector is not there yet: start-up messages wait in the queue.
    const ts = await server({ target: `tcp://127.0.0.1:${port}`, minLevel: 'info' });
    const c = await streamCollector(port);
    running.push(() => c.close());
    expect(await waitUntil(() => c.messages.some((m) => m.endsWith(' state restored')), 10_000)).toBe(true);
    expect(parsed(c.messages.find((m) => m.endsWith(' state restored'))!).pri).toBe(16 * 8 + 6);
    expect(ts.log.entries.some((e) => e.msg === 'syslog collector unreachable; queueing messages')).toBe(true);
    expect(ts.log.entries.some((e) => e.msg === 'syslog collector reachable again')).toBe(true);

    const client = await new TestClient('udp', ts.host, ts.sipPort).open();
    running.push(async () => client.close());
    client.sendRaw('garbage\r\n\r\n');
    expect(await waitUntil(() => c.messages.some((m) => m.includes(' malformed ')))).toBe(true);
  });

  it('sends over TLS to a collector whose certificate is signed by the configured CA', async () => {
    const ca = await createRootCa();
    const leaf = await issueCertificate(ca, { commonName: 'collector', ips: ['127.0.0.1'], days: 2, usage: 'server' });
    const caFile = path.join(tempDataDir(), 'collector-ca.pem');
    writeFileSync(caFile, ca.certPem);
    const c = await streamCollector(0, { key: leaf.keyPem, cert: leaf.certPem });
    running.push(() => c.close());
    const ts = await server({ target: `tls://127.0.0.1:${c.port}`, minLevel: 'info', caFile });
    expect(await waitUntil(() => c.messages.some((m) => m.endsWith(' state restored')), 10_000)).toBe(true);
    // A failed TLS handshake on the SIP port raises an alarm, which reaches the collector too.
    const raw = net.connect(ts.tlsPort, ts.host);
    raw.on('error', () => {});
    raw.write('OPTIONS sip:x SIP/2.0\r\n\r\n');
    running.push(async () => void raw.destroy());
    expect(await waitUntil(() => c.messages.some((m) => / alarm \[.*\] alarm raised$/.test(m)))).toBe(true);
    const alarm = parsed(c.messages.find((m) => / alarm \[.*\] alarm raised$/.test(m))!);
    expect(alarm.sd).toContain('tls-handshake:127.0.0.1:');
  });

  it('does not send to a TLS collector the configured CA did not sign', async () => {
    const trusted = await createRootCa();
    const other = await createRootCa();
    const leaf = await issueCertificate(other, { commonName: 'collector', ips: ['127.0.0.1'], days: 2, usage: 'server' });
    const caFile = path.join(tempDataDir(), 'trusted-ca.pem');
    writeFileSync(caFile, trusted.certPem);
    const c = await streamCollector(0, { key: leaf.keyPem, cert: leaf.certPem });
    running.push(() => c.close());
    const ts = await server({ target: `tls://127.0.0.1:${c.port}`, minLevel: 'info', caFile });
    expect(await waitUntil(() => ts.log.entries.some((e) => e.msg === 'syslog collector unreachable; queueing messages'))).toBe(true);
    expect(c.messages).toEqual([]);
  });

  it('refuses to start with an unreadable CA file, naming the setting', async () => {
    await expect(startTestServer({ config: { log: { syslog: { target: 'tls://127.0.0.1:6514', caFile: '/nonexistent/ca.pem' } } } })).rejects.toThrow(
      /log\.syslog\.caFile/,
    );
  });
});
