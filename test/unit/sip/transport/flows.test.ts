// Outbound flows (FlowOpener on TransportLayer) over real sockets on
// loopback: TLS with per-flow options against an upstream Switchboard
// transport layer whose certificate comes from our own CA (src/security/ca.ts).
import dgram from 'node:dgram';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRootCa, issueCertificate } from '../../../../src/security/ca.ts';
import type { CaMaterial, IssuedCertificate } from '../../../../src/security/ca.ts';
import { TransportLayer } from '../../../../src/sip/transport/layer.ts';
import type { Inbound, TlsTarget } from '../../../../src/sip/transport/types.ts';
import type { Endpoint, SipRequest } from '../../../../src/sip/message.ts';
import { makeRequest } from '../transaction/factory.ts';

const HOST = 'upstream.test';
const LO = '127.0.0.1';

let root: CaMaterial & IssuedCertificate;
let otherRoot: CaMaterial & IssuedCertificate;
let upstreamCert: IssuedCertificate;
let upstream: TransportLayer;
let ours: TransportLayer;
const upInbound: Inbound[] = [];
const ourInbound: Inbound[] = [];

function port(layer: TransportLayer, t: 'udp' | 'tcp' | 'tls'): number {
  return layer.listening().find((l) => l.transport === t)!.port;
}

function upstreamDest(t: 'tcp' | 'tls' = 'tls'): Endpoint {
  return { transport: t, address: LO, port: port(upstream, t) };
}

function target(key: string, over: { ca?: string; servername?: string } = {}): TlsTarget {
  return { key, options: { ca: [over.ca ?? root.certPem], servername: over.servername ?? HOST, rejectUnauthorized: true } };
}

/** Resolves when pred holds for something pushed into list; bounded. */
function waitFor<T>(list: T[], pred: (x: T) => boolean, ms = 5_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = (): void => {
      const hit = list.find(pred);
      if (hit) return resolve(hit);
      if (Date.now() - started > ms) return reject(new Error('not seen in time'));
      setTimeout(tick, 10);
    };
    tick();
  });
}

function options(callId: string): SipRequest {
  return makeRequest({ method: 'OPTIONS', callId, viaHost: LO });
}

beforeAll(async () => {
  root = await createRootCa();
  otherRoot = await createRootCa();
  upstreamCert = await issueCertificate(root, { commonName: HOST, dns: [HOST], ips: [LO], days: 30 });
  upstream = new TransportLayer({
    udp: { host: LO, port: 0 }, tcp: { host: LO, port: 0 }, tls: { host: LO, port: 0 },
    tlsServerOptions: { cert: upstreamCert.certPem, key: upstreamCert.keyPem },
  });
  upstream.onInbound = (i) => upInbound.push(i);
  await upstream.start();
  ours = new TransportLayer({
    udp: { host: LO, port: 0 }, tcp: { host: LO, port: 0 }, tls: { host: LO, port: 0 },
    tlsServerOptions: { cert: upstreamCert.certPem, key: upstreamCert.keyPem },
  });
  ours.onInbound = (i) => ourInbound.push(i);
  await ours.start();
}, 60_000);

afterAll(async () => {
  await ours?.stop();
  await upstream?.stop();
});

