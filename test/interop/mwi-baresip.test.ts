// baresip's message waiting indication against Switchboard: an account with
// mwi=yes subscribes to message-summary (RFC 3842) after registering; a
// message deposited in its mailbox (through the store, as the voicemail
// application deposits it) turns its indication on, and removing the message
// turns it off. baresip reports each NOTIFY's body as an MWI_NOTIFY event
// through ctrl_tcp (and prints it): what it reports is what it took in.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, makeTempDir, removeDir, requireTool, startSwitchboard } from './harness.ts';
import { BaresipPhone } from './lib/baresip-phone.ts';
import { openStore } from '../../src/store/index.ts';

const DOMAIN = 'lab.test';
const USER = { ext: '8801', password: 'mwi-baresip-secret-1' };
const wav = Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(64)]);

const env = fixture(
  async () => {
    requireTool('baresip');
    const workDir = makeTempDir('mwi-baresip');
    // baresip 1.0 answers MD5 challenges only (INTEROP-NOTES).
    const server = await startSwitchboard({ domain: DOMAIN, users: [USER], config: { auth: { algorithms: ['MD5'] } } });
    return { server, workDir };
  },
  async ({ server, workDir }) => {
    await server.stop();
    removeDir(workDir);
  },
);

/** Every message-summary body baresip reported through ctrl_tcp (MWI_NOTIFY events), in order. */
function summaries(events: readonly { type: string; param?: string }[]): string[] {
  return events.filter((e) => e.type === 'MWI_NOTIFY').map((e) => String(e.param ?? ''));
}

describe('baresip MWI', () => {
  beforeAll(() => env.setup());
  afterAll(() => env.teardown());

  it('the lamp turns on with a deposited message and off when it is removed', async () => {
    const { server } = env.get();
    const phone = await BaresipPhone.start('mwi', {
      account: { user: USER.ext, password: USER.password, domain: DOMAIN, proxyHost: server.host, proxyPort: server.udpPort, transport: 'udp', mwi: true },
      rtpPorts: { min: 31000, max: 31010 },
    });
    const store = openStore(server.dataDir);
    try {
      const last = () => summaries(phone.events).at(-1) ?? '';
      // Subscribed: the first NOTIFY says no messages.
      await phone.waitFor('a message-summary NOTIFY', () => /Messages-Waiting: *no/i.test(last()));
      const m = await store.voicemail.deposit(USER.ext, { caller: '8802', callerName: '', receivedAt: Date.now(), durationMs: 2000 }, wav);
      await phone.waitFor('Messages-Waiting: yes', () => /Messages-Waiting: *yes/i.test(last()));
      expect(last()).toMatch(/Voice-Message: *1\/0/i);
      await store.voicemail.remove(USER.ext, m.id);
      await phone.waitFor('Messages-Waiting: no again', () => /Messages-Waiting: *no/i.test(last()) && /Voice-Message: *0\/0/i.test(last()));
    } catch (err) {
      console.log(phone.output());
      throw err;
    } finally {
      await store.close();
      await phone.stop();
    }
  });
});
