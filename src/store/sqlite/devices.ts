// Devices in SQLite: one row per device (secrets included), lines in their
// own table in order. Validation comes from the model (src/model/device.ts);
// the family's own checks (options, line count) are the caller's, who knows
// the generators (src/provisioning/device-check.ts).
import type Database from 'better-sqlite3';
import { deviceCreateSchema, devicePatchSchema, type DeviceCreate, type DevicePatch, type DeviceView } from '../../model/device.ts';
import {
  checkLinesAreUsers, deviceNotFound, devicesWithLines, macKey, newDeviceSecrets, plausibleToken, secretsOf, toDevice,
  type DeviceLineRow, type DeviceRow,
} from '../device-rows.ts';
import type { DeviceFetch, DeviceRepository, DeviceSecrets } from '../device-types.ts';
import { StoreError } from '../errors.ts';
import { parseModel } from '../model-parse.ts';

export class SqliteDeviceRepository implements DeviceRepository {
  private readonly s;

  constructor(private readonly db: Database.Database, private readonly now: () => number) {
    const p = <R>(sql: string) => db.prepare<unknown[], R>(sql);
    this.s = {
      byMac: p<DeviceRow>('SELECT * FROM devices WHERE mac = ?'),
      byToken: p<DeviceRow>('SELECT * FROM devices WHERE token = ?'),
      all: p<DeviceRow>('SELECT * FROM devices ORDER BY mac'),
      lines: p<string>('SELECT extension FROM device_lines WHERE device_id = ? ORDER BY position').pluck(),
      allLines: p<DeviceLineRow>('SELECT device_id, extension FROM device_lines ORDER BY device_id, position'),
      user: p<number>('SELECT 1 FROM users WHERE extension = ?').pluck(),
      insert: p(`INSERT INTO devices (mac, family, model, label, enabled, options, password, token, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      update: p('UPDATE devices SET family=?, model=?, label=?, enabled=?, options=?, updated_at=? WHERE id=?'),
      secrets: p('UPDATE devices SET password=?, token=?, updated_at=? WHERE id=?'),
      fetch: p('UPDATE devices SET last_fetch=? WHERE mac=?'),
      remove: p('DELETE FROM devices WHERE id = ?'),
      clearLines: p('DELETE FROM device_lines WHERE device_id = ?'),
      addLine: p('INSERT INTO device_lines (device_id, position, extension) VALUES (?, ?, ?)'),
    };
  }

  private find(mac: string): DeviceView | undefined {
    const row = this.row(mac);
    return row && toDevice(row, this.s.lines.all(row.id));
  }

  private row(mac: string): DeviceRow | undefined {
    const key = macKey(mac);
    return key === undefined ? undefined : this.s.byMac.get(key);
  }

  private mustRow(mac: string): DeviceRow {
    const row = this.row(mac);
    if (!row) throw deviceNotFound(mac);
    return row;
  }

  private writeLines(id: number, extensions: readonly string[]): void {
    checkLinesAreUsers(extensions, (ext) => this.s.user.get(ext) !== undefined);
    this.s.clearLines.run(id);
    extensions.forEach((ext, i) => this.s.addLine.run(id, i, ext));
  }

  async add(input: DeviceCreate): Promise<{ device: DeviceView; secrets: DeviceSecrets }> {
    return this.db.transaction(() => {
      const f = parseModel(deviceCreateSchema, input);
      if (this.s.byMac.get(f.mac)) throw new StoreError('duplicate', 'mac', `device ${f.mac} already exists`);
      const secrets = newDeviceSecrets();
      const t = this.now();
      const id = Number(this.s.insert.run(f.mac, f.family, f.model ?? null, f.label ?? '', f.enabled === false ? 0 : 1,
        JSON.stringify(f.options ?? {}), secrets.password, secrets.token, t, t).lastInsertRowid);
      this.writeLines(id, f.extensions);
      return { device: this.find(f.mac)!, secrets };
    }).immediate();
  }

  async update(mac: string, patch: DevicePatch): Promise<DeviceView> {
    return this.db.transaction(() => {
      const cur = toDevice(this.mustRow(mac), []);
      const p = parseModel(devicePatchSchema, patch);
      this.s.update.run(p.family ?? cur.family, p.model === undefined ? cur.model : p.model, p.label ?? cur.label,
        (p.enabled ?? cur.enabled) ? 1 : 0, JSON.stringify(p.options ?? cur.options), this.now(), cur.id);
      if (p.extensions) this.writeLines(cur.id, p.extensions);
      return this.find(cur.mac)!;
    }).immediate();
  }

  async remove(mac: string): Promise<DeviceView> {
    return this.db.transaction(() => {
      const d = this.find(this.mustRow(mac).mac)!;
      this.s.remove.run(d.id);
      return d;
    }).immediate();
  }

  async get(mac: string): Promise<DeviceView | undefined> {
    return this.find(mac);
  }

  async list(): Promise<DeviceView[]> {
    return this.db.transaction(() => devicesWithLines(this.s.all.all(), this.s.allLines.all())).deferred();
  }

  async withSecrets(mac: string): Promise<{ device: DeviceView; secrets: DeviceSecrets } | undefined> {
    const row = this.row(mac);
    return row && { device: toDevice(row, this.s.lines.all(row.id)), secrets: secretsOf(row) };
  }

  async byToken(token: string): Promise<{ device: DeviceView; secrets: DeviceSecrets } | undefined> {
    const row = typeof token === 'string' && plausibleToken(token) ? this.s.byToken.get(token) : undefined;
    return row && { device: toDevice(row, this.s.lines.all(row.id)), secrets: secretsOf(row) };
  }

  async resetSecrets(mac: string): Promise<DeviceSecrets> {
    return this.db.transaction(() => {
      const row = this.mustRow(mac);
      const secrets = newDeviceSecrets();
      this.s.secrets.run(secrets.password, secrets.token, this.now(), row.id);
      return secrets;
    }).immediate();
  }

  async recordFetches(fetches: ReadonlyMap<string, DeviceFetch>): Promise<void> {
    this.db.transaction(() => {
      for (const [mac, f] of fetches) this.s.fetch.run(JSON.stringify(f), mac);
    }).immediate();
  }
}
