// What Server.start calls: stored settings before anything uses the config,
// then the first administrator and the HTTPS server once everything else runs.
import type { TlsOptions } from 'node:tls';
import type { Config } from '../config/schema.ts';
import { burnVerify, ensureInitialAdmin, LoginLimiter } from '../security/admin-auth.ts';
import { BanBoard } from '../security/bans.ts';
import type { CertificateSet } from '../security/certs.ts';
import { tlsServerOptions } from '../security/tls-policy.ts';
import type { Logger } from '../lib/log.ts';
import type { AdminStore } from '../store/admin-types.ts';
import { openStoreAt } from '../store/open.ts';
import type { Store } from '../store/types.ts';
import type { ApiContext, LiveMediaSettings } from './context.ts';
import type { SystemSource } from './routes/system.ts';
import { startApiServer, type ApiServer, type ExtraRoutes } from './http-server.ts';
import { SessionWatch } from './session-watch.ts';
import { applyStoredSettings, storedSettings } from './settings.ts';

export type { ApiServer, ExtraRoutes };

/**
 * The configuration to run with: the settings saved through the API applied
 * over the file and command line, except the keys the command line pinned.
 * Reads the database once and closes it; Server.start opens it for real later.
 */
export async function configWithStoredSettings(base: Config, dataDir: string, pinned: readonly string[], log: Logger): Promise<Config> {
  const store = await openStoreAt(base.store.url, dataDir);
  let stored: Record<string, unknown>;
  try {
    stored = await storedSettings(store.admin.settings);
  } finally {
    await store.close();
  }
  const { config, skipped } = applyStoredSettings(base, stored, pinned);
  for (const s of skipped) log.warn({ setting: s.key, problem: s.message }, 'saved setting ignored: no longer valid');
  return config;
}

export interface ManagementOptions {
  config: Config;
  baseConfig: Config;
  pinnedSettings: readonly string[];
  store: Store;
  admin: AdminStore;
  certificates: CertificateSet;
  /** The running server's poller of the system media settings. */
  systemMedia?: LiveMediaSettings;
  log: Logger;
  now: () => number;
  extraRoutes?: readonly ExtraRoutes[];
  /** Connections the HTTPS server holds at once (src/ops/file-limit.ts). */
  maxConnections?: number;
  /** The login limiter, when the server shares it (its control socket lists and lifts the locks too). */
  limiter?: LoginLimiter;
  /** Every lockout; by default this limiter's only. */
  bans?: BanBoard;
  /** The running server, for the System pages' routes (absent: those routes are not mounted). */
  system?: SystemSource;
}

export interface Management {
  http: ApiServer;
  /** Set on the first start only: the generated password of the `admin` account. Never logged. */
  initialAdminPassword: string | null;
}

/** Starts the management server, or returns null when http.listen has port 0. */
/** TLS 1.2+ and modern suites always: browsers need nothing older. */
export function managementTls(certificates: CertificateSet): TlsOptions {
  return tlsServerOptions(certificates, { legacyTls: false, offerChain: certificates.offerChain });
}

export async function startManagement(o: ManagementOptions): Promise<Management | null> {
  const http = o.config.http;
  if (http.listen.port === 0) return null;
  const initialAdminPassword = await ensureInitialAdmin(o.admin, http.passwordPolicy);
  // Prepares the throwaway hash now, so the first login with an unknown name takes no longer than any other.
  void burnVerify('');
  const limiter = o.limiter ?? new LoginLimiter(http.lockout, o.now);
  const ctx: ApiContext = {
    store: o.store,
    admin: o.admin,
    config: o.config,
    baseConfig: o.baseConfig,
    ca: { pem: o.certificates.caCertPem, der: o.certificates.caDer },
    log: o.log,
    now: o.now,
    limiter,
    bans: o.bans ?? new BanBoard({ list: async () => [], lift: async () => 0 }, limiter),
    pinnedSettings: o.pinnedSettings,
    systemMedia: o.systemMedia,
    watching: new SessionWatch(o.now),
    system: o.system,
  };
  // A smaller limit in the config file applies from this start, not only after the next change.
  const trimmed = await o.admin.audit.trim(http.auditMaxEntries);
  if (trimmed > 0) o.log.info({ deleted: trimmed, kept: http.auditMaxEntries }, 'audit log trimmed');
  const server = await startApiServer({
    ctx,
    host: http.listen.host,
    port: http.listen.port,
    tls: http.allowHttp ? null : managementTls(o.certificates),
    extraRoutes: o.extraRoutes,
    maxConnections: o.maxConnections,
  });
  o.log.info({ url: server.url, https: !http.allowHttp }, 'management server listening');
  return { http: server, initialAdminPassword };
}
