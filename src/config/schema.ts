import { z } from 'zod';
import { passwordPolicySchema, systemMediaFields } from '../model/settings.ts';
import { parseHostPort } from '../lib/net.ts';
import { DEFAULT_LOCAL_NETWORKS, parseCidr } from '../security/transport-policy.ts';
import { SYSLOG_FACILITIES, SYSLOG_LEVELS, parseSyslogTarget } from '../ops/syslog-target.ts';
import type { SyslogFacility } from '../ops/syslog-target.ts';
import { parsePeerUri } from '../pbx/peers/peer-links.ts';
import { trunkHealthConfigSchema } from './trunk-health.ts';
import { voicemailConfigSchema } from './voicemail.ts';
import { MAX_TRUSTED_PEERS, TRUSTED_PEER_NAME_HINT, trustedPeerName } from '../security/trusted-peers.ts';

// The one description of Switchboard's settings: the config file, the command
// line overrides and (later) the REST API and web forms all validate against
// it. Defaults live here and nowhere else.

/** "HOST:PORT", "[v6]:PORT" or "PORT"; port 0 turns the listener off. */
export const listenAddress = z
  .string()
  .transform((s, ctx) => {
    const parsed = parseListenAddress(s);
    if (!parsed) {
      ctx.addIssue({ code: 'custom', message: `expected HOST:PORT with a port 0-65535, got "${s}"` });
      return z.NEVER;
    }
    return parsed;
  });

/** A listen address: src/lib/net.ts's HOST:PORT, plus a bare PORT meaning every IPv4 address. */
export function parseListenAddress(s: string): { host: string; port: number } | undefined {
  return parseHostPort(/^\d+$/.test(s) ? `0.0.0.0:${s}` : s);
}

export { passwordPolicySchema };

const dscp = (def: number) => z.number().int().min(0).max(63).default(def);
const sbcPort = z.number().int().min(1).max(65_535).optional();
/** SPEC §5.9 names each value two ways (RW_SBC_REG / RW_SBC_REG_IP, Appendix A #35); both read as ours. */
const RW_SBC_NAMES: Record<string, string> = {
  RW_SBC_REG: 'reg', RW_SBC_REG_IP: 'reg', RW_SBC_PROV: 'prov', RW_SBC_PROV_IP: 'prov', RW_SBC_TLS: 'tls', RW_SBC_TCP: 'tcp', RW_SBC_UDP: 'udp',
};

const provisioningConfigSchema = z
  .object({
    /** HTTPS listener for device files, "HOST:PORT"; port 0 = off. */
    listen: listenAddress.prefault('0.0.0.0:7443'),
    /**
     * Plain HTTP (A-14, §4.6): only when bootstrap is on, and then it serves only
     * the files a family marks as bootstrap files (11xx policy file, root
     * certificates), never a file with credentials. Off by default.
     */
    http: z
      .object({
        listen: listenAddress.prefault('0.0.0.0:0'),
        bootstrap: z.boolean().default(false),
      })
      .strict()
      .prefault({})
      .refine((h) => h.listen.port === 0 || h.bootstrap, {
        message: 'an HTTP listener serves only bootstrap files: set provisioning.http.bootstrap to true, or the port to 0',
      }),
    /** Name phones are told (identity CN); default: the host name. */
    fqdn: z.string().min(1).max(253).optional(),
    /** Address phones on the LAN reach this server at; default: sip.advertisedAddress, else this host's first address. */
    lanAddress: z.string().min(1).optional(),
    /** Address remote phones reach this server at (A-15 pinning from a remote site). */
    publicAddress: z.string().min(1).optional(),
    /** The SBC in front of remote workers (SPEC §5.9): both addresses and at least one port. */
    remoteWorker: z
      .preprocess(
        (v) => (typeof v === 'object' && v !== null && !Array.isArray(v)
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [RW_SBC_NAMES[k] ?? k, x]))
          : v),
        z.object({ reg: z.string().min(1), prov: z.string().min(1), tls: sbcPort, tcp: sbcPort, udp: sbcPort }).strict()
          .refine((r) => r.tls !== undefined || r.tcp !== undefined || r.udp !== undefined, { message: 'set at least one SBC port (tls, tcp or udp)' }),
      )
      .optional(),
    /** DSCP written into phone files (C-12, SPEC §3.6). */
    qos: z.object({ rtpDscp: dscp(46), controlDscp: dscp(40) }).strict().prefault({}),
    /** Connections held at once, and per source address. */
    maxConnections: z.number().int().min(1).max(100_000).default(1_000),
    maxConnectionsPerSource: z.number().int().min(1).max(10_000).default(16),
    /** A client that has not finished its TLS handshake and request headers within this long is cut (slowloris). */
    headersTimeoutSec: z.number().int().min(1).max(300).default(10),
    /** A whole request, upload body included, within this long, or its connection is cut (slow bodies). */
    requestTimeoutSec: z.number().int().min(1).max(3_600).default(30),
    /** Largest upload a phone may PUT (C-16 logs and upload files), and files kept per device. */
    maxUploadBytes: z.number().int().min(1_024).max(16 * 1_048_576).default(1_048_576),
    maxUploadsPerDevice: z.number().int().min(1).max(1_000).default(50),
  })
  .strict()
  .refine((p) => p.requestTimeoutSec >= p.headersTimeoutSec, {
    message: 'provisioning.requestTimeoutSec covers the headers too: make it at least headersTimeoutSec',
  });

