// The one long interop test: SIPp calls through Switchboard at 50 calls/s for
// 60 s over UDP (INVITE with SDP, 407, INVITE with credentials, 100/180/200,
// ACK, a short hold, BYE, 200) and not one may fail, on either side.
// SIPp's digest uri= is fixed per run (-auth_uri), so every call goes to one
// callee: it has call waiting on and room for the ~40 calls it holds at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, makeTempDir, removeDir, requireTool, startSwitchboard } from './harness.ts';
import { answeredCalls, callUsers } from './lib/call-flows.ts';
import { sipServer, userSet } from './lib/switchboard-admin.ts';
import { makeUsers } from './users.ts';

const DOMAIN = 'lab.test';
const USERS = callUsers(makeUsers(300, 40000));
const RATE = 50;
const SECONDS = 60;

const env = fixture(
  async () => {
    requireTool('sipp');
    const workDir = makeTempDir('calls-load');
    try {
      const server = await startSwitchboard({
        domain: DOMAIN,
        users: USERS.all,
        tls: false,
        // 100 is the most `user set` allows; at 50/s with a 0.5 s hold it holds ~40.
        beforeStart: (dataDir) => userSet(dataDir, USERS.load.callee.ext, { callWaiting: true, maxCalls: 100 }),
      });
      return { server, workDir, flow: { server: sipServer(server), workDir } };
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

describe('SIPp call load through Switchboard (UDP)', () => {
  beforeAll(() => env.setup());
  afterAll(() => env.teardown());

  it(`${RATE} calls/s for ${SECONDS} s with zero failed calls`, async () => {
    const r = await answeredCalls(env.get().flow, {
      callee: USERS.load.callee,
      callers: USERS.load.callers,
      calls: RATE * SECONDS,
      rate: RATE,
      holdMs: 500,
      timeoutSec: SECONDS + 60,
    });
    // The calls were really spread over the minute, not bunched up.
    expect(r.uac.stats?.elapsedSec ?? 0, r.why).toBeGreaterThanOrEqual(SECONDS - 2);
  });
});
