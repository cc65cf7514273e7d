// What both engines share for devices: rows to views, the secrets, and the
// one rule that ties devices to users (a line must be a user; a user that is
// a line cannot be removed).
import { randomBytes } from 'node:crypto';
import { normaliseMac, type DeviceFamily, type DeviceView } from '../model/device.ts';
import { StoreError } from './errors.ts';
import type { DeviceFetch, DeviceSecrets } from './device-types.ts';

export interface DeviceRow {
  id: number;
  mac: string;
  family: string;
  model: string | null;
  label: string;
  enabled: number;
  options: string;
  password: string;
  token: string;
  last_fetch: string | null;
  created_at: number;
  updated_at: number;
}

export interface DeviceLineRow {
  device_id: number;
  extension: string;
}

/** 120 bits for the digest password, 192 for the URL token: neither can be guessed within any rate limit. */
export function newDeviceSecrets(): DeviceSecrets {
  return { password: randomBytes(15).toString('base64url'), token: randomBytes(24).toString('base64url') };
}

/** A token as the URL carries it: 32 base64url characters, else not worth a query. */
export function plausibleToken(token: string): boolean {
  return token.length === 32 && /^[A-Za-z0-9_-]+$/.test(token);
}

/** The MAC a caller named, normalised; not-found when it is no MAC. */
export function macKey(mac: string): string | undefined {
  return typeof mac === 'string' ? normaliseMac(mac) : undefined;
}

export function deviceNotFound(mac: string): StoreError {
  return new StoreError('not-found', 'mac', `no device ${String(mac)}`);
}

export function checkLinesAreUsers(extensions: readonly string[], isUser: (ext: string) => boolean): void {
  for (const ext of extensions) {
    if (!isUser(ext)) throw new StoreError('not-found', 'extensions', `extensions: no user with extension ${ext}`);
  }
}

/** The first device (by MAC) that has the user as a line; both engines' SQL. */
export const DEVICE_OF_USER = 'SELECT d.mac FROM device_lines l JOIN devices d ON d.id = l.device_id WHERE l.extension = ? ORDER BY d.mac LIMIT 1';

/** The users store's rule: removing a user that a device registers would leave the phone with a dead line. */
export function userIsLine(extension: string, mac: string): StoreError {
  return new StoreError('conflict', 'extension', `user ${extension} is a line of device ${mac}; remove it from the device first`);
}

function parseFetch(text: string | null): DeviceFetch | null {
  if (text === null) return null;
  try {
    return JSON.parse(text) as DeviceFetch;
  } catch {
    return null;
  }
}

export function toDevice(r: DeviceRow, lines: readonly string[]): DeviceView {
  return {
    id: r.id,
    mac: r.mac,
    family: r.family as DeviceFamily,
    model: r.model,
    extensions: [...lines],
    label: r.label,
    enabled: r.enabled !== 0,
    options: JSON.parse(r.options) as DeviceView['options'],
    lastFetch: parseFetch(r.last_fetch),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function secretsOf(r: DeviceRow): DeviceSecrets {
  return { password: r.password, token: r.token };
}

/** Devices in their order, each with its lines (lines ordered by device, then position). */
export function devicesWithLines(rows: readonly DeviceRow[], lines: readonly DeviceLineRow[]): DeviceView[] {
  const byDevice = new Map<number, string[]>();
  for (const l of lines) {
    const list = byDevice.get(l.device_id);
    if (list) list.push(l.extension);
    else byDevice.set(l.device_id, [l.extension]);
  }
  return rows.map((r) => toDevice(r, byDevice.get(r.id) ?? []));
}
