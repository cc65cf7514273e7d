// Imports nothing but src/lib, so the config schema can validate targets with
// the same code the syslog sender uses.
import { unbracketHost } from '../lib/net.ts';

export type SyslogProtocol = 'udp' | 'tcp' | 'tls';

export interface SyslogTarget {
  protocol: SyslogProtocol;
  host: string;
  port: number;
}

/** RFC 5426 (UDP) and common practice for RFC 6587 (TCP) use 514; RFC 5425 (TLS) assigns 6514. */
export const DEFAULT_SYSLOG_PORTS: Record<SyslogProtocol, number> = { udp: 514, tcp: 514, tls: 6514 };

/** "udp://host:port", "tcp://[::1]:601", "tls://logs.example.com" (default port); undefined when unusable. */
export function parseSyslogTarget(text: string): SyslogTarget | undefined {
  const m = /^(udp|tcp|tls):\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::(\d{1,5}))?\/?$/.exec(text);
  if (!m) return undefined;
  const protocol = m[1] as SyslogProtocol;
  const host = unbracketHost(m[2]!);
  const port = m[3] === undefined ? DEFAULT_SYSLOG_PORTS[protocol] : Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  return { protocol, host, port };
}

/** RFC 5424 §6.2.1 facility codes by their customary names. */
export const SYSLOG_FACILITIES = {
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, lpr: 6, news: 7, uucp: 8, cron: 9, authpriv: 10,
  ftp: 11, ntp: 12, audit: 13, alert: 14, clock: 15,
  local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21, local6: 22, local7: 23,
} as const;

export type SyslogFacility = keyof typeof SYSLOG_FACILITIES;

/** Logger levels that can be sent, lowest threshold last. */
export const SYSLOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type SyslogLevel = (typeof SYSLOG_LEVELS)[number];