describe('openFlow over TLS', () => {
  it('reports the ephemeral local port the upstream sees, and requests both ways ride the flow', async () => {
    const flow = await ours.openFlow(upstreamDest(), { tls: target('line-1') });
    expect(flow.transport).toBe('tls');
    expect(flow.open).toBe(true);
    expect(flow.dest.connectionId).toBeTypeOf('number');
    expect(flow.local.address).toBe(LO);
    expect(flow.local.port).toBeGreaterThan(0);
    expect(flow.local.port).not.toBe(port(ours, 'tls'));
    ours.send(options('flow-out-1'), flow.dest);
    const got = await waitFor(upInbound, (i) => i.message.callId === 'flow-out-1');
    expect(got.source.port).toBe(flow.local.port);
    // The upstream's own request (an INVITE, a NOTIFY) over the same connection arrives on the normal path tagged with the flow.
    upstream.send(options('flow-in-1'), got.source);
    const back = await waitFor(ourInbound, (i) => i.message.callId === 'flow-in-1');
    expect(back.source.connectionId).toBe(flow.dest.connectionId);
    expect(back.source.transport).toBe('tls');
  });

  it('shares a connection only between flows of the same TLS key; fresh always opens a new one; all count in the budget', async () => {
    const before = ours.connectionCount();
    const a1 = await ours.openFlow(upstreamDest(), { tls: target('key-a') });
    const a2 = await ours.openFlow(upstreamDest(), { tls: target('key-a') });
    const b = await ours.openFlow(upstreamDest(), { tls: target('key-b') });
    const fresh = await ours.openFlow(upstreamDest(), { tls: target('key-a'), fresh: true });
    expect(a2.dest.connectionId).toBe(a1.dest.connectionId);
    expect(b.dest.connectionId).not.toBe(a1.dest.connectionId);
    expect(b.local.port).not.toBe(a1.local.port);
    expect(fresh.dest.connectionId).not.toBe(a1.dest.connectionId);
    expect(new Set([a1.local.port, b.local.port, fresh.local.port]).size).toBe(3);
    expect(ours.connectionCount()).toBe(before + 3);
    // A fresh flow is nobody's to reuse: the next keyed flow still finds the first.
    const a3 = await ours.openFlow(upstreamDest(), { tls: target('key-a') });
    expect(a3.dest.connectionId).toBe(a1.dest.connectionId);
  });

  it('rejects with the node error code for an untrusted CA and for a wrong name', async () => {
    const untrusted = ours.openFlow(upstreamDest(), { tls: target('bad-ca', { ca: otherRoot.certPem }) });
    await expect(untrusted).rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    const wrongName = ours.openFlow(upstreamDest(), { tls: target('bad-name', { servername: 'other.test' }) });
    await expect(wrongName).rejects.toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    // A failed handshake holds no slot: a retry with the same key really tries again.
    await expect(ours.openFlow(upstreamDest(), { tls: target('bad-ca', { ca: otherRoot.certPem }) })).rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
  });

  it('ping writes a double CRLF and the pong is reported', async () => {
    const flow = await ours.openFlow(upstreamDest(), { tls: target('pinger'), fresh: true });
    const pong = new Promise<void>((resolve) => flow.onPong(resolve));
    flow.ping();
    await pong;
    expect(flow.open).toBe(true);
  });

  it('onClose fires when the peer closes; a send to the closed flow fails instead of reconnecting', async () => {
    const peer = new TransportLayer({ tls: { host: LO, port: 0 }, tlsServerOptions: { cert: upstreamCert.certPem, key: upstreamCert.keyPem } });
    await peer.start();
    const flow = await ours.openFlow({ transport: 'tls', address: LO, port: port(peer, 'tls') }, { tls: target('closing') });
    const closed = new Promise<void>((resolve) => flow.onClose(() => resolve()));
    const count = ours.connectionCount();
    // The peer's side of the handshake may finish a moment after ours: stop it once it holds the connection.
    await waitFor([peer], (p) => p.connectionCount() === 1);
    await peer.stop();
    await closed;
    expect(flow.open).toBe(false);
    expect(ours.connectionCount()).toBe(count - 1);
    const err = await new Promise<Error>((resolve) => ours.send(options('after-close'), flow.dest, resolve));
    expect(err.message).toBe('the flow has closed');
    expect(ours.connectionCount()).toBe(count - 1);
  });
});

describe('openFlow over TCP and UDP', () => {
  it('TCP: without a key a flow shares the connection ordinary sends use; fresh opens another', async () => {
    const a = await ours.openFlow(upstreamDest('tcp'));
    const again = await ours.openFlow(upstreamDest('tcp'));
    const fresh = await ours.openFlow(upstreamDest('tcp'), { fresh: true });
    expect(again.dest.connectionId).toBe(a.dest.connectionId);
    expect(fresh.dest.connectionId).not.toBe(a.dest.connectionId);
    expect(fresh.local.port).not.toBe(a.local.port);
    ours.send(options('tcp-fresh'), fresh.dest);
    const got = await waitFor(upInbound, (i) => i.message.callId === 'tcp-fresh');
    expect(got.source.port).toBe(fresh.local.port);
  });

  it('TCP: pings count as traffic, so a pinged flow outlives the idle timeout; an unpinged one does not', async () => {
    const idle = new TransportLayer({ tcp: { host: LO, port: 0 }, streamLimits: { ...defaultsWithIdle(300) } });
    await idle.start();
    // A peer that reads and never answers: only our own pings keep the connection busy.
    const silent = net.createServer((s) => { s.on('data', () => {}); s.on('error', () => {}); });
    await new Promise<void>((r) => silent.listen(0, LO, () => r()));
    try {
      const dest: Endpoint = { transport: 'tcp', address: LO, port: (silent.address() as net.AddressInfo).port };
      const flow = await idle.openFlow(dest);
      let closedAt = 0;
      const closed = new Promise<void>((resolve) => flow.onClose(() => { closedAt = Date.now(); resolve(); }));
      let lastPing = 0;
      for (let i = 0; i < 9; i++) {
        flow.ping();
        lastPing = Date.now();
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(flow.open).toBe(true);
      await closed;
      expect(closedAt - lastPing).toBeGreaterThanOrEqual(250);
    } finally {
      await idle.stop();
      silent.close();
    }
  });

  it('UDP: a flow on our listener; its ping is a CRLFCRLF datagram and a CRLF back is its pong', async () => {
    const peer = dgram.createSocket('udp4');
    const pings: Buffer[] = [];
    peer.on('message', (msg, rinfo) => {
      pings.push(msg);
      peer.send(Buffer.from('\r\n'), rinfo.port, rinfo.address);
    });
    await new Promise<void>((r) => peer.bind(0, LO, () => r()));
    try {
      const flow = await ours.openFlow({ transport: 'udp', address: LO, port: peer.address().port });
      expect(flow.local).toMatchObject({ address: LO, port: port(ours, 'udp') });
      expect(flow.dest.connectionId).toBeUndefined();
      const pong = new Promise<void>((resolve) => flow.onPong(resolve));
      flow.ping();
      await pong;
      expect(pings[0]!.toString()).toBe('\r\n\r\n');
    } finally {
      peer.close();
    }
  });
});

function defaultsWithIdle(idleTimeoutMs: number) {
  return { maxConnectionsPerSource: 128, maxConnections: 1_000, idleTimeoutMs, connectTimeoutMs: 10_000, incompleteMessageMs: 30_000, keepalivePongMs: 1_000 };
}
