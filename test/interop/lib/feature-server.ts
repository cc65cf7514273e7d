// A Switchboard in this test process for the feature interop tests
// (transfer, short codes, hunt groups): the third-party phones talk to its
// real UDP/TCP/TLS listeners, and the test sets users, their features
// (forwarding, DND, follow me, pickup group), hunt groups and short codes
// straight in its store, the way the integration tests do, then reads back
// every SIP message it sent and received (sip-tap.ts).
import type { ConfigInput } from '../../../src/config/schema.ts';
import type { Server } from '../../../src/server.ts';
import type { HuntGroupInput, User, UserInput, UserPatch } from '../../../src/store/types.ts';
import { startTestServer } from '../../integration/lib/server.ts';
import type { TestServer } from '../../integration/lib/server.ts';
import type { SipTransport } from '../baresip.ts';
import type { Fixture } from '../harness.ts';
import { fixture, makeTempDir, removeDir, requireTool } from '../harness.ts';
import { LOOPBACK } from '../process.ts';
import type { TestUser } from '../users.ts';
import type { PortRange } from './baresip-phone.ts';
import type { SipServer } from './sipp-calls.ts';
import { SipTap } from './sip-tap.ts';

/**
 * The relay's ports: above the phones' RTP ranges (30000-32599, baresip-calls.ts),
 * below the kernel's ephemeral ports, away from SIPp's media ports (10000-19999):
 * a packet's port tells whether it touched the relay. Same range as media-flows.ts.
 */
export const FEATURE_RELAY_PORTS: PortRange = { min: 32620, max: 32767 };

export interface FeatureServer {
  ts: TestServer;
  server: Server;
  domain: string;
  host: string;
  udpPort: number;
  tcpPort: number;
  tlsPort: number;
  tap: SipTap;
  /** Adds users (with any store fields, e.g. media or features) and makes the running server see them. */
  addUsers(users: readonly TestUser[], extra?: Partial<UserInput>): Promise<void>;
  /** store.users.update + directory poll. */
  setUser(ext: string, patch: UserPatch): Promise<User>;
  user(ext: string): Promise<User>;
  /** store.huntGroups.add + directory poll. */
  addHuntGroup(input: HuntGroupInput): Promise<void>;
  port(t: SipTransport): number;
  /** SIPp's view (UDP). */
  sipp: SipServer;
  /** The server's log and the SIP trace, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

function formatLog(ts: TestServer, last: number): string {
  return ts.log.entries
    .slice(-last)
    .map((e) => `${e.level} ${e.msg ?? ''} ${JSON.stringify(e.obj)}`)
    .join('\n');
}

/** extra: more configuration (e.g. registrar limits); sip.domain and the relay are set here. */
export async function startFeatureServer(domain = 'lab.test', extra: ConfigInput = {}): Promise<FeatureServer> {
  const ts = await startTestServer({
    config: {
      ...extra,
      sip: { ...extra.sip, domain },
      media: { ...extra.media, relay: { host: LOOPBACK, portMin: FEATURE_RELAY_PORTS.min, portMax: FEATURE_RELAY_PORTS.max } },
    },
  });
  let tap: SipTap;
  try {
    tap = SipTap.attach(ts.server);
  } catch (err) {
    await ts.stop();
    throw err;
  }
  const server = ts.server;
  const output = (): string =>
    `--- switchboard (in-process) log, last 60 ---\n${formatLog(ts, 60)}\n--- SIP seen by switchboard, last 120 ---\n${tap.dump({ last: 120 })}`;
  const fs: FeatureServer = {
    ts,
    server,
    domain,
    host: ts.host,
    udpPort: ts.sipPort,
    tcpPort: ts.sipPort,
    tlsPort: ts.tlsPort,
    tap,
    async addUsers(users, extra = {}) {
      for (const u of users) await server.store.users.add({ ...extra, extension: u.ext, password: u.password, name: u.name ?? '' });
      await server.directory.poll();
    },
    async setUser(ext, patch) {
      const u = await server.store.users.update(ext, patch);
      await server.directory.poll();
      return u;
    },
    async user(ext) {
      const u = await server.store.users.getByExtension(ext);
      if (u === undefined) throw new Error(`no user ${ext} in the store`);
      return u;
    },
    async addHuntGroup(input) {
      const repo = (server.store as { huntGroups?: { add(i: HuntGroupInput): unknown } }).huntGroups;
      if (repo === undefined) throw new Error('store.huntGroups does not exist (hunt groups not landed in src/store yet)');
      repo.add(input);
      await server.directory.poll();
    },
    port: (t) => (t === 'tls' ? ts.tlsPort : ts.sipPort),
    sipp: { name: 'switchboard', host: ts.host, udpPort: ts.sipPort, domain, output },
    output,
    stop: () => ts.stop(),
  };
  return fs;
}

/** What a feature test file gets from its fixture: the server and a temp dir of its own. */
export interface FeatureEnv {
  fs: FeatureServer;
  workDir: string;
}

export interface FeatureFixtureOptions {
  /** Names the temp dir (makeTempDir). */
  name: string;
  /** Programs the file needs on PATH (requireTool), checked first. */
  tools: readonly string[];
  domain?: string;
  /** More configuration for startFeatureServer. */
  config?: ConfigInput;
  /** Users, hunt groups, settings: runs once the server is up. */
  prepare(fs: FeatureServer): void | Promise<void>;
}

/**
 * The per-file fixture of the feature interop tests: checks the tools, makes
 * a temp dir, starts a FeatureServer and prepares it; whatever fails stops
 * what had started (so a failed start fails every test, see harness.ts
 * fixture). Teardown stops the server and removes the dir.
 */
export function featureServerFixture(o: FeatureFixtureOptions): Fixture<FeatureEnv> {
  return fixture(
    async (): Promise<FeatureEnv> => {
      for (const t of o.tools) requireTool(t);
      const workDir = makeTempDir(o.name);
      try {
        const fs = await startFeatureServer(o.domain, o.config);
        try {
          await o.prepare(fs);
          return { fs, workDir };
        } catch (err) {
          await fs.stop();
          throw err;
        }
      } catch (err) {
        removeDir(workDir);
        throw err;
      }
    },
    async ({ fs, workDir }) => {
      await fs.stop();
      removeDir(workDir);
    },
  );
}
