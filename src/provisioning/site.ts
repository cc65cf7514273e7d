// This server as phones must be told about it (the ProvisioningSite every
// generator renders from): SIP ports and addresses from the running config,
// the live system media settings (A-20, C-02), the root CA of the identity in
// use (C-03, C-04, A-28) and the provisioning section (A-15 public address,
// §5.9 remote-worker SBC, C-12 QoS).
import { X509Certificate } from 'node:crypto';
import os from 'node:os';
import type { Config } from '../config/schema.ts';
import { externalAddresses, formatHostPort, isWildcard } from '../lib/net.ts';
import { readFile } from 'node:fs/promises';
import { silentLogger } from '../lib/log.ts';
import { SystemMediaSettings, type SystemMedia } from '../pbx/media/profile.ts';
import { certificatePaths, type CertificateSet } from '../security/certs.ts';
import type { SettingsRepository } from '../store/admin-types.ts';
import type { ProvisioningSite, RootCertificate } from './types.ts';

export interface SiteSources {
  config: Config;
  /** The system media settings now (SystemMediaSettings.current: file and stored overrides). */
  media: () => SystemMedia;
  /** The identity in use now (it changes on reload). */
  certificates: () => SiteIdentity;
  /** SIP listener ports as bound (a configured port 0 means off). */
  sipPorts: () => ProvisioningSite['sipPorts'];
  /** Provisioning listener ports as bound. */
  provisioningPorts: () => ProvisioningSite['provisioningPorts'];
  /** Default os.hostname(). */
  hostname?: () => string;
}

/** What the site needs of the identity in use. */
export type SiteIdentity = Pick<CertificateSet, 'certPem' | 'caCertPem' | 'chainPems' | 'telephony'>;

interface CertFacts {
  rootCa: RootCertificate;
  telephonyRootCa: RootCertificate | undefined;
  selfSigned: boolean;
}

// The same certificate set is read on every request until a reload swaps it.
const parsed = new WeakMap<SiteIdentity, CertFacts>();

function rootCertificate(pem: string): RootCertificate {
  const c = new X509Certificate(pem);
  return { subject: c.subject.replace(/\n/g, ', '), pem, der: c.raw };
}

/** The root a phone must trust for an identity: the chain's self-signed end, else our CA (auto and issued identities). */
function rootOf(chainPems: readonly string[], caCertPem: string): string {
  const last = chainPems.at(-1);
  if (last !== undefined) {
    const c = new X509Certificate(last);
    if (c.checkIssued(c)) return last;
  }
  return caCertPem;
}

function certFacts(c: SiteIdentity): CertFacts {
  let facts = parsed.get(c);
  if (!facts) {
    const identity = new X509Certificate(c.certPem);
    const root = rootOf(c.chainPems ?? [], c.caCertPem);
    const telRoot = c.telephony ? rootOf(c.telephony.chainPems, c.caCertPem) : undefined;
    facts = {
      rootCa: rootCertificate(root),
      telephonyRootCa: telRoot !== undefined && telRoot.trim() !== root.trim() ? rootCertificate(telRoot) : undefined,
      selfSigned: identity.checkIssued(identity),
    };
    parsed.set(c, facts);
  }
  return facts;
}

/** The LAN address phones are given: configured, else SIP's advertised or explicit one, else this host's first. */
export function lanAddress(config: Config): string {
  if (config.provisioning.lanAddress) return config.provisioning.lanAddress;
  if (config.sip.advertisedAddress) return config.sip.advertisedAddress;
  for (const a of [config.sip.tls, config.sip.tcp, config.sip.udp, config.provisioning.listen]) {
    if (a.port !== 0 && !isWildcard(a.host)) return a.host;
  }
  return externalAddresses('IPv4')[0] ?? '127.0.0.1';
}

export function buildSite(s: SiteSources): ProvisioningSite {
  const { config } = s;
  const p = config.provisioning;
  const media = s.media();
  const certs = certFacts(s.certificates());
  return {
    domain: config.sip.domain,
    fqdn: p.fqdn ?? (s.hostname ?? os.hostname)(),
    lanAddress: lanAddress(config),
    ...(p.publicAddress !== undefined ? { publicAddress: p.publicAddress } : {}),
    sipPorts: s.sipPorts(),
    provisioningPorts: s.provisioningPorts(),
    media: { security: media.security, srtcp: media.srtcp, suites: media.suites, capneg: media.capneg },
    rootCa: certs.rootCa,
    ...(certs.telephonyRootCa ? { telephonyRootCa: certs.telephonyRootCa } : {}),
    identitySelfSigned: certs.selfSigned,
    ...(p.remoteWorker !== undefined ? { remoteWorker: p.remoteWorker } : {}),
    qos: { rtpDscp: p.qos.rtpDscp, controlDscp: p.qos.controlDscp },
  };
}

/** The ports a config asks for, for `provision render` (no server running): port 0 = off. */
export function configuredSipPorts(config: Config): ProvisioningSite['sipPorts'] {
  const on = (a: { port: number }) => (a.port === 0 ? undefined : a.port);
  return { udp: on(config.sip.udp), tcp: on(config.sip.tcp), tls: on(config.sip.tls) };
}

export function configuredProvisioningPorts(config: Config): ProvisioningSite['provisioningPorts'] {
  const http = config.provisioning.http;
  return { https: config.provisioning.listen.port, ...(http.bootstrap && http.listen.port !== 0 ? { http: http.listen.port } : {}) };
}

/**
 * The site as a server started with this config on this data directory would
 * build it (`provision render`, the CLI's token URLs): the identity on disk,
 * the stored media settings, the configured ports.
 */
export async function siteFromDataDir(config: Config, dataDir: string, settings: SettingsRepository): Promise<ProvisioningSite> {
  const paths = certificatePaths(dataDir);
  let caCertPem: string;
  let certPem: string;
  try {
    [caCertPem, certPem] = await Promise.all([readFile(paths.caCert, 'utf8'), readFile(paths.cert, 'utf8')]);
  } catch {
    throw new Error(`no identity in ${paths.dir}: start the server once to create it`);
  }
  const media = new SystemMediaSettings(config.media, settings, silentLogger);
  await media.poll();
  const identity: SiteIdentity = { caCertPem, certPem, chainPems: [caCertPem], telephony: null };
  return buildSite({
    config, media: () => media.current, certificates: () => identity,
    sipPorts: () => configuredSipPorts(config), provisioningPorts: () => configuredProvisioningPorts(config),
  });
}

/** Where phones on the LAN are pointed: https://LAN-ADDRESS:PORT/ (http: the bootstrap port, when on). */
export function provisioningBaseUrl(site: ProvisioningSite, scheme: 'https' | 'http' = 'https'): string {
  const port = scheme === 'https' ? site.provisioningPorts.https : site.provisioningPorts.http;
  return `${scheme}://${formatHostPort(site.lanAddress, port ?? site.provisioningPorts.https)}/`;
}

/** The base URL of a device's token: https://LAN-ADDRESS:PORT/d/TOKEN/ */
export function tokenUrl(site: ProvisioningSite, token: string): string {
  return `${provisioningBaseUrl(site)}d/${token}/`;
}
