import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlarmEvent } from '../../../src/ops/alarms.ts';
import { startTestServer } from '../lib/server.ts';
import type { TestServer } from '../lib/server.ts';
import { TestClient } from '../lib/sip-client.ts';
import { waitUntil } from '../../lib/wait.ts';
import { parseExposition, sampleValue } from '../../unit/ops/prom-text.ts';

let ts: TestServer;
const clients: TestClient[] = [];
const events: AlarmEvent[] = [];

async function client(transport: 'udp' | 'tcp' = 'udp'): Promise<TestClient> {
  const c = await new TestClient(transport, ts.host, ts.sipPort).open();
  clients.push(c);
  return c;
}

async function scrape() {
  return parseExposition(await ts.server.metrics()).samples;
}

beforeAll(async () => {
  ts = await startTestServer({ config: { auth: { pairFailures: 5 } } });
  ts.server.alarms.onEvent((e) => events.push(e));
  const users = ts.server.store.users;
  await users.add({ extension: '3001', password: 'right-3001' });
  for (let i = 0; i < 4; i++) await users.add({ extension: String(3100 + i), password: `right-${3100 + i}` });
  await ts.server.directory.poll();
});

afterAll(async () => {
  for (const c of clients) c.close();
  await ts.stop();
});

describe('metrics of a real server', () => {
  it('counts OPTIONS and REGISTER in, their responses out, and the registration', async () => {
    const before = await scrape();
    const v = (s: typeof before, name: string, labels: Record<string, string> = {}) => sampleValue(s, name, labels) ?? 0;
    const c = await client();
    for (let i = 0; i < 3; i++) expect((await c.request('OPTIONS')).status).toBe(200);
    expect((await c.register('3001', 'right-3001')).status).toBe(200);
    const tcp = await client('tcp');
    expect((await tcp.request('OPTIONS')).status).toBe(200);

    const after = await scrape();
    const delta = (name: string, labels: Record<string, string> = {}) => v(after, name, labels) - v(before, name, labels);
    expect(delta('switchboard_sip_requests_total', { direction: 'in', method: 'OPTIONS' })).toBe(4);
    // One unauthenticated REGISTER (401) and one with credentials (200).
    expect(delta('switchboard_sip_requests_total', { direction: 'in', method: 'REGISTER' })).toBe(2);
    expect(delta('switchboard_sip_responses_total', { direction: 'out', class: '2xx', code: '200' })).toBe(5);
    expect(delta('switchboard_sip_responses_total', { direction: 'out', class: '4xx', code: '401' })).toBe(1);
    expect(v(after, 'switchboard_registrations')).toBe(1);
    expect(v(after, 'switchboard_registered_aors')).toBe(1);
    expect(delta('switchboard_auth_successes_total')).toBe(1);
    expect(v(after, 'switchboard_sip_connections')).toBeGreaterThanOrEqual(1);
    expect(v(after, 'switchboard_active_calls')).toBe(0);
    expect(v(after, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('reads active calls from the hook the call engine sets', async () => {
    ts.server.activeCalls = () => 2;
    expect(sampleValue(await scrape(), 'switchboard_active_calls')).toBe(2);
    ts.server.activeCalls = () => 0;
  });

  it('serves the Prometheus text content type', () => {
    expect(ts.server.metricsContentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });
});

describe('alarms of a real server', () => {
  it('raises one alarm for failed TLS handshakes from a source, counted, and a metric', async () => {
    const before = sampleValue(await scrape(), 'switchboard_tls_handshake_failures_total') ?? 0;
    for (let i = 0; i < 2; i++) {
      const raw = net.connect(ts.tlsPort, ts.host);
      raw.on('error', () => {});
      raw.write('OPTIONS sip:x SIP/2.0\r\n\r\n');
      await new Promise<void>((r) => raw.once('close', () => r()));
    }
    expect(await waitUntil(() => ts.server.alarms.list().some((a) => a.kind === 'tls-handshake' && a.count === 2))).toBe(true);
    const tlsAlarms = ts.server.alarms.list().filter((a) => a.kind === 'tls-handshake');
    expect(tlsAlarms).toHaveLength(1);
    expect(tlsAlarms[0]).toMatchObject({ source: '127.0.0.1', severity: 'minor' });
    expect(tlsAlarms[0]!.text).toContain('peer did not send TLS');
    expect(events.some((e) => e.type === 'raised' && e.alarm.kind === 'tls-handshake')).toBe(true);
    const samples = await scrape();
    expect(sampleValue(samples, 'switchboard_tls_handshake_failures_total')).toBe(before + 2);
    expect(sampleValue(samples, 'switchboard_alarms_active', { severity: 'minor' })).toBeGreaterThanOrEqual(1);
  });

  it('raises ban alarms and an auth-failure burst alarm on repeated wrong passwords', async () => {
    const c = await client();
    // Four users, five wrong passwords each: four pair bans, twenty failures in the window.
    for (let u = 0; u < 4; u++) {
      for (let i = 0; i < 5; i++) expect((await c.register(String(3100 + u), 'Wr0ng-guess-7')).status).toBe(401);
    }
    const bans = ts.server.alarms.list().filter((a) => a.kind === 'auth-ban');
    expect(bans.map((a) => a.id).sort()).toEqual([0, 1, 2, 3].map((u) => `auth-ban:pair:127.0.0.1:${3100 + u}`));
    expect(bans[0]!.text).toMatch(/^address and user 127\.0\.0\.1 as "31\d\d" banned for 300 s after 5 failed authentications$/);
    const burst = ts.server.alarms.get('auth-failure-burst');
    expect(burst).toMatchObject({ severity: 'major', source: '127.0.0.1' });
    expect(burst!.text).toMatch(/^20 failed SIP authentications in 60 s/);
    // The banned pair is refused without counting more failures.
    expect((await c.register('3100', 'right-3100')).status).toBe(403);
    const samples = await scrape();
    expect(sampleValue(samples, 'switchboard_auth_failures_total')).toBe(20);
    expect(sampleValue(samples, 'switchboard_auth_bans_total')).toBe(4);
    expect(sampleValue(samples, 'switchboard_auth_bans_active', { scope: 'pair' })).toBe(4);
    expect(sampleValue(samples, 'switchboard_alarms_active', { severity: 'major' })).toBe(1);
    // Alarms never carry the password tried.
    expect(JSON.stringify(ts.server.alarms.list())).not.toContain('Wr0ng-guess-7');
  });
});

describe('health of a real server', () => {
  it('reports ok with listeners, database and write-behind checks', () => {
    const h = ts.server.health();
    expect(h.status).toBe('ok');
    expect(h.checks.listeners).toEqual({ ok: true, detail: 'tcp, tls, udp listening' });
    expect(h.checks.database).toEqual({ ok: true, detail: 'writable' });
    expect(h.checks.writeBehind!.ok).toBe(true);
  });

  it('reports degraded once the database is gone', async () => {
    const other = await startTestServer();
    await other.server.store.close();
    const h = other.server.health();
    expect(h.status).toBe('degraded');
    expect(h.checks.database).toEqual({ ok: false, detail: 'database closed' });
    await other.stop();
  });
});
