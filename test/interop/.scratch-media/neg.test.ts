import { it, expect } from 'vitest';
import { makeTempDir } from '../harness.ts';
import { startMediaServer, setMedia } from '../lib/media-flows.ts';
import { sippCall } from '../lib/media-sipp.ts';
import { makeUsers } from '../users.ts';
it('negative control', async () => {
  const [d, c] = makeUsers(2, 43000);
  const ms = await startMediaServer('lab.test', [d!, c!]);
  await setMedia(ms.server, d!.ext, { security: 'best-effort' });
  await new Promise((r) => setTimeout(r, 1500));
  const err = await sippCall(ms.server, { uasScenario: 'media_uas_enforced.xml', uacScenario: 'call_uac.xml', caller: c!, callee: d!, workDir: makeTempDir('neg') }).then(() => 'passed', (e: Error) => e.message);
  console.log(err.slice(0, 2500));
  await ms.stop();
  expect(err).not.toBe('passed');
}, 120_000);
