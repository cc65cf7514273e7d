// The System pages' API: what runs (version, uptime, listeners, workers,
// storage, capacity), the recent warnings and errors of every worker, and
// backup and restore (security administrators only: a backup holds the CA
// key and password hashes). The certificates have their own routes (certificates.ts).
import { existsSync, statSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { WorkerSummary } from '../../pbx/status/control-socket.ts';
import type { LogLine } from '../../lib/log-ring.ts';
import { VERSION } from '../../lib/version.ts';
import {
  BackupError, cancelRestore, createBackup, pendingRestore, postgresRefusal, SCHEMA_VERSION, stageRestore, type BackupManifest,
} from '../../ops/backup.ts';
import { MAX_BACKUP_BYTES } from '../../ops/backup-archive.ts';
import type { ControlReload } from '../../pbx/status/control-socket.ts';
import type { SiteAddresses } from '../../security/client-families.ts';
import { isPostgresUrl } from '../../store/open.ts';
import { DATABASE_FILE } from '../../store/sqlite/database.ts';
import { audit, type ApiContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import type { RouteTable } from '../route.ts';

/** What the running server tells these routes (built in src/api/system-source.ts). */
export interface SystemSource {
  dataDir: string;
  startedAt: number;
  node: string;
  listeners(): { transport: string; address: string; port: number }[];
  /** Every worker (one for a lone server), as each answers now. */
  workers(): Promise<WorkerSummary[]>;
  /** Recent warnings and errors of every worker, oldest first. */
  logs(): Promise<LogLine[]>;
  counts(): { users: number; registrations: number };
  /** Configured or derived limits, by name, for the capacity figures. */
  limits: Record<string, number>;
  /** The site's addresses as SPEC §4.3 names them (proposed SANs, family checks). */
  site(): SiteAddresses;
  /** Every worker presents what the data directory's certificates now hold (the SIGHUP reload); what changed. */
  applyCertificates(): Promise<ControlReload>;
}

const n = z.number().int();
const systemSchema = z.object({
  version: z.string(), node: z.string(), nodeJs: z.string(), startedAt: n, uptimeSec: n, dataDir: z.string(), schemaVersion: n,
  listeners: z.array(z.object({ transport: z.string(), address: z.string(), port: n })),
  workers: z.array(z.object({ worker: n, pid: n, calls: n, bindings: n, connections: n, forwarded: n, overload: z.unknown().optional() }))
    .describe('every worker that answered within a second (a cluster asks each over its link)'),
  storage: z.object({ kind: z.enum(['sqlite', 'postgresql']), location: z.string().describe('PostgreSQL: the URL without its credentials'), sizeBytes: n.optional() }),
  disk: z.object({ freeBytes: n, totalBytes: n }).optional().describe('of the data directory'),
  capacity: z.object({ users: n, registrations: n, calls: n, connections: n, limits: z.record(z.string(), n) }),
});
const manifestSchema = z.object({
  version: z.string(), createdAt: z.number().int(), schemaVersion: z.number().int(), files: z.array(z.object({ name: z.string(), size: z.number().int() })),
});

const fileSize = (path: string) => (existsSync(path) ? statSync(path).size : 0);
const manifestView = (m: BackupManifest) => ({ version: m.version, createdAt: m.createdAt, schemaVersion: m.schemaVersion, files: m.files.map((f) => ({ name: f.name, size: f.size })) });
const backupProblem = (err: unknown) => (err instanceof BackupError ? new ApiError(400, 'backup', err.message) : err);

export function systemRoutes(t: RouteTable, ctx: ApiContext, sys: SystemSource): void {
  const storeUrl = ctx.config.store.url;
  const postgres = isPostgresUrl(storeUrl);

  t.add({
    method: 'GET', url: '/api/system', tag: 'system', access: 'read',
    summary: 'What runs: version, uptime, listeners, workers, storage, capacity',
    response: { description: 'the system', schema: systemSchema },
    handler: async (): Promise<z.input<typeof systemSchema>> => {
      const workers = await sys.workers();
      const dbPath = join(storeUrl ?? sys.dataDir, DATABASE_FILE);
      const disk = await statfs(sys.dataDir).catch(() => undefined);
      const counts = sys.counts();
      return {
        version: VERSION, node: sys.node, nodeJs: process.version, startedAt: sys.startedAt, uptimeSec: Math.round((ctx.now() - sys.startedAt) / 1000),
        dataDir: sys.dataDir, schemaVersion: SCHEMA_VERSION,
        listeners: sys.listeners(), workers,
        storage: postgres
          ? { kind: 'postgresql', location: storeUrl!.replace(/\/\/[^@/]*@/, '//***@') }
          : { kind: 'sqlite', location: dbPath, sizeBytes: fileSize(dbPath) + fileSize(`${dbPath}-wal`) },
        disk: disk && { freeBytes: disk.bavail * disk.bsize, totalBytes: disk.blocks * disk.bsize },
        capacity: {
          users: counts.users, registrations: counts.registrations, calls: workers.reduce((n, w) => n + w.calls, 0),
          connections: workers.reduce((n, w) => n + w.connections, 0), limits: sys.limits,
        },
      };
    },
  });

  t.add({
    method: 'GET', url: '/api/system/log', tag: 'system', access: 'read',
    summary: 'Recent warnings and errors of every worker, newest first',
    description: 'A bounded ring per worker, kept in memory (lost at restart); fields that hold secrets read "***".',
    response: {
      description: 'the lines',
      schema: z.object({ items: z.array(z.object({ at: z.number().int(), level: z.enum(['warn', 'error']), msg: z.string(), fields: z.string(), worker: z.number().int().optional() })) }),
    },
    handler: async () => ({ items: (await sys.logs()).reverse() }),
  });

  t.add({
    method: 'GET', url: '/api/system/backup', tag: 'system', access: 'security',
    summary: 'Download a backup: database, CA and identity (with keys), config.json',
    description: 'A consistent snapshot taken while the server runs (SQLite online backup). Sensitive: it holds the ' +
      'CA key and password hashes. A PostgreSQL store is refused (use pg_dump).',
    response: { description: 'the backup file', contentTypes: ['application/octet-stream'] },
    errors: [400],
    handler: async (req) => {
      if (postgres) throw backupProblem(postgresRefusal());
      const { archive, manifest } = await createBackup(sys.dataDir, { storeUrl, now: ctx.now }).catch((err) => {
        throw backupProblem(err);
      });
      await audit(ctx, req, 'system:backup', null, manifestView(manifest), 'download backup');
      const stamp = new Date(manifest.createdAt).toISOString().slice(0, 19).replace(/[:T]/g, '-');
      void req.reply.type('application/octet-stream').header('content-disposition', `attachment; filename="switchboard-backup-${stamp}.swb"`);
      return archive;
    },
  });

  const pendingSchema = z.object({ pending: manifestSchema.extend({ stagedAt: z.number().int() }).nullable() });
  t.app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer', bodyLimit: MAX_BACKUP_BYTES }, (_req, body, done) => done(null, body));

  t.add({
    method: 'GET', url: '/api/system/restore', tag: 'system', access: 'security',
    summary: 'The backup waiting to be restored at the next start, if any',
    response: { description: 'the staged backup or null', schema: pendingSchema },
    handler: async () => {
      const p = await pendingRestore(sys.dataDir);
      return { pending: p && { ...manifestView(p.manifest), stagedAt: p.stagedAt } };
    },
  });

  t.add({
    method: 'POST', url: '/api/system/restore', tag: 'system', access: 'security',
    summary: 'Upload a backup to restore at the next start',
    description: 'The file (application/octet-stream) is checked now — format, checksums, database schema no newer than ' +
      "this program's — and kept; the running server is not changed. At the next start the database, certificates and " +
      'config.json are replaced by the backup\'s, and the current ones move to before-restore-<time>/ in the data directory.',
    docBody: { 'application/octet-stream': z.string().describe('the backup file') },
    bodyLimit: MAX_BACKUP_BYTES,
    response: { status: 201, description: 'staged', schema: pendingSchema },
    errors: [400, 415],
    handler: async (req) => {
      if (postgres) throw backupProblem(postgresRefusal());
      if (!Buffer.isBuffer(req.body)) throw new ApiError(415, 'unsupported-media-type', 'send the backup file as application/octet-stream');
      const manifest = await stageRestore(sys.dataDir, req.body).catch((err) => {
        throw backupProblem(err);
      });
      await audit(ctx, req, 'system:restore', null, manifestView(manifest), 'stage restore');
      return { pending: { ...manifestView(manifest), stagedAt: ctx.now() } };
    },
  });

  t.add({
    method: 'DELETE', url: '/api/system/restore', tag: 'system', access: 'security',
    summary: 'Cancel the staged restore',
    response: { status: 204, description: 'cancelled' },
    errors: [404],
    handler: async (req) => {
      if (!(await cancelRestore(sys.dataDir))) throw new ApiError(404, 'not-found', 'no restore is waiting');
      await audit(ctx, req, 'system:restore', { staged: true }, null, 'cancel restore');
    },
  });
}
