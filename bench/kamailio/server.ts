// Runs Kamailio in the foreground from a generated config (see config.ts) and
// tells when it is ready to answer: Kamailio prints no ready line, so we ask
// it with a SIP OPTIONS over UDP until it answers 200.
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { LOOPBACK, freePort, makeTempDir, removeDir, requireTool, stopChild } from '../../test/interop/harness.ts';
import type { TestUser } from '../../test/interop/users.ts';
import type { KamailioAuthBackend } from './config.ts';
import type { KamailioProxyOptions } from './proxy-route.ts';
import { writeKamailioConfig } from './config.ts';

export interface KamailioHandle {
  /** The main (attendant) process; its children are the workers. */
  readonly pid: number;
  readonly host: string;
  readonly port: number;
  readonly domain: string;
  readonly dir: string;
  /** 0 unless started with tls. */
  readonly tlsPort: number;
  /** Certificate (PEM) the TLS listener presents; '' without tls. */
  readonly certFile: string;
  output(): string;
  stop(): Promise<void>;
}

export interface StartKamailioOptions {
  domain?: string;
  users: readonly TestUser[];
  tcp?: boolean;
  children?: number;
  /** Shared memory in MB: 100k contacts need ~150 MB; default 512. */
  shmMb?: number;
  readyTimeoutMs?: number;
  authBackend?: KamailioAuthBackend;
  maxBuffer?: number;
  /** Default: a free port. */
  port?: number;
  /**
   * Also listen on TLS: true makes a fresh self-signed certificate (openssl);
   * or the PEM certificate (chain) and key to present, e.g. issued by a CA the client trusts.
   */
  tls?: boolean | { certFile: string; keyFile: string };
  /** Also route calls as a stateful proxy (see proxy-route.ts). */
  proxy?: KamailioProxyOptions;
}

/** One OPTIONS over UDP; resolves true if a 200 came back within waitMs. */
export function pingOptions(host: string, port: number, waitMs = 500): Promise<boolean> {
  return new Promise((res) => {
    const sock = createSocket('udp4');
    const branch = `z9hG4bK-ping-${process.pid}-${Date.now()}`;
    let done = false;
    const finish = (ok: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.close();
      res(ok);
    };
    const timer = setTimeout(() => finish(false), waitMs);
    sock.on('error', () => finish(false));
    sock.on('message', (msg) => finish(msg.subarray(0, 16).toString('latin1').startsWith('SIP/2.0 200')));
    sock.bind(0, LOOPBACK, () => {
      const local = sock.address().port;
      const msg =
        `OPTIONS sip:${host}:${port} SIP/2.0\r\n` +
        `Via: SIP/2.0/UDP ${LOOPBACK}:${local};branch=${branch};rport\r\n` +
        `Max-Forwards: 70\r\nFrom: <sip:ping@${LOOPBACK}>;tag=${branch}\r\n` +
        `To: <sip:${host}:${port}>\r\nCall-ID: ${branch}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`;
      sock.send(msg, port, host);
    });
  });
}

/** A throw-away self-signed EC certificate for the domain and 127.0.0.1. */
export function selfSignedCert(domain: string, certFile: string, keyFile: string): void {
  const r = spawnSync(
    'openssl',
    [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', `/CN=${domain}`,
      '-addext', `subjectAltName=DNS:${domain},IP:127.0.0.1`,
    ],
    { encoding: 'utf8', timeout: 20_000 },
  );
  if (r.status !== 0) throw new Error(`openssl could not make a test certificate:\n${r.stderr}`);
}

/** Checks the generated config with `kamailio -c` and throws with its output. */
export function checkConfig(configFile: string): void {
  const r = spawnSync(requireTool('kamailio'), ['-c', '-f', configFile], { encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0) throw new Error(`kamailio -c rejected ${configFile}:\n${r.stdout}\n${r.stderr}`);
}

export async function startKamailio(o: StartKamailioOptions): Promise<KamailioHandle> {
  requireTool('kamailio');
  const domain = o.domain ?? 'lab.test';
  const dir = makeTempDir('kamailio');
  const port = o.port ?? (await freePort());
  let tls: { port: number; certFile: string; keyFile: string } | undefined;
  let configFile: string;
  try {
    if (o.tls === true) {
      tls = { port: await freePort(), certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') };
      selfSignedCert(domain, tls.certFile, tls.keyFile);
    } else if (o.tls !== undefined && o.tls !== false) {
      tls = { port: await freePort(), ...o.tls };
    }
    ({ configFile } = writeKamailioConfig({
      dir, host: LOOPBACK, port, tcp: o.tcp ?? true, domain, users: o.users, children: o.children,
      authBackend: o.authBackend, maxBuffer: o.maxBuffer, tls, proxy: o.proxy,
    }));
    checkConfig(configFile);
  } catch (err) {
    removeDir(dir);
    throw err;
  }
  const run = await runKamailio({ configFile, dir, host: LOOPBACK, port, shmMb: o.shmMb ?? 512, readyTimeoutMs: o.readyTimeoutMs });
  return { ...run, host: LOOPBACK, port, domain, dir, tlsPort: tls?.port ?? 0, certFile: tls?.certFile ?? '' };
}

export interface RunKamailioOptions {
  /** Checked already (checkConfig). */
  configFile: string;
  /** Its own temp dir: pid file and working directory; removed on failure and on stop(). */
  dir: string;
  /** Where it answers OPTIONS once ready. */
  host: string;
  port: number;
  shmMb: number;
  readyTimeoutMs?: number;
}

/**
 * Runs Kamailio in the foreground on a config and resolves once it answers
 * OPTIONS (it prints no ready line); throws with its output otherwise.
 */
export async function runKamailio(o: RunKamailioOptions): Promise<{ pid: number; output(): string; stop(): Promise<void> }> {
  const kamailio = requireTool('kamailio');
  const pidFile = join(o.dir, 'kamailio.pid');
  // -DD: stay in the foreground but still fork the workers; -E: log to stderr.
  const args = ['-f', o.configFile, '-DD', '-E', '-m', String(o.shmMb), '-M', '16', '-P', pidFile, '-Y', o.dir];
  const child = spawn(kamailio, args, { cwd: o.dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (c: string): void => {
    out += c;
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout.setEncoding('utf8').on('data', keep);
  child.stderr.setEncoding('utf8').on('data', keep);
  const output = (): string => out.slice(-8000);

  const deadline = Date.now() + (o.readyTimeoutMs ?? 30_000);
  let ready = false;
  while (!ready && Date.now() < deadline && child.exitCode === null && child.signalCode === null) {
    ready = await pingOptions(o.host, o.port, 300);
  }
  if (!ready) {
    await stopChild(child, 3000);
    removeDir(o.dir);
    throw new Error(`kamailio did not answer OPTIONS on ${o.host}:${o.port}\n$ kamailio ${args.join(' ')}\n${output()}`);
  }
  return {
    pid: child.pid ?? -1,
    output,
    async stop() {
      await stopChild(child, 5000);
      removeDir(o.dir);
    },
  };
}
