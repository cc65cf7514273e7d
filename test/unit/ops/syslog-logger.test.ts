import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SyslogLogger } from '../../../src/ops/syslog.ts';
import type { SyslogStats } from '../../../src/ops/syslog.ts';
import type { SyslogTransport } from '../../../src/ops/syslog-transport.ts';
import { createSyslogTransport } from '../../../src/ops/syslog-transport.ts';
import type { Logger } from '../../../src/sip/log.ts';

function capture(): Logger & { lines: Array<[string, object, string | undefined]> } {
  const lines: Array<[string, object, string | undefined]> = [];
  const at = (level: string) => (obj: object, msg?: string) => void lines.push([level, obj, msg]);
  return { lines, error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}

function fakeTransport(): SyslogTransport & { sent: string[] } {
  const sent: string[] = [];
  const stats: SyslogStats = { sent: 0, dropped: 0, queued: 0, connected: true };
  return {
    sent,
    stats,
    send(b: Buffer) {
      sent.push(b.toString('utf8'));
      stats.sent++;
    },
    close: async () => {},
  };
}

const T = Date.UTC(2025, 5, 30, 12, 0, 0, 1);

function logger(minLevel: 'error' | 'warn' | 'info' | 'debug', inner = capture()) {
  const transport = fakeTransport();
  const log = new SyslogLogger(inner, {
    target: 'udp://127.0.0.1:514',
    minLevel,
    facility: 'local3',
    appName: 'sb',
    hostname: 'pbx1',
    procId: '77',
    now: () => T,
    transport,
  });
  return { log, transport, inner };
}

describe('SyslogLogger', () => {
  it('forwards every call to the inner logger unchanged and sends those at or above minLevel', () => {
    const { log, transport, inner } = logger('warn');
    const obj = { callId: 'abc' };
    log.debug(obj, 'd');
    log.info(obj, 'i');
    log.warn(obj, 'w');
    log.error(obj, 'e');
    expect(inner.lines.map(([l]) => l)).toEqual(['debug', 'info', 'warn', 'error']);
    expect(inner.lines[0]![1]).toBe(obj);
    // local3 = 19: warning 19*8+4 = 156, error 19*8+3 = 155.
    expect(transport.sent).toEqual([
      '<156>1 2025-06-30T12:00:00.001Z pbx1 sb 77 - [fields@32473 callId="abc"] w',
      '<155>1 2025-06-30T12:00:00.001Z pbx1 sb 77 - [fields@32473 callId="abc"] e',
    ]);
  });

  it('sends everything at minLevel debug, with info as severity 6 and debug as 7', () => {
    const { log, transport } = logger('debug');
    log.debug({}, 'd');
    log.info({}, 'i');
    expect(transport.sent.map((s) => s.slice(0, 6))).toEqual(['<159>1', '<158>1']);
  });

  it('sends only errors at minLevel error', () => {
    const { log, transport } = logger('error');
    log.warn({}, 'w');
    log.error({}, 'e');
    expect(transport.sent).toHaveLength(1);
    expect(transport.sent[0]).toMatch(/ e$/);
  });

  it('uses a string "kind" field as MSGID', () => {
    const { log, transport } = logger('warn');
    log.warn({ kind: 'tls-handshake', source: '192.0.2.4' }, 'SIP transport problem');
    expect(transport.sent[0]).toBe('<156>1 2025-06-30T12:00:00.001Z pbx1 sb 77 tls-handshake [fields@32473 kind="tls-handshake" source="192.0.2.4"] SIP transport problem');
  });

  it('never sends secrets', () => {
    const { log, transport } = logger('info');
    log.info({ user: { extension: '1001', password: 'hunter2' }, authorization: 'Digest response="f00"', ha1: 'abcdef' }, 'x');
    expect(transport.sent[0]).not.toMatch(/hunter2|f00|abcdef/);
    expect(transport.sent[0]).toContain('authorization="***"');
    expect(transport.sent[0]).toContain('ha1="***"');
  });

  it('never throws into the caller, even for values that throw when read', () => {
    const { log, transport, inner } = logger('info');
    const evil = Object.defineProperty({}, 'boom', { enumerable: true, get: () => { throw new Error('getter'); } });
    expect(() => log.info(evil, 'x')).not.toThrow();
    expect(inner.lines).toHaveLength(1);
    expect(transport.sent).toHaveLength(0);
    expect(log.stats.formatErrors).toBe(1);
  });

  it('refuses a bad target with an error naming the setting', () => {
    expect(() => new SyslogLogger(capture(), { target: 'syslog.example.com:514' })).toThrow(/log\.syslog\.target/);
  });
});

describe('syslog transport queue', () => {
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
  });

  async function closedPort(): Promise<number> {
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as net.AddressInfo).port;
    await new Promise<void>((r) => srv.close(() => r()));
    return port;
  }

  it('holds at most maxQueue messages while the collector is down, drops and counts the rest, and logs the outage once', async () => {
    const inner = capture();
    const port = await closedPort();
    const t = createSyslogTransport({ target: { protocol: 'tcp', host: '127.0.0.1', port }, maxQueue: 5, minBackoffMs: 60_000, log: inner });
    closers.push(() => t.close(10));
    for (let i = 0; i < 20; i++) expect(() => t.send(Buffer.from(`m${i}`))).not.toThrow();
    expect(t.stats.queued).toBe(5);
    expect(t.stats.dropped).toBe(15);
    expect(t.stats.sent).toBe(0);
    // The refused connection is reported once, through the inner logger.
    for (let i = 0; i < 100 && !inner.lines.some(([, , m]) => m?.includes('unreachable')); i++) await new Promise((r) => setTimeout(r, 10));
    expect(inner.lines.filter(([, , m]) => m?.includes('unreachable'))).toHaveLength(1);
    expect(t.stats.connected).toBe(false);
  });

  it('counts what is still queued at close as dropped', async () => {
    const port = await closedPort();
    const t = createSyslogTransport({ target: { protocol: 'udp', host: '127.0.0.1', port }, maxQueue: 3, minBackoffMs: 60_000, log: capture() });
    for (let i = 0; i < 2; i++) t.send(Buffer.from('x'));
    await t.close(10);
    expect(t.stats.dropped).toBe(2);
    expect(t.stats.queued).toBe(0);
  });
});
