// What the server derives from its configuration before it builds anything:
// the transport layer's settings, the addresses the certificate and the
// relay's SDP must name, and this node's name. Kept apart from src/server.ts, which only composes.
import os from 'node:os';
import tls from 'node:tls';
import { isIP } from 'node:net';
import type { Config } from './config/schema.ts';
import type { Logger } from './lib/log.ts';
import type { ListenAddress, TransportConfig } from './sip/transport/layer.ts';
import type { CertificateSet } from './security/certs.ts';
import type { SiteAddresses } from './security/client-families.ts';
import { describeTlsError, parseClientHello, tlsClientOptions, tlsServerOptions } from './security/tls-policy.ts';
import type { AlarmCenter } from './ops/alarms.ts';
import { externalAddresses, isWildcard, parseHostPort } from './lib/net.ts';
import type { ConnectionCaps } from './ops/file-limit.ts';

/**
 * The SIP listener's TLS identity and policy, at start and on every reload: the telephony identity when there is one.
 * With trusted peers (D-06) it asks clients for a certificate, verified against our CA and the administrator's trusted CAs.
 */
export function sipTlsOptions(config: Config, certificates: CertificateSet, requestClientCerts = false): Required<Pick<TransportConfig, 'tlsServerOptions' | 'tlsClientOptions'>> {
  const legacyTls = config.sip.legacyTls;
  const id = certificates.telephony ?? certificates;
  const identity = { certPem: id.certPem, keyPem: id.keyPem, caCertPem: certificates.caCertPem, chainPems: id.chainPems };
  return {
    tlsServerOptions: tlsServerOptions(identity, {
      legacyTls, offerChain: id.offerChain,
      // Not the system roots: every root's name would go to every phone in the certificate request (~15 kB).
      clientCas: requestClientCerts ? [certificates.caCertPem, ...certificates.trustedCaPems] : undefined,
    }),
    // Outbound TLS (trunks, phones without a live connection): verified against our own CA, the administrator's trusted CAs (B-18) and the system's roots.
    tlsClientOptions: tlsClientOptions(identity, { legacyTls, rejectUnauthorized: true, extraCas: [...certificates.trustedCaPems, ...tls.rootCertificates] }),
  };
}

export function transportConfig(
  config: Config, certificates: CertificateSet, alarms: AlarmCenter, log: Logger, caps: ConnectionCaps, requestClientCerts = false,
): TransportConfig {
  const sip = config.sip;
  return {
    udp: enabled(sip.udp),
    tcp: enabled(sip.tcp),
    tls: enabled(sip.tls),
    advertisedAddress: sip.advertisedAddress,
    parseLimits: {
      maxMessageBytes: sip.limits.maxMessageBytes,
      maxHeaders: sip.limits.maxHeaders,
      maxHeaderLineBytes: sip.limits.maxHeaderLineBytes,
    },
    streamLimits: {
      maxConnectionsPerSource: caps.sipPerSource,
      maxConnections: caps.sipConnections,
      idleTimeoutMs: sip.limits.idleTimeoutSec * 1000,
      connectTimeoutMs: 10_000,
      incompleteMessageMs: sip.limits.incompleteMessageSec * 1000,
      keepalivePongMs: 1_000,
    },
    ...sipTlsOptions(config, certificates, requestClientCerts),
    describeHandshakeError: (err, hello) =>
      describeTlsError(err, { clientHello: hello ? parseClientHello(hello) : null, legacyTls: sip.legacyTls }),
    onProblem: (kind, detail, source) => {
      if (kind === 'tls-handshake') alarms.tlsHandshakeFailed(source, detail);
    },
    onLimit: (kind, detail) => alarms.connectionLimit(kind, detail),
    logger: log,
  };
}

/**
 * The address the relay writes into SDP when it binds a wildcard: the SIP
 * advertised address, else a SIP listener's explicit address, else this
 * host's first external IPv4 address (loopback as a last resort).
 */
export function mediaAddress(config: Config): string | undefined {
  if (!isWildcard(config.media.relay.host)) return undefined;
  if (config.sip.advertisedAddress) return config.sip.advertisedAddress;
  for (const a of [config.sip.udp, config.sip.tcp, config.sip.tls]) if (a.port !== 0 && !isWildcard(a.host)) return a.host;
  return externalAddresses('IPv4')[0] ?? '127.0.0.1';
}

export function rtpengineAddress(config: Config): { host: string; port: number } {
  const ng = config.media.rtpengineNg ?? '127.0.0.1:2223';
  const hp = parseHostPort(ng);
  if (!hp) throw new Error(`media.rtpengineNg: expected HOST:PORT, got '${ng}'`);
  return hp;
}

function enabled(addr: ListenAddress): ListenAddress | undefined {
  return addr.port === 0 ? undefined : addr;
}

/** Addresses the identity certificate must name: the explicit listen addresses and this host's own. */
export function listenIps(config: Config): string[] {
  const ips = new Set<string>();
  for (const a of [config.sip.udp, config.sip.tcp, config.sip.tls]) if (a.port !== 0 && !isWildcard(a.host)) ips.add(a.host);
  if (config.sip.advertisedAddress) ips.add(config.sip.advertisedAddress);
  for (const h of [config.http.listen, config.provisioning.listen]) if (h.port !== 0 && isIP(h.host) !== 0 && !isWildcard(h.host)) ips.add(h.host);
  // The addresses phones are told to fetch their files from: their HTTPS check needs them in the identity.
  for (const ip of [config.provisioning.lanAddress, config.provisioning.publicAddress]) if (ip !== undefined && isIP(ip) !== 0) ips.add(ip);
  for (const ip of externalAddresses()) ips.add(ip);
  return [...ips];
}

/**
 * The site's addresses as the SPEC §4.3 table names them, for the proposed
 * SANs and the per-family checks: this host's name, the SIP domain, the
 * addresses it listens on, and the advertised address (else provisioning.publicAddress) as the public one.
 */
export function siteAddresses(config: Config): SiteAddresses {
  const advertised = config.sip.advertisedAddress;
  const pub = [advertised, config.provisioning.publicAddress].find((a) => a !== undefined && isIP(a) !== 0);
  return { fqdn: config.provisioning.fqdn ?? os.hostname(), domain: config.sip.domain, lan: listenIps(config).filter((ip) => ip !== pub), ...(pub && { public: pub }) };
}

/**
 * This node's name among several sharing a store: the configured one, else
 * the host name cut to what a SIP URI user part and the config allow.
 */
export function nodeName(config: Config): string {
  if (config.node.name !== undefined) return config.node.name;
  const host = os.hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 63);
  return /^[A-Za-z0-9]/.test(host) ? host : `node-${host}`;
}

/**
 * Dotted names of the settings that differ between the running config and a
 * reloaded one, except those a reload applies (the log level): they wait for
 * the next start, and SIGHUP says so instead of applying half of them.
 */
export function settingsNeedingRestart(running: Config, next: Config): string[] {
  const out: string[] = [];
  const walk = (a: unknown, b: unknown, path: string): void => {
    if (path === 'log.level') return;
    if (isPlainObject(a) && isPlainObject(b)) {
      for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) walk(a[k], b[k], path ? `${path}.${k}` : k);
      return;
    }
    if (JSON.stringify(a) !== JSON.stringify(b)) out.push(path);
  };
  walk(running, next, '');
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