const seconds = (def: number, min = 0, max = 86_400 * 365) => z.number().int().min(min).max(max).default(def);

export const configSchema = z
  .object({
    sip: z
      .object({
        /** SIP domain served by the registrar; also the digest realm. */
        domain: z.string().min(1).default('switchboard.local'),
        udp: listenAddress.prefault('0.0.0.0:5060'),
        tcp: listenAddress.prefault('0.0.0.0:5060'),
        tls: listenAddress.prefault('0.0.0.0:5061'),
        /** Address advertised in Via/Contact when listening on a wildcard address. */
        advertisedAddress: z.string().optional(),
        /** Remote devices (outside localNetworks) must use TLS (SPEC A-12 "Strict SIPS"); local ones may keep UDP/TCP. */
        strictSips: z.boolean().default(false),
        /** Networks whose devices count as local for Strict SIPS, in CIDR form. */
        localNetworks: z.array(z.string().refine((v) => parseCidr(v) !== undefined, { message: 'expected a network in CIDR form, e.g. 10.0.0.0/8' }))
          .default([...DEFAULT_LOCAL_NETWORKS]),
        /** Widens TLS to 1.0/1.1 and legacy ciphers for old peers (SPEC EC-03); off = TLS 1.2+ only. */
        legacyTls: z.boolean().default(false),
        /**
         * Trusted servers (SPEC D-06): FQDNs whose verified TLS client certificate
         * authenticates their requests for our users without a digest. Not empty:
         * the TLS listener asks clients for a certificate. The CLI and API add more at run time.
         */
        trustedPeers: z.array(z.string().transform((v, ctx) => trustedPeerName(v) ?? (ctx.addIssue({ code: 'custom', message: TRUSTED_PEER_NAME_HINT }), z.NEVER)))
          .max(MAX_TRUSTED_PEERS).default([]),
        timers: z
          .object({
            t1Ms: z.number().int().min(50).max(10_000).default(500),
            t2Ms: z.number().int().min(500).max(60_000).default(4_000),
            t4Ms: z.number().int().min(500).max(60_000).default(5_000),
          })
          .prefault({}),
        /**
         * Overload control (RFC 3261 §21.5.4): once a message waits longer
         * than maxDelayMs in the UDP socket, new requests without credentials
         * are dropped, then new requests with credentials get 503 with Retry-After.
         * RFC 7339: upstreams that put "oc" in their Via hear how much to
         * reduce for ocValidityMs; trunks that tell us to reduce get fewer
         * new calls (trunkFeedback).
         */
        overload: z
          .object({
            enabled: z.boolean().default(true),
            maxDelayMs: z.number().int().min(10).max(5_000).default(200),
            sampleMs: z.number().int().min(10).max(10_000).default(100),
            retryAfterSec: seconds(2, 1, 3_600),
            ocValidityMs: z.number().int().min(100).max(60_000).default(500),
            trunkFeedback: z.boolean().default(true),
          })
          .prefault({}),
        limits: z
          .object({
            maxMessageBytes: z.number().int().min(1_024).max(1_048_576).default(65_535),
            maxHeaders: z.number().int().min(16).max(4_096).default(256),
            maxHeaderLineBytes: z.number().int().min(256).max(65_536).default(8_192),
            /** TCP+TLS connections from one address; unset: an eighth of maxConnections (src/ops/file-limit.ts). */
            maxConnectionsPerSource: z.number().int().min(1).max(100_000).optional(),
            /** TCP+TLS connections per process; unset (or above it): what the open-file limit leaves after a reserve. */
            maxConnections: z.number().int().min(1).max(1_000_000).optional(),
            idleTimeoutSec: seconds(900, 10),
            /** A message (headers and declared body) must arrive whole within this long of its first byte. */
            incompleteMessageSec: seconds(30, 1, 3_600),
          })
          .prefault({}),
      })
      .prefault({}),
    registrar: z
      .object({
        minExpiresSec: seconds(60, 1),
        maxExpiresSec: seconds(7_200, 60),
        defaultExpiresSec: seconds(3_600, 1),
        maxContactsPerAor: z.number().int().min(1).max(100).default(10),
        /** OPTIONS to each UDP contact this often (RFC 3261 §11), so a phone gone away shows unreachable; 0 = off. */
        keepaliveSec: z.number().int().min(0).max(3_600).default(30),
        /** A keepalive unanswered this long (at most keepaliveSec) makes the contact unreachable. */
        keepaliveTimeoutSec: seconds(16, 1, 60),
      })
      .prefault({}),
    calls: z
      .object({
        /** Seconds a call rings before the caller gets 480 (per-user noAnswerTimeoutSec overrides). */
        noAnswerTimeoutSec: seconds(60, 5, 600),
        /** Simultaneous calls per user (per-user maxCalls overrides); 4 = a handset's line count (SPEC 3.5). */
        maxCallsPerUser: z.number().int().min(1).max(100).default(4),
        /** Codecs for users without their own list, in preference order; telephone-event is always kept. */
        codecs: z.array(z.enum(['PCMU', 'PCMA', 'G722', 'G729'])).min(1).default(['PCMU', 'PCMA', 'G722', 'G729']),
        /** Seconds a parked call waits for *38*S# before the phone that parked it is rung back. */
        parkTimeoutSec: seconds(120, 10, 3600),
        /** A party put on hold hears music from the media server (the file: `switchboard moh set`). */
        musicOnHold: z.boolean().default(true),
      })
      .prefault({}),
    media: z
      .object({
        /** System media security, SRTCP, direct media, DTMF, capneg, signalling transport: the settings model's. */
        ...systemMediaFields,
        /** SRTP suites offered, preferred first (SPEC 1.A Crypto Suite). */
        suites: z.array(z.enum(['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32', 'AES_256_CM_HMAC_SHA1_80', 'AES_256_CM_HMAC_SHA1_32'])).min(1)
          .default(['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32']),
        /** SRTP replay window in packets (SPEC 3.5: 64). */
        replayWindow: z.number().int().min(32).max(4096).default(64),
        relay: z
          .object({
            /** Address the relay binds its RTP ports on. */
            host: z.string().min(1).default('0.0.0.0'),
            /** Address written into SDP when host is a wildcard (default: the SIP advertised address). */
            advertisedAddress: z.string().optional(),
            portMin: z.number().int().min(1024).max(65534).default(20000),
            portMax: z.number().int().min(1025).max(65535).default(29999),
          })
          .prefault({}),
        /** Where relayed media runs: the built-in relay, or rtpengine through its ng protocol. */
        backend: z.enum(['builtin', 'rtpengine']).default('builtin'),
        /** rtpengine ng control address, "HOST:PORT" (backend rtpengine). */
        rtpengineNg: z.string().optional(),
      })
      .prefault({}),
    auth: z
      .object({
        /** Digest realm; the SIP domain when not set. */
        realm: z.string().min(1).optional(),
        nonceTtlSec: seconds(300, 10, 86_400),
        /**
         * Digest algorithms challenged with, in header order. MD5 alone by default:
         * SIPp reads only the first challenge and baresip gives up when any
         * challenge is not MD5, and handsets in the field are no better. Add
         * SHA-256 (RFC 8760) where every device copes, e.g. ["SHA-256", "MD5"].
         */
        algorithms: z.array(z.enum(['SHA-256', 'MD5'])).min(1).default(['MD5']),
        /** Failures of one user from one address before that pair is banned. */
        pairFailures: z.number().int().min(1).default(5),
        /** Failures against one user from anywhere before the user is banned for unproven sources. */
        userFailures: z.number().int().min(1).default(20),
        /** Failures from one address across users before the address is banned. */
        sourceFailures: z.number().int().min(1).default(100),
        windowSec: seconds(60, 1),
        banSec: seconds(300, 1),
      })
      .prefault({}),
    /**
     * This server as one node of several sharing a PostgreSQL store (SPEC
     * each stores its name with the registrations it takes, and
     * calls for a phone another node holds go over the SIP link to that node.
     */
    node: z
      .object({
        /** Unique among the nodes; default: the host name. A SIP URI user part, since it names us in OPTIONS answers. */
        name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, '1-63 letters, digits, ".", "_" or "-", starting with a letter or digit').optional(),
        /** The other nodes, e.g. "sip:10.0.0.2:5061;transport=tls" (TLS recommended; requests from a peer are trusted by address). */
        peers: z.array(z.string().refine((v) => parsePeerUri(v) !== undefined, {
          message: 'expected sip:HOST[:PORT][;transport=udp|tcp|tls] or sips:HOST[:PORT]',
        })).max(149).default([]),
        /** Seconds between OPTIONS on each link; a link that leaves one unanswered that long is down. */
        keepaliveSec: seconds(5, 1, 300),
      })
      .strict()
      .prefault({}),
    /** OPTIONS probing of the trunks (src/config/trunk-health.ts). */
    trunkHealth: trunkHealthConfigSchema.strict().prefault({}),
    /** Mailboxes and message waiting indication (issue 13). */
    voicemail: voicemailConfigSchema.strict().prefault({}),
    /** Where the data lives (see src/store/open.ts). */
    store: z
      .object({
        /** postgres://USER@HOST/DB (nodes sharing one database) or a SQLite data directory; absent: SQLite under the data directory. */
        url: z.string().min(1).optional(),
      })
      .prefault({}),
    log: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
        /** Remote syslog (RFC 5424); off unless set (SPEC B-31). */
        syslog: z
          .object({
            /** "udp://host:port", "tcp://host:port" (RFC 6587 octet counting) or "tls://host:port" (RFC 5425). */
            target: z.string().refine((s) => parseSyslogTarget(s) !== undefined, {
              message: 'expected udp://HOST:PORT, tcp://HOST:PORT or tls://HOST:PORT',
            }),
            /** Lowest level sent; SPEC B-31 recommends at least errors and warnings. */
            minLevel: z.enum(SYSLOG_LEVELS).default('warn'),
            facility: z.enum(Object.keys(SYSLOG_FACILITIES) as [SyslogFacility, ...SyslogFacility[]]).default('local0'),
            /** RFC 5424 APP-NAME: 1-48 printable US-ASCII characters. */
            appName: z.string().regex(/^[!-~]{1,48}$/, '1-48 printable ASCII characters, no spaces').default('switchboard'),
            /** PEM file of the CA that signed the collector's certificate (tls:// only); system CAs when not set. */
            caFile: z.string().min(1).optional(),
          })
          .strict()
          .optional(),
      })
      .prefault({}),
    /** Management web server: REST API, web UI, CA download (SPEC 4.6, 4.7, A-30). */
    http: z
      .object({
        /** Port 0 turns it off. */
        listen: listenAddress.prefault('0.0.0.0:7071'),
        /** Serve plain HTTP instead of HTTPS; off by default (SPEC 4.6 "Allow unencrypted HTTP"). */
        allowHttp: z.boolean().default(false),
        /** An admin session ends after this much inactivity (fractions allowed). */
        sessionIdleMinutes: z.number().min(0.01).max(1440).default(10),
        /** Bearer token GET /metrics asks for; unset, /metrics is open (Prometheus has no login). */
        metricsToken: z.string().regex(/^[!-~]{16,256}$/, 'must be 16-256 visible ASCII characters').optional(),
        passwordPolicy: passwordPolicySchema.prefault({}),
        /** Audit log entries kept; the oldest are deleted as new ones arrive, so the log cannot grow forever. */
        auditMaxEntries: z.number().int().min(100).max(100_000_000).default(100_000),
        lockout: z
          .object({
            /** Failed logins to one account within windowSec that lock it for lockSec. */
            failures: z.number().int().min(1).max(1000).default(5),
            /** Failed logins from one address (any account) within windowSec that block it for lockSec. */
            sourceFailures: z.number().int().min(1).max(10_000).default(20),
            windowSec: seconds(300, 1),
            lockSec: seconds(900, 1),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    /** The provisioning server: phone configuration files and the root CA (issue 14, SPEC §4.6, §5, A-14..A-16). */
    provisioning: provisioningConfigSchema.prefault({}),
  })
  .strict();

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
