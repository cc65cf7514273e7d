// Media security policy seen by SIPp phones (programs nobody here wrote)
// through a real Switchboard process over UDP, with the SDP checks written
// into the SIPp scenarios themselves (test/interop/sipp/media_*.xml):
//  - a SIPp UAS standing for the IP-DECT gateway on an Enforced extension is
//    offered RTP/SAVP with a=crypto only: no RTP/AVP, no RFC 5939
//    capability negotiation, no UNENCRYPTED_SRTCP; it answers SRTP and the
//    call completes (callers: plain RTP and Best Effort);
//  - a Best Effort offer (RTP/AVP + a=crypto) is accepted by a plain-RTP
//    phone on a Disabled extension: 200, the call completes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, makeTempDir, removeDir, requireTool } from './harness.ts';
import type { MediaServer } from './lib/media-flows.ts';
import { setMedia, startMediaServer, waitMediaSecurity } from './lib/media-flows.ts';
import { receivedMessage, sippCall } from './lib/media-sipp.ts';
import { registerPhone } from './lib/sipp-calls.ts';
import { sipServer } from './lib/switchboard-admin.ts';
import { makeUsers } from './users.ts';
import type { TestUser } from './users.ts';

const DOMAIN = 'lab.test';
// One user per phone: a callee registered anew for each call would also be forked to its earlier, dead contact.
const USERS = makeUsers(6, 42000);
const [DECT1, DECT2, PLAIN_CALLER, BE_CALLER, PLAIN_PHONE, BE_CALLER2] = USERS as [TestUser, TestUser, TestUser, TestUser, TestUser, TestUser];

/**
 * A caller's setting becomes visible in `status` only while it is
 * registered: register it somewhere nobody listens (it only calls), then
 * wait until the server applies its media security.
 */
async function callerWithPolicy(ms: MediaServer, workDir: string, u: TestUser, security: 'disabled' | 'best-effort'): Promise<void> {
  await setMedia(ms.server, u.ext, { security });
  await registerPhone({ server: sipServer(ms.server), users: [u], workDir });
  await waitMediaSecurity(ms.server, u.ext, security);
}

const env = fixture(
  async () => {
    requireTool('sipp');
    const workDir = makeTempDir('media-policy');
    try {
      const ms = await startMediaServer(DOMAIN, USERS);
      try {
        // The phones' settings first: the server applies changes in order, so once the callers'
        // (set last) show in status, these are in force too.
        await setMedia(ms.server, DECT1.ext, { security: 'enforced' });
        await setMedia(ms.server, DECT2.ext, { security: 'enforced' });
        await setMedia(ms.server, PLAIN_PHONE.ext, { security: 'disabled' });
        await callerWithPolicy(ms, workDir, PLAIN_CALLER, 'disabled');
        await callerWithPolicy(ms, workDir, BE_CALLER, 'best-effort');
        await callerWithPolicy(ms, workDir, BE_CALLER2, 'best-effort');
        return { ms, workDir };
      } catch (err) {
        await ms.stop();
        throw err;
      }
    } catch (err) {
      removeDir(workDir);
      throw err;
    }
  },
  async ({ ms, workDir }) => {
    await ms.stop();
    removeDir(workDir);
  },
);

/** The m= and security lines of an SDP, keys hidden. */
function mediaLines(msg: string): string {
  const lines = msg.split(/\r?\n/).filter((l) => /^(m=|a=crypto|a=tcap|a=acap|a=pcfg)/.test(l));
  return JSON.stringify(lines.map((l) => l.replace(/inline:\S+/, 'inline:…')));
}

describe('media security policy with SIPp phones', () => {
  beforeAll(() => env.setup());
  afterAll(() => env.teardown());

  it.each([
    ['a plain RTP caller (Disabled)', PLAIN_CALLER, DECT1, 'call_uac.xml'],
    ['a Best Effort caller (RTP/AVP + a=crypto)', BE_CALLER, DECT2, 'media_uac_best_effort.xml'],
  ] as const)('IP-DECT gateway on an Enforced extension is offered RTP/SAVP + a=crypto only, from %s', async (_what, caller, dect, uacScenario) => {
    const { ms, workDir } = env.get();
    const r = await sippCall(ms.server, { uasScenario: 'media_uas_enforced.xml', uacScenario, caller, callee: dect, workDir });
    // The scenario asserted the offer; this makes sure it saw one and says what it was.
    const invite = receivedMessage(r.uas.messages, 'INVITE ');
    expect(invite, r.why).toMatch(/^m=audio \d+ RTP\/SAVP /m);
    // The caller keeps what its own policy allows: RTP/AVP (with our key if it offered one).
    const answer = receivedMessage(r.uac.messages, 'SIP/2.0 200');
    expect(answer, r.why).toMatch(/^m=audio \d+ RTP\/AVP /m);
    console.log(`IP-DECT (Enforced) from ${caller.ext}: offered ${mediaLines(invite)}, caller answered ${mediaLines(answer)}`);
  });

  it('a Best Effort offer (RTP/AVP + a=crypto) is accepted by a plain-RTP phone on a Disabled extension', async () => {
    const { ms, workDir } = env.get();
    const r = await sippCall(ms.server, { uasScenario: 'media_uas_plain.xml', uacScenario: 'media_uac_best_effort.xml', caller: BE_CALLER2, callee: PLAIN_PHONE, workDir });
    const finals = r.uac.messages.match(/^SIP\/2\.0 [2-6]\d\d .*$/gm) ?? [];
    expect(finals.some((l) => l.startsWith('SIP/2.0 200')), r.why).toBe(true);
    expect(finals.filter((l) => /^SIP\/2\.0 (4|5|6)\d\d/.test(l) && !/^SIP\/2\.0 407/.test(l)), r.why).toEqual([]);
    const invite = receivedMessage(r.uas.messages, 'INVITE ');
    expect(invite, r.why).toMatch(/^m=audio \d+ RTP\/AVP /m);
    // The plain answer reaches the Best Effort caller as plain RTP: no key, no SAVP.
    const answer = receivedMessage(r.uac.messages, 'SIP/2.0 200');
    expect(answer, r.why).toMatch(/^m=audio \d+ RTP\/AVP /m);
    expect(answer, r.why).not.toMatch(/^a=crypto:/m);
    console.log(`Best Effort -> plain: caller got ${JSON.stringify(finals)}; phone offered ${mediaLines(invite)}, caller answered ${mediaLines(answer)}`);
  });
});
