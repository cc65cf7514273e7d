// baresip A calls baresip B through Switchboard over UDP, TCP and TLS (TLS
// trusting the CA Switchboard exports), answered and hung up through
// baresip's ctrl_tcp; tshark on loopback counts the RTP and shows it went
// between the two phones' own ports, never through the server (direct media).
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { SipTransport } from './baresip.ts';
import { fixture, makeTempDir, removeDir, requireTool, startSwitchboard } from './harness.ts';
import { baresipDirectCall } from './lib/baresip-calls.ts';
import { callUsers } from './lib/call-flows.ts';
import { makeUsers } from './users.ts';

const DOMAIN = 'lab.test';
const USERS = callUsers(makeUsers(300, 40000));

const env = fixture(
  async () => {
    for (const t of ['baresip', 'tshark']) requireTool(t);
    const workDir = makeTempDir('calls-baresip');
    try {
      const server = await startSwitchboard({ domain: DOMAIN, users: USERS.all });
      try {
        return { server, workDir, caFile: await server.exportCa() };
      } catch (err) {
        await server.stop();
        throw err;
      }
    } catch (err) {
      removeDir(workDir);
      throw err;
    }
  },
  async ({ server, workDir }) => {
    await server.stop();
    removeDir(workDir);
  },
);

describe('baresip calls baresip through Switchboard', () => {
  beforeAll(() => env.setup());
  afterAll(() => env.teardown());

  it.each(['udp', 'tcp', 'tls'] as const)('over %s, with RTP directly between the phones', async (transport: SipTransport) => {
    const { server: s, workDir, caFile } = env.get();
    const server = {
      name: 'switchboard',
      host: s.host,
      domain: DOMAIN,
      port: (t: SipTransport) => (t === 'tls' ? s.tlsPort : t === 'tcp' ? s.tcpPort : s.udpPort),
      caFile,
      output: () => s.output(),
    };
    const r = await baresipDirectCall(server, USERS.baresip[transport], transport, workDir);
    console.log(`switchboard ${transport}: RTP A->B ${r.media.aToB} packets, B->A ${r.media.bToA}, through anyone else ${r.media.stray.length}`);
  });
});
