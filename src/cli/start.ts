import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { configSchema } from '../config/schema.ts';
import type { Config } from '../config/schema.ts';
import { CliError, DATA_DIR_OPTION, STORE_OPTION, resolveDataDir } from './common.ts';

interface StartOptions {
  config?: string;
  dataDir?: string;
  sipUdp?: string;
  sipTcp?: string;
  sipTls?: string;
  domain?: string;
  logLevel?: string;
  http?: string;
  store?: string;
}

export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description('run the server in the foreground')
    .option('--config <file>', 'JSON config file')
    .option(...DATA_DIR_OPTION)
    .option(...STORE_OPTION)
    .option('--sip-udp <host:port>', 'UDP listener (port 0 = off)')
    .option('--sip-tcp <host:port>', 'TCP listener (port 0 = off)')
    .option('--sip-tls <host:port>', 'TLS listener (port 0 = off)')
    .option('--domain <name>', 'SIP domain and digest realm')
    .option('--http <host:port>', 'management HTTPS server: REST API, CA download (port 0 = off; default 0.0.0.0:7071)')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent')
    .action(async (opts: StartOptions) => {
      const config = await loadConfig(opts);
      const dataDir = resolveDataDir(opts.dataDir);
      // Loaded here, not at the top: every other command starts in a fraction of the time without the server's modules.
      const [{ default: pino }, { Server }] = await Promise.all([import('pino'), import('../server.ts')]);
      const logger = pino({ level: config.log.level, base: undefined });
      const server = await Server.start({ config, dataDir, logger, pinnedSettings: pinnedSettings(opts) });
      // Printed once, on the first start, and never logged: only its hash is stored.
      const adminPassword = server.takeInitialAdminPassword();
      if (adminPassword) process.stdout.write(`Initial admin password: ${adminPassword}\n`);
      const listeners = server.listening().map((l) => `${l.transport} ${hostPort(l.address, l.port)}`);
      if (server.http) {
        const a = server.http.address();
        listeners.push(`${server.config.http.allowHttp ? 'http' : 'https'} ${hostPort(a.address, a.port)}`);
      }
      // Listening for the signal before saying ready: a script may send it the moment it reads the line.
      const signalled = waitForSignal();
      process.stdout.write(`Switchboard ready: ${listeners.join(', ')} (domain ${server.config.sip.domain}, data ${dataDir})\n`);
      await signalled;
      await server.stop();
    });
}

/** Config file first, then command-line overrides, all through the one schema. */
export async function loadConfig(opts: StartOptions): Promise<Config> {
  let raw: Record<string, unknown> = {};
  if (opts.config) {
    let text: string;
    try {
      text = await readFile(opts.config, 'utf8');
    } catch (err) {
      throw new CliError(`cannot read config file ${opts.config}: ${(err as NodeJS.ErrnoException).code ?? err}`);
    }
    try {
      raw = JSON.parse(text) as Record<string, unknown>;
    } catch (err) {
      throw new CliError(`config file ${opts.config} is not valid JSON: ${(err as Error).message}`);
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new CliError('config file must hold a JSON object');
  }
  const sip = { ...((raw.sip as Record<string, unknown> | undefined) ?? {}) };
  if (opts.sipUdp !== undefined) sip.udp = opts.sipUdp;
  if (opts.sipTcp !== undefined) sip.tcp = opts.sipTcp;
  if (opts.sipTls !== undefined) sip.tls = opts.sipTls;
  if (opts.domain !== undefined) sip.domain = opts.domain;
  const log = { ...((raw.log as Record<string, unknown> | undefined) ?? {}) };
  if (opts.logLevel !== undefined) log.level = opts.logLevel;
  const http = { ...((raw.http as Record<string, unknown> | undefined) ?? {}) };
  if (opts.http !== undefined) http.listen = opts.http;
  const store = { ...((raw.store as Record<string, unknown> | undefined) ?? {}) };
  if (opts.store !== undefined) store.url = opts.store;
  const parsed = configSchema.safeParse({ ...raw, sip, log, http, store });
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    throw new CliError(`invalid setting ${first.path.join('.') || '(top level)'}: ${first.message}`);
  }
  return parsed.data;
}

/** Settings given on the command line win over values saved through the API. */
function pinnedSettings(opts: StartOptions): string[] {
  const given: [unknown, string][] = [[opts.sipUdp, 'sip.udp'], [opts.sipTcp, 'sip.tcp'], [opts.sipTls, 'sip.tls'], [opts.domain, 'sip.domain']];
  return given.filter(([v]) => v !== undefined).map(([, key]) => key);
}

function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off('SIGTERM', done);
      process.off('SIGINT', done);
      resolve();
    };
    process.on('SIGTERM', done);
    process.on('SIGINT', done);
  });
}
