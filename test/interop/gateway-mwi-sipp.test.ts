// SIPp (nobody here wrote it) as the upstream call server of one gateway
// line (issue 15 item 4, B-10): it takes the line's REGISTER, then its
// message-summary SUBSCRIBE, and NOTIFYs "3 new / 1 old"; the gateway's
// refresh (on the gateway's manual time) is answered with "0 new / 4 old";
// stopping the gateway unsubscribes and unregisters. The handset, our test phone subscribed
// at the gateway, hears each summary. SIPp checks every message it expects
// arrived in order (a missing refresh or unsubscribe fails its run).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../integration/lib/server.ts';
import type { TestServer } from '../integration/lib/server.ts';
import { TestPhone } from '../integration/lib/phone.ts';
import { parseMessageSummary } from '../../src/pbx/mwi/message-summary.ts';
import { freePort, makeTempDir, removeDir, requireTool } from './process.ts';
import { describeSipp, runSipp } from './sipp.ts';
import type { SippRun } from './sipp.ts';
import { waitUdpBound } from './lib/sipp-calls.ts';
import { waitUntil } from '../lib/wait.ts';

let gw: TestServer | undefined;
let handset: TestPhone | undefined;
let work: string;

beforeAll(() => {
  requireTool('sipp');
  work = makeTempDir('sipp-gateway-mwi');
});

afterAll(async () => {
  await handset?.stop();
  await gw?.stop();
  if (work) removeDir(work);
});

describe('gateway MWI against a SIPp notifier', () => {
  it('subscribes upstream, relays each NOTIFY to the handset, refreshes in the dialog and unsubscribes on stop', async () => {
    const sippPort = await freePort();
    const run: Promise<SippRun> = runSipp({
      scenario: 'upstream_mwi.xml', remotePort: 5060, localPort: sippPort, calls: 2, rate: 1,
      recvTimeoutMs: 30_000, workDir: work, timeoutMs: 60_000, traceMessages: true,
    });
    expect(await waitUdpBound(sippPort)).toBe(true);

    gw = await startTestServer({ manualTime: true, config: { sip: { domain: 'gw.local' } } });
    const store = gw.server.store;
    await store.users.add({ extension: '1001', password: 'Handset-1001-pw', name: 'Handset' });
    await gw.server.directory.poll();
    await store.gateway.updateSettings({ mode: 'gateway', transport: 'udp', defaultDomain: 'upstream.test', mwiExpiresSec: 600 });
    await store.gateway.addProxy({ uri: `sip:127.0.0.1:${sippPort};transport=udp` });
    await store.gateway.setLine({ extension: '1001', upstreamUser: '41510', password: 'Up-41510-secret' });
    handset = await TestPhone.start({ ext: '1001', password: 'Handset-1001-pw', server: { host: gw.host, port: gw.sipPort, domain: 'gw.local' } });
    expect((await handset.register()).status).toBe(200);
    const sub = await handset.subscribe({ expires: 3600 });
    expect(sub.res.status).toBe(200);
    const lamp = () => {
      const s = parseMessageSummary(handset!.notifiesOf(sub.sub.callId).at(-1)?.body ?? '');
      const v = s?.counts.get('voice-message');
      return s && v ? `${s.waiting ? 'yes' : 'no'} ${v.new}/${v.old}` : undefined;
    };
    const lines = () => gw!.server.gateway.lines!;

    expect(await waitUntil(() => lamp() === 'yes 3/1', 15_000)).toBe(true);
    expect(lines().lineStatus('1001')).toMatchObject({ registration: 'registered', mwi: 'active', messagesWaiting: true });

    // The refresh goes 32 s before the 600 s run out.
    await gw.advance((600 - 32) * 1000 + 100);
    if (!(await waitUntil(() => lamp() === 'no 0/4', 15_000))) {
      // What each side saw, for a failure that only a loaded machine shows.
      const seen = `handset NOTIFYs: ${JSON.stringify(handset.notifiesOf(sub.sub.callId).map((n) => n.body))}\n` +
        `line: ${JSON.stringify(lines().lineStatus('1001'))}\ngateway log:\n${gw.log.entries.map((e) => `${e.level} ${e.msg ?? ''} ${JSON.stringify(e.obj)}`).join('\n')}`;
      await handset.stop();
      handset = undefined;
      await gw.stop();
      gw = undefined;
      const r = await run;
      expect.fail(`the refreshed summary did not reach the handset\n${seen}\n${describeSipp(r)}\n${r.messages}`);
    }
    expect(lines().lineStatus('1001')!.messagesWaiting).toBe(false);

    await handset.stop();
    handset = undefined;
    await gw.stop();
    gw = undefined;
    const r = await run;
    const why = describeSipp(r);
    expect(r.stats?.successful, why).toBe(2);
    expect(r.stats?.failed, why).toBe(0);
    expect(r.code, why).toBe(0);
    // What the gateway sent: the SUBSCRIBE to the line's AoR with the package's Accept, and the unsubscribe.
    expect(r.messages).toMatch(/SUBSCRIBE sip:41510@upstream\.test SIP\/2\.0/);
    expect(r.messages).toMatch(/Accept: application\/simple-message-summary/i);
    expect(r.messages).toMatch(/Expires: 0/i);
  }, 90_000);
});
