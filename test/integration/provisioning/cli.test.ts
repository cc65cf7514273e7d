// `switchboard device ...` and `switchboard provision render` as an
// administrator runs them, against the data directory of a running server.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cli } from '../lib/cli.ts';
import { startTestServer, type TestServer } from '../lib/server.ts';
import { curl } from './lib.ts';

let ts: TestServer;
const MAC = '0004f2aabbcc';

beforeAll(async () => {
  ts = await startTestServer({ provisioning: true });
  await ts.server.store.users.add({ extension: '1001', password: 'Conference-Pw-77', name: 'Board room' });
});
afterAll(() => ts?.stop());

const run = (...args: string[]) => cli(...args, '--data-dir', ts.dataDir);

it('adds a device, prints its secrets once, lists it without them, renders with passwords masked, resets and removes', async () => {
  const bad = await run('device', 'add', '--mac', MAC, '--family', 'avaya-b179', '--ext', '1001,1002');
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('--ext');

  const added = await run('device', 'add', '--mac', '00:04:F2:AA:BB:CC', '--family', 'avaya-b179', '--ext', '1001', '--label', 'Board room');
  expect(added.stderr).toBe('');
  expect(added.code).toBe(0);
  const password = /^password: (\S+)$/m.exec(added.stdout)![1]!;
  const url = /^token URL: (https:\/\/\S+\/d\/\S+\/)$/m.exec(added.stdout)![1]!;
  expect(added.stdout).toContain(`provisioning user: ${MAC}`);

  // The token URL printed works against the running server (its port, this host's address).
  const token = /\/d\/([^/]+)\/$/.exec(url)![1]!;
  const port = ts.server.provisioning!.https.port;
  // Printed from the running server's config (its listen flags), not the defaults (7443, this host's address).
  expect(new URL(url).host).toBe(`127.0.0.1:${port}`);
  const byToken = await curl('-k', `https://127.0.0.1:${port}/d/${token}/avayab179.xml`);
  expect(byToken.status).toBe(200);
  const byDigest = await curl('-k', '--digest', '-u', `${MAC}:${password}`, `https://127.0.0.1:${port}/avayab179.xml`);
  expect(byDigest.status).toBe(200);

  const list = await run('device', 'list', '--json');
  expect(JSON.parse(list.stdout)).toMatchObject([{ mac: MAC, family: 'avaya-b179', extensions: ['1001'], label: 'Board room' }]);
  expect(list.stdout).not.toContain(password);
  expect(list.stdout).not.toContain(token);
  expect((await run('device', 'show', '--mac', MAC)).stdout).not.toContain(password);

  const masked = await run('provision', 'render', '--mac', MAC);
  expect(masked.code).toBe(0);
  expect(masked.stdout).toContain('==> avayab179.xml (application/xml, carries credentials) <==');
  expect(masked.stdout).toContain('<password>********</password>');
  expect(masked.stdout).not.toContain('Conference-Pw-77');
  const shown = await run('provision', 'render', '--mac', MAC, '--file', 'avayab179.xml', '--show-secrets');
  expect(shown.stdout).toContain('<password>Conference-Pw-77</password>');
  expect((await run('provision', 'render', '--mac', MAC, '--file', 'nope.cfg')).code).toBe(2);

  // A user that is a line cannot go; the message names the device.
  const userRemove = await run('user', 'remove', '--ext', '1001');
  expect(userRemove.code).not.toBe(0);
  expect(userRemove.stderr).toContain(`device ${MAC}`);

  const reset = await run('device', 'secret', '--mac', MAC, '--reset');
  expect(reset.code).toBe(0);
  expect(/^password: (\S+)$/m.exec(reset.stdout)![1]).not.toBe(password);
  expect((await curl('-k', `https://127.0.0.1:${port}/d/${token}/avayab179.xml`)).status).toBe(404);

  expect((await run('device', 'set', '--mac', MAC, '--enabled', 'off')).code).toBe(0);
  expect((await ts.server.store.devices.get(MAC))!.enabled).toBe(false);
  expect((await run('device', 'remove', '--mac', MAC)).stdout).toContain(`removed device ${MAC}`);
  expect(await ts.server.store.devices.get(MAC)).toBeUndefined();
});
