// Devices in PostgreSQL (semantics as src/store/sqlite/devices.ts).
import { deviceCreateSchema, devicePatchSchema, type DeviceCreate, type DevicePatch, type DeviceView } from '../../model/device.ts';
import {
  checkLinesAreUsers, deviceNotFound, devicesWithLines, macKey, newDeviceSecrets, plausibleToken, secretsOf, toDevice,
  type DeviceLineRow, type DeviceRow,
} from '../device-rows.ts';
import type { DeviceFetch, DeviceRepository, DeviceSecrets } from '../device-types.ts';
import { StoreError } from '../errors.ts';
import { parseModel } from '../model-parse.ts';
import type { PgDb } from './db.ts';

const LINES = 'SELECT extension FROM device_lines WHERE device_id = ? ORDER BY position';

async function withLines(t: PgDb, row: DeviceRow | undefined): Promise<DeviceView | undefined> {
  return row && toDevice(row, (await t.all<{ extension: string }>(LINES, [row.id])).map((l) => l.extension));
}

async function rowOf(t: PgDb, mac: string): Promise<DeviceRow | undefined> {
  const key = macKey(mac);
  return key === undefined ? undefined : t.get<DeviceRow>('SELECT * FROM devices WHERE mac = ?', [key]);
}

async function mustRow(t: PgDb, mac: string): Promise<DeviceRow> {
  const row = await rowOf(t, mac);
  if (!row) throw deviceNotFound(mac);
  return row;
}

async function writeLines(t: PgDb, id: number, extensions: readonly string[]): Promise<void> {
  const users = new Set((await t.all<{ extension: string }>('SELECT extension FROM users WHERE extension = ANY(?)', [[...extensions]]))
    .map((u) => u.extension));
  checkLinesAreUsers(extensions, (ext) => users.has(ext));
  await t.run('DELETE FROM device_lines WHERE device_id = ?', [id]);
  for (const [i, ext] of extensions.entries()) {
    await t.run('INSERT INTO device_lines (device_id, position, extension) VALUES (?, ?, ?)', [id, i, ext]);
  }
}

export class PgDeviceRepository implements DeviceRepository {
  constructor(private readonly db: PgDb, private readonly now: () => number) {}

  add(input: DeviceCreate): Promise<{ device: DeviceView; secrets: DeviceSecrets }> {
    return this.db.tx(async (t) => {
      const f = parseModel(deviceCreateSchema, input);
      if (await rowOf(t, f.mac)) throw new StoreError('duplicate', 'mac', `device ${f.mac} already exists`);
      const secrets = newDeviceSecrets();
      const at = this.now();
      const row = await t.get<{ id: number }>(`INSERT INTO devices (mac, family, model, label, enabled, options, password, token,
        created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
      [f.mac, f.family, f.model ?? null, f.label ?? '', f.enabled === false ? 0 : 1, JSON.stringify(f.options ?? {}),
        secrets.password, secrets.token, at, at]);
      await writeLines(t, row!.id, f.extensions);
      return { device: (await withLines(t, await rowOf(t, f.mac)))!, secrets };
    }, { lock: true });
  }

  update(mac: string, patch: DevicePatch): Promise<DeviceView> {
    return this.db.tx(async (t) => {
      const cur = toDevice(await mustRow(t, mac), []);
      const p = parseModel(devicePatchSchema, patch);
      await t.run('UPDATE devices SET family=?, model=?, label=?, enabled=?, options=?, updated_at=? WHERE id=?',
        [p.family ?? cur.family, p.model === undefined ? cur.model : p.model, p.label ?? cur.label,
          (p.enabled ?? cur.enabled) ? 1 : 0, JSON.stringify(p.options ?? cur.options), this.now(), cur.id]);
      if (p.extensions) await writeLines(t, cur.id, p.extensions);
      return (await withLines(t, await rowOf(t, cur.mac)))!;
    }, { lock: true });
  }

  remove(mac: string): Promise<DeviceView> {
    return this.db.tx(async (t) => {
      const d = (await withLines(t, await mustRow(t, mac)))!;
      await t.run('DELETE FROM devices WHERE id = ?', [d.id]);
      return d;
    }, { lock: true });
  }

  async get(mac: string): Promise<DeviceView | undefined> {
    return withLines(this.db, await rowOf(this.db, mac));
  }

  list(): Promise<DeviceView[]> {
    return this.db.tx(async (t) => devicesWithLines(
      await t.all<DeviceRow>('SELECT * FROM devices ORDER BY mac COLLATE "C"'),
      await t.all<DeviceLineRow>('SELECT device_id, extension FROM device_lines ORDER BY device_id, position'),
    ), { snapshot: true });
  }

  async withSecrets(mac: string): Promise<{ device: DeviceView; secrets: DeviceSecrets } | undefined> {
    const row = await rowOf(this.db, mac);
    return row && { device: (await withLines(this.db, row))!, secrets: secretsOf(row) };
  }

  async byToken(token: string): Promise<{ device: DeviceView; secrets: DeviceSecrets } | undefined> {
    if (typeof token !== 'string' || !plausibleToken(token)) return undefined;
    const row = await this.db.get<DeviceRow>('SELECT * FROM devices WHERE token = ?', [token]);
    return row && { device: (await withLines(this.db, row))!, secrets: secretsOf(row) };
  }

  resetSecrets(mac: string): Promise<DeviceSecrets> {
    return this.db.tx(async (t) => {
      const row = await mustRow(t, mac);
      const secrets = newDeviceSecrets();
      await t.run('UPDATE devices SET password=?, token=?, updated_at=? WHERE id=?', [secrets.password, secrets.token, this.now(), row.id]);
      return secrets;
    });
  }

  async recordFetches(fetches: ReadonlyMap<string, DeviceFetch>): Promise<void> {
    if (fetches.size === 0) return;
    await this.db.tx(async (t) => {
      for (const [mac, f] of fetches) await t.run('UPDATE devices SET last_fetch=? WHERE mac=?', [JSON.stringify(f), mac]);
    });
  }
}
