// Several Switchboard nodes for the multi-node tests: each a real process on
// its own loopback address (one port number for all), sharing a fresh
// PostgreSQL database, every node's TLS identity issued by one CA, each
// linked to all the others over TLS (`node.peers`).
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { startSwitchboard, switchboardCli } from '../harness.ts';
import type { SwitchboardHandle } from '../harness.ts';
import { freePort, makeTempDir, removeDir } from '../process.ts';
import { switchboardUsersCsv } from '../users.ts';
import type { TestUser } from '../users.ts';
import { onCluster, postgresUrl, randomDatabaseName } from '../../unit/store/engines.ts';
import { ensureCertificates } from '../../../src/security/certs.ts';
import type { StatusSnapshot } from '../../../src/pbx/status/status.ts';

export interface NodeClusterOptions {
  names: readonly string[];
  /** One loopback address per node. */
  hosts: readonly string[];
  domain: string;
  users: readonly TestUser[];
  /** OPTIONS period on the links (1 s: a dead node shows within ~2 s). */
  keepaliveSec?: number;
  /** Worker processes of each node (default 1 each). */
  workers?: readonly number[];
}

export interface NodeCluster {
  readonly nodes: SwitchboardHandle[];
  /** The shared database. */
  readonly url: string;
  /** `switchboard status --json` of node i. */
  status(i: number): Promise<StatusSnapshot>;
  /** One query on the shared database. */
  rows<T = unknown>(sql: string, params?: unknown[]): Promise<T[]>;
  stop(): Promise<void>;
}

export async function startNodeCluster(o: NodeClusterOptions): Promise<NodeCluster> {
  const database = randomDatabaseName('sb_nodes');
  const url = postgresUrl(database);
  const nodes: SwitchboardHandle[] = [];
  const dir = makeTempDir('node-cluster');
  const stop = async (): Promise<void> => {
    for (const n of nodes) await n.stop();
    removeDir(dir);
    await onCluster((c) => c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
  };
  await onCluster((c) => c.query(`CREATE DATABASE ${database}`));
  try {
    // The users live in the shared database: imported once, every node sees them.
    const csv = join(dir, 'users.csv');
    writeFileSync(csv, switchboardUsersCsv(o.users));
    await switchboardCli(['user', 'import', csv, '--store', url, '--data-dir', dir], 120_000);
    // One CA for the solution, so every link verifies the peer it dials.
    await ensureCertificates(dir, { hostName: 'node-cluster-ca', ipAddresses: [], sipDomain: o.domain });
    const sipPort = await freePort();
    const tlsPort = await freePort();
    for (let i = 0; i < o.names.length; i++) {
      const peers = o.hosts.filter((_, j) => j !== i).map((h) => `sip:${h}:${tlsPort};transport=tls`);
      nodes.push(await startSwitchboard({
        host: o.hosts[i], sipPort, tlsPort, domain: o.domain, workers: o.workers?.[i] ?? 1, readyTimeoutMs: 60_000,
        config: {
          store: { url },
          node: { name: o.names[i], peers, keepaliveSec: o.keepaliveSec ?? 1 },
          media: { relay: { host: o.hosts[i] } },
        },
        beforeStart: async (dataDir) => {
          mkdirSync(join(dataDir, 'certs'), { recursive: true, mode: 0o700 });
          for (const f of ['ca.crt', 'ca.key']) copyFileSync(join(dir, 'certs', f), join(dataDir, 'certs', f));
        },
      }));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    nodes,
    url,
    async status(i) {
      const out = await switchboardCli(['status', '--json', '--data-dir', nodes[i]!.dataDir]);
      return JSON.parse(out.stdout) as StatusSnapshot;
    },
    async rows<T>(sql: string, params: unknown[] = []) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return (await client.query(sql, params)).rows as T[];
      } finally {
        await client.end();
      }
    },
    stop,
  };
}

/** The top Via's sent-by: who handed a phone this request. */
export function sentBy(req: { headers: readonly { name: string; value: string }[] }): string {
  return req.headers.find((h) => h.name === 'via')!.value;
}
