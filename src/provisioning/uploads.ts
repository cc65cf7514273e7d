// Files phones PUT to their boot server (C-16): logs (<MAC>-app.log,
// <MAC>-boot.log) and what they received in-band (<MAC>-upload-*.cfg).
// Only the device the name belongs to may write them, bounded in size and
// in count per device; kept in <dataDir>/provisioning/uploads/<mac>/.
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface UploadLimits {
  maxBytes: number;
  maxFiles: number;
}

const NAME = /^([0-9a-fA-F]{12})-([A-Za-z0-9._-]{1,100})$/;

/**
 * The file name to store when `name` is an upload of device `mac`, else
 * undefined: <MAC>-*.log or <MAC>-upload-*.cfg, the MAC being the device's
 * own (any case), nothing that climbs out of the directory.
 */
export function uploadName(name: string, mac: string): string | undefined {
  const m = NAME.exec(name);
  if (!m || m[1]!.toLowerCase() !== mac) return undefined;
  const rest = m[2]!;
  if (rest.includes('..')) return undefined;
  const ok = rest.endsWith('.log') || (rest.startsWith('upload-') && rest.endsWith('.cfg'));
  return ok ? `${mac}-${rest}` : undefined;
}

export function uploadDir(dataDir: string, mac: string): string {
  return join(dataDir, 'provisioning', 'uploads', mac);
}

/** 'full' when the device already keeps maxFiles other files. Replaces a file of the same name. */
export async function storeUpload(dataDir: string, mac: string, name: string, body: Buffer, limits: UploadLimits): Promise<'stored' | 'full'> {
  const dir = uploadDir(dataDir, mac);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const existing = (await readdir(dir)).filter((f) => !f.startsWith('.'));
  if (!existing.includes(name) && existing.length >= limits.maxFiles) return 'full';
  const tmp = join(dir, `.${name}.${process.pid}.tmp`);
  try {
    await writeFile(tmp, body, { mode: 0o600 });
    await rename(tmp, join(dir, name));
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return 'stored';
}
