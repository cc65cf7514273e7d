// Remote syslog (SPEC B-31, issue 5 item 6): a Logger that hands every call to
// the inner logger unchanged and also sends the calls at or above minLevel to
// a collector as RFC 5424 messages over UDP (RFC 5426), TCP (RFC 6587) or TLS
// (RFC 5425).
import os from 'node:os';
import { readFile } from 'node:fs/promises';
import type { Logger } from '../lib/log.ts';
import { SEVERITY, formatSyslog, toFields } from './syslog-format.ts';
import { SYSLOG_FACILITIES, SYSLOG_LEVELS, parseSyslogTarget } from './syslog-target.ts';
import type { SyslogFacility, SyslogLevel, SyslogTarget } from './syslog-target.ts';
import { createSyslogTransport } from './syslog-transport.ts';
import type { SyslogStats, SyslogTransport } from './syslog-transport.ts';

export type { SyslogStats } from './syslog-transport.ts';

export interface SyslogOptions {
  /** "udp://host:port" etc., or already parsed. */
  target: string | SyslogTarget;
  /** Lowest level sent (default 'warn'). */
  minLevel?: SyslogLevel;
  facility?: SyslogFacility;
  appName?: string;
  /** Defaults: os.hostname(), process.pid, Date.now. */
  hostname?: string;
  procId?: string;
  now?: () => number;
  /** PEM trusted for a tls:// collector's certificate. */
  ca?: string | Buffer;
  /** Longest message in bytes, before framing (default 8192; RFC 5426 asks UDP receivers for 2048 at least). */
  maxMessageBytes?: number;
  maxQueue?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Replaces the network transport (tests). */
  transport?: SyslogTransport;
}

type Level = SyslogLevel;

export class SyslogLogger implements Logger {
  private readonly transport: SyslogTransport;
  /** Levels at or above minLevel are sent: index in SYSLOG_LEVELS <= this. */
  private readonly maxIndex: number;
  private readonly facility: number;
  private readonly appName: string;
  private readonly hostname: string;
  private readonly procId: string;
  private readonly now: () => number;
  private readonly maxBytes: number;
  private formatErrors = 0;

  constructor(
    private readonly inner: Logger,
    opts: SyslogOptions,
  ) {
    const target = typeof opts.target === 'string' ? parseSyslogTarget(opts.target) : opts.target;
    if (!target) throw new Error(`log.syslog.target: expected udp://HOST:PORT, tcp://HOST:PORT or tls://HOST:PORT, got "${String(opts.target)}"`);
    this.maxIndex = SYSLOG_LEVELS.indexOf(opts.minLevel ?? 'warn');
    this.facility = SYSLOG_FACILITIES[opts.facility ?? 'local0'];
    this.appName = opts.appName ?? 'switchboard';
    this.hostname = opts.hostname ?? os.hostname();
    this.procId = opts.procId ?? String(process.pid);
    this.now = opts.now ?? Date.now;
    this.maxBytes = Math.max(480, opts.maxMessageBytes ?? 8192);
    this.transport =
      opts.transport ??
      createSyslogTransport({
        target,
        ca: opts.ca,
        maxQueue: opts.maxQueue,
        minBackoffMs: opts.minBackoffMs,
        maxBackoffMs: opts.maxBackoffMs,
        log: inner,
      });
  }

  error(obj: object, msg?: string): void {
    this.inner.error(obj, msg);
    this.forward('error', obj, msg);
  }

  warn(obj: object, msg?: string): void {
    this.inner.warn(obj, msg);
    this.forward('warn', obj, msg);
  }

  info(obj: object, msg?: string): void {
    this.inner.info(obj, msg);
    this.forward('info', obj, msg);
  }

  debug(obj: object, msg?: string): void {
    this.inner.debug(obj, msg);
    this.forward('debug', obj, msg);
  }

  get stats(): SyslogStats & { formatErrors: number } {
    return { ...this.transport.stats, formatErrors: this.formatErrors };
  }

  /** Delivers what is queued (up to timeoutMs), then closes the connection. */
  close(timeoutMs = 1000): Promise<void> {
    return this.transport.close(timeoutMs);
  }

  private forward(level: Level, obj: object, msg: string | undefined): void {
    if (SYSLOG_LEVELS.indexOf(level) > this.maxIndex) return;
    try {
      const fields = typeof obj === 'object' && obj !== null ? toFields(obj) : [];
      const kind = (obj as { kind?: unknown } | null)?.kind;
      const message = formatSyslog(
        {
          facility: this.facility,
          severity: SEVERITY[level],
          time: this.now(),
          hostname: this.hostname,
          appName: this.appName,
          procId: this.procId,
          msgId: typeof kind === 'string' ? kind : undefined,
          fields,
          msg: typeof msg === 'string' ? msg : undefined,
        },
        this.maxBytes,
      );
      this.transport.send(message);
    } catch {
      // A value that cannot be formatted (a throwing getter...) costs one line, never the caller.
      this.formatErrors++;
    }
  }
}

/** Settings as in the config file's log.syslog. */
export interface SyslogConfig {
  target: string;
  minLevel: SyslogLevel;
  facility: SyslogFacility;
  appName: string;
  caFile?: string;
}

/** Builds the logger from config, reading the CA file; errors name the setting. */
export async function createSyslogLogger(inner: Logger, config: SyslogConfig, extra: Partial<SyslogOptions> = {}): Promise<SyslogLogger> {
  let ca: Buffer | undefined;
  if (config.caFile !== undefined) {
    try {
      ca = await readFile(config.caFile);
    } catch (err) {
      throw new Error(`log.syslog.caFile: cannot read ${config.caFile}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }
  return new SyslogLogger(inner, {
    target: config.target,
    minLevel: config.minLevel,
    facility: config.facility,
    appName: config.appName,
    ca,
    ...extra,
  });
}
