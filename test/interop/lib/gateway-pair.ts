// Two spawned Switchboards for the handset gateway's end-to-end tests (issue
// 15): an upstream call server and a gateway whose users each hold a line
// (an account) on the upstream, over TLS with one CA for both, each on its
// own data directory so either can be stopped and started again on it. The
// pair can run in two network namespaces joined by a veth pair (loss of
// connectivity: the link is set down and up).
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startSwitchboard } from '../harness.ts';
import type { StartOptions, SwitchboardHandle } from '../harness.ts';
import { LOOPBACK, freePort, makeTempDir, removeDir, runTool, describeRun } from '../process.ts';
import { makeUsers } from '../users.ts';
import type { TestUser } from '../users.ts';
import { ensureCertificates } from '../../../src/security/certs.ts';
import { openStoreAt } from '../../../src/store/open.ts';
import type { Store } from '../../../src/store/types.ts';
import type { GatewaySettingsPatch, GatewayStatus } from '../../../src/model/gateway.ts';
import { askControlSocket, controlSocketPath } from '../../../src/pbx/status/control-socket.ts';
import type { StatusSnapshot } from '../../../src/pbx/status/status.ts';

export const UPSTREAM_DOMAIN = 'upstream.test';
export const GATEWAY_DOMAIN = 'gw.test';

/** Two namespaces and the veth pair between them; addresses exist only inside them. */
export interface NetnsPair {
  gw: string;
  up: string;
  gwLink: string;
  gwAddr: string;
  upAddr: string;
  /** `ip link set <gateway side> up|down` (both ends go down with one side of a veth pair). */
  link(up: boolean): Promise<void>;
  remove(): Promise<void>;
}

async function ip(args: string[]): Promise<void> {
  const r = await runTool('ip', args, { timeoutMs: 10_000 });
  if (r.code !== 0) throw new Error(`ip ${args.join(' ')} failed\n${describeRun(r)}`);
}

/** Creates the namespaces (names unique to this process) with 10.199.0.1/30 (gateway) and 10.199.0.2/30 (upstream). */
export async function createNetnsPair(): Promise<NetnsPair> {
  const tag = String(process.pid % 100_000);
  const pair: NetnsPair = {
    gw: `sbgw-gw-${tag}`, up: `sbgw-up-${tag}`, gwLink: `sbg${tag}`, gwAddr: '10.199.0.1', upAddr: '10.199.0.2',
    link: (on) => ip(['-n', pair.gw, 'link', 'set', pair.gwLink, on ? 'up' : 'down']),
    async remove() {
      // Deleting a namespace deletes the veth pair with it.
      for (const ns of [pair.gw, pair.up]) await runTool('ip', ['netns', 'delete', ns], { timeoutMs: 10_000 });
    },
  };
  const upLink = `sbu${tag}`;
  try {
    await ip(['netns', 'add', pair.gw]);
    await ip(['netns', 'add', pair.up]);
    await ip(['link', 'add', pair.gwLink, 'type', 'veth', 'peer', 'name', upLink]);
    await ip(['link', 'set', pair.gwLink, 'netns', pair.gw]);
    await ip(['link', 'set', upLink, 'netns', pair.up]);
    await ip(['-n', pair.gw, 'addr', 'add', `${pair.gwAddr}/30`, 'dev', pair.gwLink]);
    await ip(['-n', pair.up, 'addr', 'add', `${pair.upAddr}/30`, 'dev', upLink]);
    for (const [ns, dev] of [[pair.gw, pair.gwLink], [pair.up, upLink]] as const) {
      await ip(['-n', ns, 'link', 'set', 'lo', 'up']);
      await ip(['-n', ns, 'link', 'set', dev, 'up']);
    }
  } catch (err) {
    await pair.remove();
    throw err;
  }
  return pair;
}

export interface GatewayPairOptions {
  /** Gateway users (and upstream accounts): one line each. */
  lines: number;
  netns?: NetnsPair;
  /** Over the defaults here: mode gateway, TLS, the upstream's domain, 60 s registrations. */
  gateway?: GatewaySettingsPatch;
  /** Config of the upstream server (voicemail is on). */
  upstreamConfig?: Record<string, unknown>;
  gatewayConfig?: Record<string, unknown>;
  /** Runs on the upstream's store before its first start (e.g. messages to wait). */
  seedUpstream?: (store: Store) => Promise<void>;
  /** Runs on the gateway's store before its first start, after lines and settings. */
  seedGateway?: (store: Store) => Promise<void>;
  /** Extra local (non-gateway) users of the gateway and of the upstream (desk phones). */
  extraGatewayUsers?: readonly TestUser[];
  extraUpstreamUsers?: readonly TestUser[];
}

export interface GatewayPair {
  up: SwitchboardHandle;
  gw: SwitchboardHandle;
  /** The gateway's users (handsets), line i is gwUsers[i] → upUsers[i]. */
  gwUsers: TestUser[];
  upUsers: TestUser[];
  /** Where the gateway's proxy dials the upstream's TLS listener. */
  upstreamAddress: string;
  gatewayStatus(): Promise<GatewayStatus>;
  upstreamStatus(): Promise<StatusSnapshot>;
  /** SIGTERM and start again on the same data dir and ports; resolves once it is ready. */
  restartGateway(): Promise<void>;
  restartUpstream(): Promise<void>;
  stop(): Promise<void>;
}

const GATEWAY_FIRST = 1000;
const UPSTREAM_FIRST = 4000;

