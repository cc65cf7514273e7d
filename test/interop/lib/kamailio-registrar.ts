// Debian's Kamailio as the upstream registrar of the gateway's lines: the
// bench's registrar config (bench/kamailio/config.ts: usrloc in memory,
// digest by pv_auth_check against per-user passwords) plus the ctl module,
// so the test reads Kamailio's own counters (accepted REGISTERs, users in
// its location table) with kamcmd.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeKamailioConfig } from '../../../bench/kamailio/config.ts';
import { checkConfig, runKamailio } from '../../../bench/kamailio/server.ts';
import { LOOPBACK, freePort, makeTempDir, removeDir, requireTool } from '../process.ts';
import type { TestUser } from '../users.ts';

/** kamcmd's whole output; it waits on stdin when stdin is a pipe, so stdin is closed. */
function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('error', reject);
    child.once('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

export interface KamailioRegistrar {
  readonly host: string;
  readonly port: number;
  readonly pid: number;
  /** registrar:accepted_regs (every REGISTER it accepted, refreshes included). */
  acceptedRegs(): Promise<number>;
  /** usrloc:location_contacts (bindings in its location table now). */
  contacts(): Promise<number>;
  output(): string;
  stop(): Promise<void>;
}

export async function startKamailioRegistrar(o: { users: readonly TestUser[]; domain: string; port?: number; children?: number }): Promise<KamailioRegistrar> {
  const kamcmd = requireTool('kamcmd');
  const dir = makeTempDir('kamailio-upstream');
  const port = o.port ?? (await freePort());
  const ctl = join(dir, 'ctl.sock');
  let configFile: string;
  try {
    ({ configFile } = writeKamailioConfig({ dir, host: LOOPBACK, port, domain: o.domain, users: o.users, children: o.children ?? 2 }));
    const text = readFileSync(configFile, 'utf8').replace('loadmodule "kex.so"', `loadmodule "kex.so"\nloadmodule "ctl.so"\nmodparam("ctl", "binrpc", "unix:${ctl}")`);
    writeFileSync(configFile, text);
    checkConfig(configFile);
  } catch (err) {
    removeDir(dir);
    throw err;
  }
  const k = await runKamailio({ configFile, dir, host: LOOPBACK, port, shmMb: 256 });
  const stat = async (name: string): Promise<number> => {
    // A single name answers nothing on this version: read them all.
    const out = await run(kamcmd, ['-s', `unix:${ctl}`, 'stats.get_statistics', 'all']);
    const m = new RegExp(`^${name} = (\\d+)$`, 'm').exec(out);
    if (!m) throw new Error(`kamcmd ${name}: ${out}`);
    return Number(m[1]);
  };
  return {
    host: LOOPBACK, port, pid: k.pid, output: k.output, stop: k.stop,
    acceptedRegs: () => stat('registrar:accepted_regs'),
    contacts: () => stat('usrloc:location_contacts'),
  };
}
