// Attended transfer done by linphone (linphonec, a program nobody here
// wrote) through Switchboard: A (baresip) calls B (linphonec); B holds A
// (`pause`), calls C (baresip, answers by itself), then `transfer 1
// --to-call 2`: linphone sends REFER in the A call with
// Refer-To: <sip:C@domain?Replaces=...> naming its own dialog of the B-C
// call. Afterwards A and C talk (tshark counts RTP both ways) and B has no
// call left.
import { afterAll, beforeAll, describe, it } from 'vitest';
import { fixture, makeTempDir, removeDir, requireTool } from './harness.ts';
import { startFeatureServer } from './lib/feature-server.ts';
import { attendedTransferByLinphone } from './lib/transfer-flows.ts';
import { makeUsers } from './users.ts';

const DOMAIN = 'lab.test';
const [UA, UB, UC] = makeUsers(3, 3201);

const env = fixture(
  async () => {
    for (const t of ['baresip', 'linphonec', 'tshark']) requireTool(t);
    const workDir = makeTempDir('transfer-linphone');
    try {
      const fs = await startFeatureServer(DOMAIN);
      fs.addUsers([UA!, UB!, UC!]);
      return { fs, workDir };
    } catch (err) {
      removeDir(workDir);
      throw err;
    }
  },
  async ({ fs, workDir }) => {
    await fs.stop();
    removeDir(workDir);
  },
);

describe('attended transfer by linphonec', () => {
  beforeAll(() => env.setup());
  afterAll(() => env.teardown());

  it('B (linphonec) transfers A to its call with C (REFER with Replaces): A and C talk, B has no call', async () => {
    const { fs, workDir } = env.get();
    await attendedTransferByLinphone(fs, workDir, { a: UA!, b: UB!, c: UC! }, DOMAIN);
  });
});
