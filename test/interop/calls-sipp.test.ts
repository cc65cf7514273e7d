// SIPp (a program nobody here wrote) as caller and as phone, calling through
// a real Switchboard process over UDP: an answered call, the caller's CANCEL,
// a busy phone and a phone nobody answers (the callee's no-answer timeout,
// set on the running server). The same flows pass against Kamailio in
// calls-reference-kamailio.test.ts.
import { afterAll, beforeAll, describe, it } from 'vitest';
import { fixture, makeTempDir, removeDir, requireTool, startSwitchboard } from './harness.ts';
import { answeredCalls, busyCall, callUsers, cancelledCall, unansweredCall } from './lib/call-flows.ts';
import { sipServer, userSet } from './lib/switchboard-admin.ts';
import { makeUsers } from './users.ts';

const DOMAIN = 'lab.test';
const USERS = callUsers(makeUsers(300, 40000));
// The smallest value `user set` takes; the flow waits for it.
const NO_ANSWER_SEC = 5;

const env = fixture(
  async () => {
    requireTool('sipp');
    const workDir = makeTempDir('calls-sipp');
    try {
      const server = await startSwitchboard({ domain: DOMAIN, users: USERS.all, tls: false });
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

describe('SIPp calls through Switchboard (UDP)', () => {
  beforeAll(() => env.setup());
  afterAll(() => env.teardown());

  it('one authenticated call is answered and hung up', async () => {
    await answeredCalls(env.get().flow, { callee: USERS.single.callee, callers: [USERS.single.caller], calls: 1, rate: 1, timeoutSec: 40 });
  });

  it('caller cancels after 180 -> 487 at the caller, the phone saw the CANCEL', async () => {
    await cancelledCall(env.get().flow, USERS.cancel.callee, USERS.cancel.caller);
  });

  it('phone answers 486 -> caller gets 486', async () => {
    await busyCall(env.get().flow, USERS.busy.callee, USERS.busy.caller);
  });

  it(`nobody answers -> 480/408 after the callee's ${NO_ANSWER_SEC} s no-answer timeout, the phone got a CANCEL`, async () => {
    const { server, flow } = env.get();
    await userSet(server.dataDir, USERS.noAnswer.callee.ext, { noAnswerTimeoutSec: NO_ANSWER_SEC });
    await unansweredCall(flow, USERS.noAnswer.callee, USERS.noAnswer.caller, NO_ANSWER_SEC);
  });
});
