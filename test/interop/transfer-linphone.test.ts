// Attended transfer done by linphone (linphonec, a program nobody here
// wrote) through Switchboard: A (baresip) calls B (linphonec); B holds A
// (`pause`), calls C (baresip, answers by itself), then `transfer 1
// --to-call 2`: linphone sends REFER in the A call with
// Refer-To: <sip:C@domain?Replaces=...> naming its own dialog of the B-C
// call. Afterwards A and C talk (tshark counts RTP both ways) and B has no
// call left.
import { afterAll, beforeAll, describe, it } from 'vitest';
import { featureServerFixture } from './lib/feature-server.ts';
import { attendedTransferByLinphone } from './lib/transfer-flows.ts';
import { makeUsers } from './users.ts';

const DOMAIN = 'lab.test';
const [UA, UB, UC] = makeUsers(3, 3201);

const env = featureServerFixture({
  name: 'transfer-linphone',
  tools: ['baresip', 'linphonec', 'tshark'],
  domain: DOMAIN,
  prepare: (fs) => fs.addUsers([UA!, UB!, UC!]),
});

describe('attended transfer by linphonec', () => {
  beforeAll(() => env.setup());
  afterAll(() => env.teardown());

  it('B (linphonec) transfers A to its call with C (REFER with Replaces): A and C talk, B has no call', async () => {
    const { fs, workDir } = env.get();
    await attendedTransferByLinphone(fs, workDir, { a: UA!, b: UB!, c: UC! }, DOMAIN);
  });
});
