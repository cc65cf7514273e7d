// Calls to and from the PSTN through a SIP trunk, with SIPp playing the
// carrier on the trunk's host:port: a user with outbound permission dials
// 9 + number and the carrier sees the number without the 9; the carrier
// calls a DID from the trunk's address and the mapped extension's phone
// answers (no challenge for the trunk peer).
import { afterAll, beforeAll, describe, it } from 'vitest';
import { fixture, freePort, makeTempDir, removeDir, requireTool, startSwitchboard } from './harness.ts';
import { callUsers, trunkInboundCall, trunkOutboundCall } from './lib/call-flows.ts';
import { didAdd, sipServer, trunkAdd, userSet } from './lib/switchboard-admin.ts';
import { LOOPBACK } from './process.ts';
import { makeUsers } from './users.ts';

const DOMAIN = 'lab.test';
const USERS = callUsers(makeUsers(300, 40000));
const DID = '5551000';

const env = fixture(
  async () => {
    requireTool('sipp');
    const workDir = makeTempDir('calls-trunk');
    try {
      const pstnPort = await freePort();
      const server = await startSwitchboard({
        domain: DOMAIN,
        users: USERS.all,
        tls: false,
        // SIPp plays the carrier only for the length of one call: a carrier that is away between calls
        // would be probed down (trunk health; tested with a far end of its own) and its calls refused.
        config: { trunkHealth: { enabled: false } },
        beforeStart: async (dataDir) => {
          await trunkAdd(dataDir, { name: 'pstn', host: LOOPBACK, port: pstnPort, transport: 'udp', prefix: '9', strip: 1 });
          await didAdd(dataDir, DID, USERS.didCallee.ext);
          await userSet(dataDir, USERS.trunkCaller.ext, { outbound: true });
        },
      });
      return { server, workDir, pstnPort, flow: { server: sipServer(server), workDir } };
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

describe('SIPp calls through a Switchboard SIP trunk (UDP)', () => {
  beforeAll(() => env.setup());
  afterAll(() => env.teardown());

  it('9 + number leaves through the trunk with the 9 stripped', async () => {
    const { flow, pstnPort } = env.get();
    await trunkOutboundCall(flow, { caller: USERS.trunkCaller, pstnPort, dialled: '95551234', expectUser: '5551234' });
  });

  it('a call from the trunk to a DID reaches the mapped extension', async () => {
    const { flow, pstnPort } = env.get();
    await trunkInboundCall(flow, { pstnPort, did: DID, callee: USERS.didCallee });
  });
});
