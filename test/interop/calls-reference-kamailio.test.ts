// Every calls interop flow, run against Kamailio as a stateful proxy and
// registrar (bench/kamailio/ with proxy-route.ts) instead of Switchboard.
// When a calls-*.test.ts against Switchboard fails, this file tells whether
// the scenarios, phones and capture work on this machine; it also keeps the
// proxy config used by bench/calls.ts honest. The load flow is shorter here:
// the 60 s run is Switchboard's (calls-load.test.ts).
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startKamailio } from '../../bench/kamailio/server.ts';
import { fixture, freePort, makeTempDir, removeDir, requireTool } from './harness.ts';
import { baresipDirectCall } from './lib/baresip-calls.ts';
import type { FlowEnv } from './lib/call-flows.ts';
import { answeredCalls, busyCall, callUsers, cancelledCall, trunkInboundCall, trunkOutboundCall, unansweredCall } from './lib/call-flows.ts';
import { makeUsers } from './users.ts';

const DOMAIN = 'lab.test';
const USERS = callUsers(makeUsers(300, 40000));
const NO_ANSWER_SEC = 5;
const DID = '5551000';

const env = fixture(
  async () => {
    for (const t of ['kamailio', 'sipp', 'baresip', 'tshark', 'openssl']) requireTool(t);
    const workDir = makeTempDir('calls-kamailio');
    try {
      const pstnPort = await freePort();
      const k = await startKamailio({
        users: USERS.all,
        domain: DOMAIN,
        tcp: true,
        tls: true,
        proxy: {
          // A proxy has one INVITE timer for everybody; the flows below answer well within it.
          noAnswerSec: NO_ANSWER_SEC,
          trunk: { host: '127.0.0.1', port: pstnPort, prefix: '9', strip: 1 },
          dids: { [DID]: USERS.didCallee.ext },
        },
      });
      const server = { name: 'kamailio', host: k.host, udpPort: k.port, domain: DOMAIN, output: k.output };
      return { k, workDir, pstnPort, flow: { server, workDir } satisfies FlowEnv };
    } catch (err) {
      removeDir(workDir);
      throw err;
    }
  },
  async ({ k, workDir }) => {
    await k.stop();
    removeDir(workDir);
  },
);

describe('calls through the Kamailio reference (stateful proxy)', () => {
  beforeAll(() => env.setup());
  afterAll(() => env.teardown());

  it('SIPp: one authenticated call is answered and hung up', async () => {
    await answeredCalls(env.get().flow, { callee: USERS.single.callee, callers: [USERS.single.caller], calls: 1, rate: 1, timeoutSec: 40 });
  });

  it('SIPp: 50 calls/s for 10 s, zero failed calls', async () => {
    await answeredCalls(env.get().flow, { callee: USERS.load.callee, callers: USERS.load.callers, calls: 500, rate: 50, timeoutSec: 60 });
  });

  it('SIPp: caller cancels after 180 -> 487, the phone saw the CANCEL', async () => {
    await cancelledCall(env.get().flow, USERS.cancel.callee, USERS.cancel.caller);
  });

  it('SIPp: phone answers 486 -> caller gets 486', async () => {
    await busyCall(env.get().flow, USERS.busy.callee, USERS.busy.caller);
  });

  it(`SIPp: nobody answers -> 408/480 after ${NO_ANSWER_SEC} s, the phone got a CANCEL`, async () => {
    await unansweredCall(env.get().flow, USERS.noAnswer.callee, USERS.noAnswer.caller, NO_ANSWER_SEC);
  });

  it('SIPp: 9 + number leaves through the trunk with the 9 stripped', async () => {
    await trunkOutboundCall(env.get().flow, { caller: USERS.trunkCaller, pstnPort: env.get().pstnPort, dialled: '95551234', expectUser: '5551234' });
  });

  it('SIPp: a call from the trunk to a DID reaches the mapped extension', async () => {
    await trunkInboundCall(env.get().flow, { pstnPort: env.get().pstnPort, did: DID, callee: USERS.didCallee });
  });

  it.each(['udp', 'tcp', 'tls'] as const)('baresip A calls baresip B over %s, RTP flows directly between them', async (transport) => {
    const { k, workDir } = env.get();
    const server = {
      name: 'kamailio',
      host: k.host,
      domain: DOMAIN,
      port: (t: string) => (t === 'tls' ? k.tlsPort : k.port),
      caFile: k.certFile,
      output: k.output,
    };
    const r = await baresipDirectCall(server, USERS.baresip[transport], transport, workDir);
    console.log(`kamailio ${transport}: RTP A->B ${r.media.aToB} packets, B->A ${r.media.bToA}, through anyone else ${r.media.stray.length}`);
  });
});
