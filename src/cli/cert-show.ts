// `switchboard cert show`: the certificate overview (src/security/cert-overview.ts)
// as lines an administrator reads, or as JSON for scripts; and the site's
// addresses the proposed SANs and the family checks use, from the same config
// the server starts with.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/schema.ts';
import { configWithStoredSettings } from '../api/management.ts';
import { silentLogger } from '../lib/log.ts';
import { siteAddresses } from '../server-config.ts';
import type { CertificateOverview } from '../security/cert-overview.ts';
import type { CertView } from '../model/certificates.ts';
import { certificateOverview } from '../security/cert-overview.ts';
import type { SiteAddresses } from '../security/client-families.ts';
import { loadConfig } from './start.ts';
import { askControl, NoServerError, runningConfig } from './status.ts';
import { isPostgresUrl, openStoreAt } from '../store/open.ts';
import { DATABASE_FILE } from '../store/sqlite/database.ts';

/** Options naming the config the server runs with: the site's domain and addresses follow from it. */
export const SITE_OPTIONS = {
  config: ['--config <file>', 'the JSON config file the server starts with (its domain and addresses)'],
  domain: ['--domain <name>', 'SIP domain (as given to start)'],
} as const;

export interface SiteOptions {
  config?: string;
  domain?: string;
}

/** The config the server would run with: the file and flags, then the settings saved through the API. */
export async function siteConfig(o: SiteOptions, dataDir: string): Promise<Config> {
  const running = o.config === undefined && o.domain === undefined ? await runningConfig(dataDir) : undefined;
  const base = running ?? await loadConfig({ config: o.config, domain: o.domain });
  return configWithStoredSettings(base, dataDir, o.domain === undefined ? [] : ['sip.domain'], silentLogger);
}

/**
 * The running server's own addresses when one runs on dataDir (it knows its
 * listeners); otherwise the config given here. --config or --domain win.
 */
export async function siteOf(o: SiteOptions, dataDir: string): Promise<SiteAddresses> {
  if (o.config === undefined && o.domain === undefined) {
    try {
      return (await askControl<{ site: SiteAddresses }>(dataDir, { op: 'site' })).site;
    } catch (err) {
      if (!(err instanceof NoServerError)) throw err;
    }
  }
  return siteAddresses(await siteConfig(o, dataDir));
}

export async function overviewFor(o: SiteOptions, dataDir: string, now = new Date()): Promise<CertificateOverview> {
  const site = await siteOf(o, dataDir);
  // The provisioned devices' families are checked too (A-29), when there is a database to read them from.
  const url = (await siteConfig(o, dataDir)).store.url;
  if (!isPostgresUrl(url) && !existsSync(join(url ?? dataDir, DATABASE_FILE))) return certificateOverview({ dataDir, site, now });
  const store = await openStoreAt(url, dataDir);
  try {
    return await certificateOverview({ dataDir, site, now, devices: store.devices });
  } finally {
    await store.close();
  }
}

const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

function certLines(c: CertView, indent: string): string[] {
  return [
    `${indent}subject: ${c.subject}`,
    `${indent}issuer: ${c.issuer}${c.selfSigned ? ' (self-signed)' : ''}`,
    ...(c.subjectAltNames.length > 0 ? [`${indent}names: ${c.subjectAltNames.join(', ')}`] : []),
    `${indent}valid: ${day(c.validFrom)} to ${day(c.validTo)}`,
    `${indent}key: ${c.keyType.toUpperCase()} ${c.keyBits}, signed with ${c.signatureHash.toUpperCase()}`,
    `${indent}SHA-256: ${c.fingerprintSha256}`,
  ];
}

/** Readable lines: each identity with the listeners presenting it, the root, the trusted CAs, the families, the warnings. */
export function formatOverview(o: CertificateOverview): string[] {
  const lines: string[] = [];
  for (const id of o.identities) {
    lines.push(`${id.role} identity (${id.source}; presented by ${id.presentedBy.join(' and ')}; offer chain ${id.offerChain ? 'on' : 'off'})`);
    lines.push(...certLines(id.certificate, '  '));
    for (const c of id.chain) lines.push(`  chain: ${c.subject} (SHA-256 ${c.fingerprintSha256})`);
  }
  lines.push('internal root CA');
  lines.push(...certLines(o.ca, '  '));
  if (o.trusted.length === 0) lines.push('trusted CAs: none besides the internal root');
  for (const t of o.trusted) lines.push(`trusted CA ${t.label}: ${t.certificate.subject}, valid to ${day(t.certificate.validTo)}, SHA-256 ${t.certificate.fingerprintSha256}`);
  const families = [...new Set([...o.clientFamilies.selected, ...o.clientFamilies.devices])];
  lines.push(`client families checked: ${families.length > 0 ? families.join(', ') : 'none (choose with `switchboard cert families set`)'}`);
  if (o.warnings.length === 0) lines.push('warnings: none');
  for (const w of o.warnings) lines.push(`warning: ${w.text}`);
  return lines;
}
