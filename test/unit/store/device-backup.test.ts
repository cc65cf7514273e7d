// Backups carry the devices with their lines, secrets and last fetch (they
// are rows of the database the backup copies).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { createBackup, readBackup, restoreInto } from '../../../src/ops/backup.ts';
import { openStore } from '../../../src/store/index.ts';

it('a backup restored into a new data directory has the devices as they were', async () => {
  const from = mkdtempSync(join(tmpdir(), 'sb-devbak-'));
  const store = openStore(from);
  await store.users.add({ extension: '1001', password: 'Line-1001-secret' });
  const { device, secrets } = await store.devices.add({ mac: '0004f2aabbcc', family: 'avaya-b179', extensions: ['1001'], label: 'lobby' });
  await store.devices.recordFetches(new Map([[device.mac, { at: 1, file: '/avayab179.xml', status: 200, result: 'served', source: '10.0.0.5' }]]));
  const before = await store.devices.withSecrets(device.mac);
  const { archive } = await createBackup(from);
  await store.close();

  const to = join(mkdtempSync(join(tmpdir(), 'sb-devbak-')), 'data');
  await restoreInto(to, readBackup(archive));
  const restored = openStore(to);
  try {
    expect(await restored.devices.withSecrets(device.mac)).toEqual(before);
    expect((await restored.devices.byToken(secrets.token))!.device.label).toBe('lobby');
  } finally {
    await restored.close();
  }
});
