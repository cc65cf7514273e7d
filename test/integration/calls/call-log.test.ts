// The call log with real calls: refused (403) and timed-out (408) attempts
// leave records with their status and reason, a wrong password leaves one
// bounded record, a relayed call keeps its media addresses and packet
// counts; the API filters them, shows one by id and exports them as CSV.
import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startTestServer, type TestServer } from '../lib/server.ts';
import { TestPhone, type PhoneOptions } from '../lib/phone.ts';
import { ApiClient, ADMIN_PASSWORD } from '../api/client.ts';
import { waitUntil } from '../../lib/wait.ts';

let ts: TestServer;
let api: ApiClient;
const phones: TestPhone[] = [];

async function phone(ext: string, o: Partial<PhoneOptions> = {}, register = true): Promise<TestPhone> {
  const p = await TestPhone.start({ ext, password: `pw-${ext}`, server: { host: ts.host, port: ts.sipPort, domain: 'test.local' }, ...o });
  phones.push(p);
  if (register) expect((await p.register()).status).toBe(200);
  return p;
}

const ended = () => waitUntil(() => ts.server.calls.activeCount === 0, 5000);
type Row = { id: number; callRef: string; status: number; reason: string; disposition: string; caller: string; callee: string };
const items = async (query: string): Promise<Row[]> => {
  const r = await api.get(`/api/calls?${query}`);
  expect(r.status, r.text).toBe(200);
  return r.json.items as Row[];
};

let pstn: TestPhone;

beforeAll(async () => {
  ts = await startTestServer({ manualTime: true, http: true });
  const users = ts.server.store.users;
  await users.add({ extension: '6000', password: 'pw-6000', name: 'Caller Six', outboundCalls: false });
  await users.add({ extension: '6001', password: 'pw-6001', noAnswerTimeoutSec: 5 });
  await users.add({ extension: '6002', password: 'pw-6002', outboundCalls: true });
  await users.add({ extension: '6003', password: 'pw-6003', media: { directMedia: false } });
  await users.add({ extension: '6004', password: 'pw-6004', media: { directMedia: false } });
  await ts.server.directory.poll();
  pstn = await phone('pstn', { behaviour: 'busy', port: await freePort() }, false);
  await ts.server.store.trunks.add({ name: 'pstn', host: '127.0.0.1', port: pstn.local.port, transport: 'udp', prefix: '9', strip: 1, addPrefix: '' });
  await ts.server.trunks.poll();
  api = new ApiClient(ts.server.http!.url, ts.server.certificates.caCertPem);
  await api.loginChanging('admin', ts.server.takeInitialAdminPassword()!, ADMIN_PASSWORD);
}, 90_000);

afterAll(async () => {
  for (const p of phones) await p.stop();
  await ts.stop();
});

