import { z } from 'zod';

// The one description of Switchboard's settings: the config file, the command
// line overrides and (later) the REST API and web forms all validate against
// it. Defaults live here and nowhere else.

/** "HOST:PORT", "[v6]:PORT" or "PORT"; port 0 turns the listener off. */
export const listenAddress = z
  .string()
  .transform((s, ctx) => {
    const parsed = parseHostPort(s);
    if (!parsed) {
      ctx.addIssue({ code: 'custom', message: `expected HOST:PORT with a port 0-65535, got "${s}"` });
      return z.NEVER;
    }
    return parsed;
  });

export function parseHostPort(s: string): { host: string; port: number } | undefined {
  let host = '0.0.0.0';
  let portText = s;
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0 || s[end + 1] !== ':') return undefined;
    host = s.slice(1, end);
    portText = s.slice(end + 2);
  } else {
    const colon = s.lastIndexOf(':');
    if (colon >= 0) {
      if (s.indexOf(':') !== colon) return undefined; // bare IPv6 needs brackets
      host = s.slice(0, colon);
      portText = s.slice(colon + 1);
    }
  }
  if (!/^\d{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  if (port > 65535 || host === '') return undefined;
  return { host, port };
}

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
        /** Widens TLS to 1.0/1.1 and legacy ciphers for old peers (SPEC EC-03); off = TLS 1.2+ only. */
        legacyTls: z.boolean().default(false),
        timers: z
          .object({
            t1Ms: z.number().int().min(50).max(10_000).default(500),
            t2Ms: z.number().int().min(500).max(60_000).default(4_000),
            t4Ms: z.number().int().min(500).max(60_000).default(5_000),
          })
          .prefault({}),
        limits: z
          .object({
            maxMessageBytes: z.number().int().min(1_024).max(1_048_576).default(65_535),
            maxHeaders: z.number().int().min(16).max(4_096).default(256),
            maxHeaderLineBytes: z.number().int().min(256).max(65_536).default(8_192),
            maxConnectionsPerSource: z.number().int().min(1).max(100_000).default(1_024),
            maxConnections: z.number().int().min(1).max(1_000_000).default(20_000),
            idleTimeoutSec: seconds(900, 10),
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
    log: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      })
      .prefault({}),
  })
  .strict();

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
