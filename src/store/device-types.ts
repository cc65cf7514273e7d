// Repository of the provisioned devices (issue 14 item 2): the model of
// src/model/device.ts plus each device's provisioning secrets (a digest
// password and a URL token) and the last request it made. The lines are
// users: a user that is a line of a device cannot be removed (the store
// refuses, naming the device), a renumbered one is followed.
import type { DeviceCreate, DevicePatch, DeviceView } from '../model/device.ts';

export type { DeviceCreate, DevicePatch, DeviceView } from '../model/device.ts';

/** What a device proves itself with to the provisioning server; never in a view, never logged. */
export interface DeviceSecrets {
  /** HTTP digest password (user name: the MAC). */
  password: string;
  /** URL token: files under /d/<token>/. */
  token: string;
}

export type DeviceFetch = NonNullable<DeviceView['lastFetch']>;

export interface DeviceRepository {
  /** Secrets are generated here, with crypto randomness. @throws StoreError invalid | duplicate (mac) | not-found (a line is no user) */
  add(input: DeviceCreate): Promise<{ device: DeviceView; secrets: DeviceSecrets }>;
  /** @throws StoreError not-found | invalid */
  update(mac: string, patch: DevicePatch): Promise<DeviceView>;
  /** @throws StoreError not-found */
  remove(mac: string): Promise<DeviceView>;
  /** By MAC in any spelling normaliseMac accepts. */
  get(mac: string): Promise<DeviceView | undefined>;
  /** Ordered by MAC. */
  list(): Promise<DeviceView[]>;
  /** The device and its secrets, for the provisioning server's authentication. */
  withSecrets(mac: string): Promise<{ device: DeviceView; secrets: DeviceSecrets } | undefined>;
  byToken(token: string): Promise<{ device: DeviceView; secrets: DeviceSecrets } | undefined>;
  /** New password and token; the old ones stop working at once. @throws StoreError not-found */
  resetSecrets(mac: string): Promise<DeviceSecrets>;
  /** Writes the last request of each device named (no-op for a device since removed). Does not move updatedAt. */
  recordFetches(fetches: ReadonlyMap<string, DeviceFetch>): Promise<void>;
}