describe('the call log', () => {
  it('records a refused call (403) with its reason, found by status', async () => {
    const a = await phone('6000');
    expect((await a.call('9555123').final).status).toBe(403);
    const [rec] = await items('status=403&extension=6000');
    expect(rec).toMatchObject({ disposition: 'rejected', status: 403, reason: 'Outbound Calls Not Permitted', caller: '6000', callee: '9555123' });
    const one = await api.get(`/api/calls/${rec!.id}`);
    expect(one.status).toBe(200);
    expect(one.json).toMatchObject({ callRef: rec!.callRef, trunk: 'pstn', direction: 'outbound', media: null, legs: [] });
    expect((await api.get('/api/calls/999999')).status).toBe(404);
  });

  it('records a call nobody answered in time (408) and one the far end refused (486) with the leg status', async () => {
    const a = await phone('6002');
    await phone('6001', { behaviour: 'silent' });
    const call = a.call('6001');
    expect(await waitUntil(() => call.responses.some((r) => r.status === 100))).toBe(true);
    await ts.advance(5_100);
    expect((await call.final).status).toBe(408);
    await ended();
    const [timedOut] = await items('status=408');
    expect(timedOut).toMatchObject({ disposition: 'no-answer', caller: '6002', callee: '6001', reason: 'nobody answered (no phone rang)' });
    const full = (await api.get(`/api/calls/${timedOut!.id}`)).json;
    expect(full.legs).toEqual([expect.objectContaining({ target: expect.stringContaining('6001'), status: 0 })]);

    expect((await a.call('9030').final).status).toBe(486);
    await ended();
    const [busy] = await items('trunk=pstn&disposition=busy');
    const leg = (await api.get(`/api/calls/${busy!.id}`)).json.legs[0];
    expect(leg).toMatchObject({ status: 486, reason: 'Busy Here' });
  });

  it('records a wrong password once per source and user name, however often it is tried', async () => {
    const intruder = await phone('6002', { password: 'not-the-password' }, false);
    for (let i = 0; i < 5; i++) expect((await intruder.call('6001').final).status).toBe(407);
    const rows = await items('search=6002&status=403');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.reason).toMatch(/^authentication failed: wrong password \(user "6002" from 127\.0\.0\.1\)$/);
    expect(rows[0]).toMatchObject({ disposition: 'rejected', callee: '6001' });
  });

  it('keeps the media addresses and the relay\'s packet counts of an answered, relayed call', async () => {
    const a = await phone('6003');
    const b = await phone('6004', { behaviour: 'answer' });
    const call = a.call('6004');
    const final = await call.final;
    expect(final.status).toBe(200);
    // RTP from the caller's address to the relay port the answer names: the relay latches and counts it.
    const sdp = final.body.toString();
    const port = Number(/m=audio (\d+)/.exec(sdp)![1]);
    const address = /c=IN IP4 (\S+)/.exec(sdp)![1]!;
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
    for (let seq = 0; seq < 20; seq++) {
      const pkt = Buffer.alloc(12 + 160, 0xff);
      pkt.writeUInt8(0x80, 0);
      pkt.writeUInt8(0, 1);
      pkt.writeUInt16BE(seq, 2);
      pkt.writeUInt32BE(seq * 160, 4);
      pkt.writeUInt32BE(0x1234, 8);
      await new Promise<void>((resolve) => sock.send(pkt, port, address, () => resolve()));
    }
    const stats = () => [...ts.server.calls.calls()][0]?.mediaStats()?.a.packetsIn ?? 0;
    expect(await waitUntil(() => stats() >= 20, 5000)).toBe(true);
    await a.inDialog(call.dialog!, 'BYE');
    await ended();
    const from = sock.address().port;
    sock.close();
    const [rec] = await items('extension=6003&disposition=answered');
    const full = (await api.get(`/api/calls/${rec!.id}`)).json;
    expect(full.media.connectionType).toMatch(/relayed/);
    expect(full.media.caller).toMatchObject({ address: `127.0.0.1:${from}`, stream: 'RTP', packetsIn: 20, lost: 0 });
    expect(full.media.callee.address).toBe(`127.0.0.1:${b.mediaPort}`);
    expect(full.media.callee.packetsIn).toBe(0);
  });

  it('filters by time, direction and text, refuses a bad filter, and exports CSV with the same filters', async () => {
    const all = await items('limit=1000');
    const refused = all.find((c) => c.status === 403 && c.caller === '6000')!;
    const t = (await api.get(`/api/calls/${refused.id}`)).json.startedAt as number;
    expect((await items(`since=${t}&until=${t + 1}&status=403`)).map((c) => c.id)).toContain(refused.id);
    expect(await items(`until=${t}&status=403&extension=6000`)).toEqual([]);
    expect((await items(`since=${new Date(t).toISOString()}&direction=outbound&search=9555`)).map((c) => c.id)).toEqual([refused.id]);
    const bad = await api.get('/api/calls?status=abc&direction=sideways');
    expect(bad.status).toBe(400);
    expect(bad.json.issues.map((i: { path: string }) => i.path).sort()).toEqual(['direction', 'status']);

    const csv = await api.get('/api/calls.csv?status=403&extension=6000');
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.headers['content-disposition']).toBe('attachment; filename="calls.csv"');
    const lines = csv.text.replace(/^\ufeff/, '').trim().split('\r\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('403 Forbidden — Outbound Calls Not Permitted');
    const same = await api.get('/api/calls?format=csv&status=403&extension=6000');
    expect(same.text).toBe(csv.text);
    const every = await api.get('/api/calls.csv');
    expect(every.text.replace(/^\ufeff/, '').trim().split('\r\n')).toHaveLength(all.length + 1);
  });

  it('exports a log bigger than one store page, calls of the same millisecond included, each once', async () => {
    const at = Date.UTC(2026, 0, 5, 12);
    for (let i = 0; i < 1_234; i++) {
      ts.server.store.cdrs.enqueue({
        callRef: `bulk-${i}`, direction: 'inbound', caller: `+4930${String(i).padStart(6, '0')}`, callerName: i === 7 ? '@SUM(A1)' : '',
        callerExtension: null, callee: '5551000', calleeExtension: '6001', trunk: 'bulk-trunk', startedAt: at + Math.floor(i / 100),
        answeredAt: null, endedAt: at + 1000, disposition: 'no-answer', status: 480, codec: null, legs: [],
      });
    }
    const csv = await api.get('/api/calls.csv?trunk=bulk-trunk');
    expect(csv.status).toBe(200);
    const rows = csv.text.replace(/^\ufeff/, '').trim().split('\r\n').slice(1);
    expect(rows).toHaveLength(1_234);
    const refs = rows.map((r) => /,(bulk-\d+),/.exec(r)![1]);
    expect(new Set(refs).size).toBe(1_234);
    expect(rows.find((r) => r.includes('bulk-7,'))).toContain(",'@SUM(A1),");
    expect((await api.get('/api/calls?trunk=bulk-trunk&limit=1')).json.total).toBe(1_234);
  });
});
