// The backup file: one gzip stream holding a magic, a JSON manifest (what
// made it, when, the database schema version, and each file with its size
// and SHA-256) and the files' bytes one after the other. Read back, every
// part is checked before anything is written: a cut, corrupt, foreign or
// newer file is refused with the reason.
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { z } from 'zod';

export const BACKUP_MAGIC = Buffer.from('SWBACKUP', 'latin1');
export const BACKUP_FORMAT = 1;
/** What one backup may unpack to in memory; a database bigger than this needs pg-style tools, not an upload. */
export const MAX_BACKUP_BYTES = 1024 * 1024 * 1024;
const MAX_MANIFEST_BYTES = 64 * 1024;

/**
 * The files a backup may hold, relative to the data directory, besides the
 * trusted CAs (TRUSTED_CA_FILE): nothing else is ever written on restore. An
 * identity travels with its chain and its metadata, so an imported identity
 * stays imported (and is never replaced by an automatic one) after a restore.
 */
export const BACKUP_FILES = [
  'switchboard.db', 'certs/ca.crt', 'certs/ca.key', 'certs/server.crt', 'certs/server.key', 'config.json',
  'certs/server-chain.pem', 'certs/server.meta.json',
  'certs/telephony.crt', 'certs/telephony.key', 'certs/telephony-chain.pem', 'certs/telephony.meta.json',
  'certs/client-families.json',
] as const;
/** A trusted CA (src/security/trust-store.ts): one PEM per CA, named by its SHA-256 fingerprint. */
export const TRUSTED_CA_FILE = /^certs\/trusted\/[0-9A-F]{64}\.pem$/;
/** At most this many trusted CAs travel in one backup. */
const MAX_TRUSTED_CAS = 1000;
export type BackupFileName = (typeof BACKUP_FILES)[number] | `certs/trusted/${string}.pem`;
/** Written 0600 on restore: they hold keys or password hashes. */
export const SECRET_FILES: ReadonlySet<string> = new Set(['switchboard.db', 'certs/ca.key', 'certs/server.key', 'certs/telephony.key', 'config.json']);

const fileNameSchema = z.union([
  z.enum(BACKUP_FILES),
  z.string().regex(TRUSTED_CA_FILE).transform((s) => s as `certs/trusted/${string}.pem`),
]);

const manifestSchema = z.object({
  format: z.number().int(),
  product: z.literal('switchboard'),
  version: z.string().max(64),
  createdAt: z.number().int(),
  store: z.literal('sqlite'),
  schemaVersion: z.number().int().min(0),
  files: z.array(z.object({
    name: fileNameSchema,
    size: z.number().int().min(0),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
  })).max(BACKUP_FILES.length + MAX_TRUSTED_CAS),
});
export type BackupManifest = z.infer<typeof manifestSchema>;

export interface BackupContents {
  manifest: BackupManifest;
  files: Map<BackupFileName, Buffer>;
}

/** A backup file that cannot be restored; the message says why in words an administrator can act on. */
export class BackupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupError';
  }
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export function encodeBackup(meta: Omit<BackupManifest, 'format' | 'product' | 'files'>, files: ReadonlyMap<BackupFileName, Buffer>): Buffer {
  const manifest: BackupManifest = {
    format: BACKUP_FORMAT, product: 'switchboard', ...meta,
    files: [...files].map(([name, data]) => ({ name, size: data.length, sha256: sha256(data) })),
  };
  const head = Buffer.from(JSON.stringify(manifest), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(head.length);
  return gzipSync(Buffer.concat([BACKUP_MAGIC, len, head, ...files.values()]));
}

/**
 * Unpacks and checks a backup: gzip, magic, manifest, sizes and checksums,
 * and a schema no newer than `maxSchemaVersion` (this program's).
 * @throws BackupError naming the first problem
 */
export function decodeBackup(archive: Buffer, maxSchemaVersion: number): BackupContents {
  let raw: Buffer;
  try {
    raw = gunzipSync(archive, { maxOutputLength: MAX_BACKUP_BYTES });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') throw new BackupError(`not restorable: the backup unpacks to more than ${MAX_BACKUP_BYTES / 2 ** 20} MiB`);
    throw new BackupError('not a Switchboard backup, or a damaged one: it is not a complete gzip file');
  }
  if (raw.length < BACKUP_MAGIC.length + 4 || !raw.subarray(0, BACKUP_MAGIC.length).equals(BACKUP_MAGIC)) {
    throw new BackupError('not a Switchboard backup: the file does not start like one');
  }
  const headLen = raw.readUInt32BE(BACKUP_MAGIC.length);
  const start = BACKUP_MAGIC.length + 4;
  if (headLen > MAX_MANIFEST_BYTES || start + headLen > raw.length) throw new BackupError('damaged backup: the manifest is cut short');
  let json: unknown;
  try {
    json = JSON.parse(raw.subarray(start, start + headLen).toString('utf8'));
  } catch {
    throw new BackupError('damaged backup: the manifest is not readable');
  }
  const format = (json as { format?: unknown } | null)?.format;
  if (typeof format === 'number' && format > BACKUP_FORMAT) {
    throw new BackupError(`this backup has format ${format}, newer than this program reads (${BACKUP_FORMAT}): restore it with the version that made it or a newer one`);
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) throw new BackupError(`damaged backup: the manifest is not valid (${parsed.error.issues[0]?.path.join('.') || 'format'})`);
  const manifest = parsed.data;
  if (manifest.schemaVersion > maxSchemaVersion) {
    throw new BackupError(`this backup is from a newer Switchboard (${manifest.version}, database schema ${manifest.schemaVersion}; ` +
      `this program knows schema ${maxSchemaVersion}): restore it with that version or a newer one`);
  }
  const files = new Map<BackupFileName, Buffer>();
  let at = start + headLen;
  for (const f of manifest.files) {
    if (files.has(f.name)) throw new BackupError(`damaged backup: ${f.name} is listed twice`);
    if (at + f.size > raw.length) throw new BackupError(`damaged backup: ${f.name} is cut short`);
    const data = raw.subarray(at, at + f.size);
    if (sha256(data) !== f.sha256) throw new BackupError(`damaged backup: ${f.name} does not match its checksum`);
    files.set(f.name, data);
    at += f.size;
  }
  if (at !== raw.length) throw new BackupError('damaged backup: there are bytes after the last file');
  if (!files.has('switchboard.db')) throw new BackupError('damaged backup: it holds no database');
  return { manifest, files };
}
