// Blind transfer between real handsets: three baresip phones over TLS with
// mandatory SDES-SRTP (users Enforced, transport TLS) through Switchboard.
// A and B talk; B transfers with baresip's own `transfer` command (a REFER
// inside its call); C answers by itself. Afterwards A and C talk: tshark
// counts the SRTP reaching each of them and it authenticates under the keys
// of the SDP the server exchanged, B's call is gone and B sends or receives
// no more media. Variants: the transferor is the callee or the caller, and
// SPEC B-12's "Send Hold before REFER" (B holds A, then transfers).
import { afterAll, beforeAll, describe, it } from 'vitest';
import { featureServerFixture } from './lib/feature-server.ts';
import type { Variant } from './lib/transfer-flows.ts';
import { blindTransfer } from './lib/transfer-flows.ts';
import { makeUsers } from './users.ts';

const DOMAIN = 'lab.test';
const USERS = makeUsers(9, 3101);

const env = featureServerFixture({
  name: 'transfer-baresip',
  tools: ['baresip', 'tshark'],
  domain: DOMAIN,
  prepare: (fs) => fs.addUsers(USERS, { media: { security: 'enforced', transport: 'tls' } }),
});

const VARIANTS: Variant[] = [
  { title: 'A calls B, B transfers A to C', transferorCalls: false, holdFirst: false, users: [USERS[0]!, USERS[1]!, USERS[2]!] },
  { title: 'B calls A, B (the caller) transfers A to C', transferorCalls: true, holdFirst: false, users: [USERS[3]!, USERS[4]!, USERS[5]!] },
  { title: 'A calls B, B holds A, then transfers A to C (B-12 hold before REFER)', transferorCalls: false, holdFirst: true, users: [USERS[6]!, USERS[7]!, USERS[8]!] },
];

describe('blind transfer between baresip handsets (TLS, SRTP enforced)', () => {
  beforeAll(() => env.setup());
  afterAll(() => env.teardown());

  it.each(VARIANTS)('$title: A and C talk (SRTP both ways), B is out', async (v) => {
    const { fs, workDir } = env.get();
    await blindTransfer(fs, workDir, v, DOMAIN);
  });
});
