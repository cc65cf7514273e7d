// The display name a line sends upstream (issue 15 item 1): its own, else
// the local user's name, in the REGISTER's To and From and in the From of
// the handset's calls; a rename of the user reaches the line. The upstream
// is a bare UDP socket that records what it gets.
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../lib/server.ts';
import { TestPhone } from '../lib/phone.ts';
import { until } from '../lib/until.ts';

/** Answers REGISTER 200 and INVITE 486; keeps the To and From of each. */
class Upstream {
  readonly got: { method: string; from: string; to: string }[] = [];
  constructor(readonly sock: Socket) {
    sock.on('message', (buf, rinfo) => this.onMessage(buf.toString('utf8'), rinfo.address, rinfo.port));
  }

  private onMessage(text: string, address: string, port: number): void {
    const method = text.slice(0, text.indexOf(' '));
    if (method !== 'REGISTER' && method !== 'INVITE') return;
    const head = text.split('\r\n\r\n')[0]!.split('\r\n');
    const h = (name: string) => head.filter((l) => l.toLowerCase().startsWith(`${name}:`));
    this.got.push({ method, from: h('from')[0]!, to: h('to')[0]! });
    const ok = method === 'REGISTER';
    const contact = ok ? [`Contact: ${h('contact')[0]!.replace(/^contact:\s*/i, '').replace(/;expires=\d+/, '')};expires=3600`] : [];
    this.sock.send([ok ? 'SIP/2.0 200 OK' : 'SIP/2.0 486 Busy Here', ...h('via'), ...h('from'), `${h('to')[0]};tag=up1`, ...h('call-id'),
      ...h('cseq'), ...contact, 'Content-Length: 0', '', ''].join('\r\n'), port, address);
  }

  last(method: string): { from: string; to: string } | undefined {
    return this.got.filter((g) => g.method === method).at(-1);
  }
}

let gw: TestServer;
let up: Upstream;
let handset: TestPhone | undefined;
const status = () => gw.server.gateway.lines!.lineStatus('1001');
const named = (name: string) => new RegExp(`^(from|to):\\s*"${name}"\\s*<sip:41510@upstream\\.test>`, 'i');

beforeAll(async () => {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  up = new Upstream(sock);
  gw = await startTestServer({ config: { sip: { domain: 'gw.test' } } });
  const store = gw.server.store;
  await store.users.add({ extension: '1001', password: 'Handset-1001-pw', name: 'Jim Kander' });
  await gw.server.directory.poll();
  await store.gateway.addProxy({ uri: `sip:127.0.0.1:${sock.address().port};transport=udp`, priority: 1 });
  await store.gateway.setLine({ extension: '1001', upstreamUser: '41510', password: 'Up-41510-secret' });
  await store.gateway.updateSettings({ mode: 'gateway', defaultDomain: 'upstream.test', transport: 'udp', srtp: false, requireSrtp: false });
}, 30_000);

afterAll(async () => {
  await handset?.stop();
  await gw?.stop();
  up?.sock.close();
});

describe('the display name of a gateway line upstream', () => {
  it("registers with the local user's name when the line has none, and says it is inherited", async () => {
    await until(() => status()?.registration === 'registered', 'line registered', 10_000);
    const reg = up.last('REGISTER')!;
    expect(reg.from).toMatch(named('Jim Kander'));
    expect(reg.to).toMatch(named('Jim Kander'));
    expect(status()).toMatchObject({ displayName: 'Jim Kander', displayNameInherited: true });
    expect((await gw.server.store.gateway.getLine('1001'))!.userName).toBe('Jim Kander');
  });

  it("sends it in the From of the handset's call upstream", async () => {
    handset = await TestPhone.start({ ext: '1001', password: 'Handset-1001-pw', server: { host: gw.host, port: gw.sipPort, domain: 'gw.test' } });
    expect((await handset.register()).status).toBe(200);
    const call = handset.call('41520');
    expect((await call.final).status).toBe(486);
    expect(up.last('INVITE')!.from).toMatch(named('Jim Kander'));
  }, 20_000);

  it("follows a rename of the user, and the line's own name wins", async () => {
    await gw.server.store.users.update('1001', { name: 'James Kander' });
    await until(() => named('James Kander').test(up.last('REGISTER')!.from), 'a REGISTER with the new name', 10_000);
    expect(up.last('REGISTER')!.to).toMatch(named('James Kander'));
    await gw.server.store.gateway.updateLine('1001', { displayName: 'Ward 3 Nurse' });
    await until(() => named('Ward 3 Nurse').test(up.last('REGISTER')!.from), "a REGISTER with the line's name", 10_000);
    await until(() => status()?.displayNameInherited === false, 'status with the line name', 5000);
    expect(status()!.displayName).toBe('Ward 3 Nurse');
  }, 30_000);
});
