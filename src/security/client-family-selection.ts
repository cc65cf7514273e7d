// Which client families of the SPEC §4.3 table this site has: the
// administrator's choice, kept in <dataDir>/certs/client-families.json beside
// the identities it is checked against. The families of provisioned devices
// are added to it where the check runs.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CLIENT_FAMILIES } from './client-families.ts';
import type { ClientFamily } from './client-families.ts';
import { certificatePaths } from './certs.ts';

function selectionFile(dataDir: string): string {
  return join(certificatePaths(dataDir).dir, 'client-families.json');
}

/** The selected families in table order; none when never chosen. Unknown names in the file are skipped. */
export async function readSelectedFamilies(dataDir: string): Promise<ClientFamily[]> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(selectionFile(dataDir), 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const listed: unknown[] = Array.isArray((raw as { families?: unknown })?.families) ? (raw as { families: unknown[] }).families : [];
  return CLIENT_FAMILIES.filter((f) => listed.includes(f));
}

/** Replaces the selection (written whole, then renamed: never half a file). Returns it in table order. */
export async function writeSelectedFamilies(dataDir: string, families: readonly ClientFamily[]): Promise<ClientFamily[]> {
  const ordered = CLIENT_FAMILIES.filter((f) => families.includes(f));
  const file = selectionFile(dataDir);
  await mkdir(certificatePaths(dataDir).dir, { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, `${JSON.stringify({ families: ordered }, null, 2)}\n`, { mode: 0o644 });
  await rename(tmp, file);
  return ordered;
}