export async function startGatewayPair(o: GatewayPairOptions): Promise<GatewayPair> {
  const dir = makeTempDir('gateway-pair');
  const upDir = join(dir, 'upstream');
  const gwDir = join(dir, 'gateway');
  mkdirSync(upDir);
  mkdirSync(gwDir);
  // One CA for both: each issues its own leaf (naming its listen address) from it, so the gateway verifies the upstream it dials.
  const caDir = join(dir, 'ca');
  await ensureCertificates(caDir, { hostName: 'gateway-pair-ca', ipAddresses: [], sipDomain: UPSTREAM_DOMAIN });
  const useCa = async (dataDir: string): Promise<void> => {
    mkdirSync(join(dataDir, 'certs'), { recursive: true, mode: 0o700 });
    for (const f of ['ca.crt', 'ca.key']) copyFileSync(join(caDir, 'certs', f), join(dataDir, 'certs', f));
  };
  const gwUsers = makeUsers(o.lines, GATEWAY_FIRST, 'hs');
  const upUsers = makeUsers(o.lines, UPSTREAM_FIRST, 'up');
  const upHost = o.netns?.upAddr ?? LOOPBACK;
  const gwHost = o.netns?.gwAddr ?? LOOPBACK;
  const upPorts = { sipPort: await freePort(), tlsPort: await freePort() };
  const gwPorts = { sipPort: await freePort(), tlsPort: await freePort() };
  // One process each: `gateway status` is answered by the process that runs the lines (see the report on workers).
  const upOpts: StartOptions = {
    workers: 1, domain: UPSTREAM_DOMAIN, host: upHost, ...upPorts, dataDir: upDir, netns: o.netns?.up, readyTimeoutMs: 90_000,
    config: {
      ...o.upstreamConfig,
      registrar: { minExpiresSec: 30, ...(o.upstreamConfig?.registrar as object | undefined) },
      voicemail: { enabled: true, ...(o.upstreamConfig?.voicemail as object | undefined) },
      media: { relay: { host: upHost }, ...(o.upstreamConfig?.media as object | undefined) },
    },
  };
  const gwOpts: StartOptions = {
    workers: 1, domain: GATEWAY_DOMAIN, host: gwHost, ...gwPorts, dataDir: gwDir, netns: o.netns?.gw, readyTimeoutMs: 90_000,
    config: { ...o.gatewayConfig, media: { relay: { host: gwHost }, ...(o.gatewayConfig?.media as object | undefined) } },
  };
  const upstreamAddress = `${upHost}:${upPorts.tlsPort}`;
  let up: SwitchboardHandle | undefined;
  let gw: SwitchboardHandle | undefined;
  const stop = async (): Promise<void> => {
    await gw?.stop();
    await up?.stop();
    removeDir(dir);
  };
  try {
    up = await startSwitchboard({
      ...upOpts, users: [...upUsers, ...(o.extraUpstreamUsers ?? [])],
      beforeStart: async (dataDir) => {
        await useCa(dataDir);
        if (o.seedUpstream) await withStore(dataDir, o.seedUpstream);
      },
    });
    gw = await startSwitchboard({
      ...gwOpts, users: [...gwUsers, ...(o.extraGatewayUsers ?? [])],
      beforeStart: async (dataDir) => {
        await useCa(dataDir);
        await withStore(dataDir, async (store) => {
          await store.gateway.addProxy({ uri: `sip:${upstreamAddress};transport=tls`, priority: 1 });
          for (let i = 0; i < o.lines; i++) {
            await store.gateway.setLine({ extension: gwUsers[i]!.ext, upstreamUser: upUsers[i]!.ext, password: upUsers[i]!.password });
          }
          await store.gateway.updateSettings({ mode: 'gateway', transport: 'tls', defaultDomain: UPSTREAM_DOMAIN, registerExpiresSec: 60, ...o.gateway });
          if (o.seedGateway) await o.seedGateway(store);
        });
      },
    });
  } catch (err) {
    await stop();
    throw err;
  }
  const pair: GatewayPair = {
    up, gw, gwUsers, upUsers, upstreamAddress,
    async gatewayStatus() {
      return (await askControlSocket<{ gateway: GatewayStatus }>(controlSocketPath(gwDir), { op: 'gateway-status' }, 10_000)).gateway;
    },
    async upstreamStatus() {
      return (await askControlSocket<{ status: StatusSnapshot }>(controlSocketPath(upDir), { op: 'status' }, 10_000)).status;
    },
    async restartGateway() {
      await pair.gw.stop();
      pair.gw = await startSwitchboard(gwOpts);
    },
    async restartUpstream() {
      await pair.up.stop();
      pair.up = await startSwitchboard(upOpts);
    },
    stop: async () => {
      up = pair.up;
      gw = pair.gw;
      await stop();
    },
  };
  return pair;
}

async function withStore(dataDir: string, run: (store: Store) => Promise<void>): Promise<void> {
  const store = await openStoreAt(undefined, dataDir);
  try {
    await run(store);
  } finally {
    await store.close();
  }
}

/** Bounded poll (real time): resolves with the last value once done(v), or throws naming what is still missing. */
export async function pollUntil<T>(read: () => Promise<T>, missing: (v: T) => readonly string[], what: string, timeoutMs: number, everyMs = 250): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: T | undefined;
  let left: readonly string[] = ['(no answer yet)'];
  let lastErr: unknown;
  while (Date.now() < end) {
    try {
      last = await read();
      left = missing(last);
      if (left.length === 0) return last;
    } catch (err) {
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  const why = lastErr ? ` (last error: ${(lastErr as Error).message})` : '';
  throw new Error(`${what}: still missing after ${timeoutMs} ms (${left.length}): ${left.slice(0, 60).join(', ')}${why}`);
}
