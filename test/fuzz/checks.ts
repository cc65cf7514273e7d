// What the network fuzzer asks of the server between batches and at the
// end: a legitimate client's probes, the server's processes and their memory
// after full GCs, and its overload control's counters.
import https from 'node:https';
import { readFileSync, readdirSync } from 'node:fs';
import type { GcHookReader } from '../../bench/lib/switchboard-proc.ts';
import type { SwitchboardHandle } from '../interop/harness.ts';
import { TestClient } from '../integration/lib/sip-client.ts';

/** The server's processes: the supervisor and its workers (not a short-lived helper it may run). */
export function serverPids(pid: number): number[] {
  const out = new Set([pid]);
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      for (const k of readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(/\s+/)) {
        if (k !== '' && readFileSync(`/proc/${k}/cmdline`, 'latin1').includes('switchboard.mjs')) out.add(Number(k));
      }
    }
  } catch {
    // Gone: the caller notices.
  }
  return [...out];
}

const MiB = 2 ** 20;

export interface Memory {
  /** RSS of all server processes after full garbage collections, MiB. */
  rss: number;
  /** V8 heap in use after them: live JavaScript data, MiB. */
  heap: number;
  /** Memory outside the heap that JavaScript objects hold (Buffers, native addons), MiB. */
  external: number;
}

/**
 * Memory of every server process right after two full GCs (bench/lib/gc-hook.mjs,
 * preloaded into the server and inherited by its workers): garbage V8 has
 * not yet collected would otherwise look like growth, or hide it.
 */
export async function measure(pids: readonly number[], hook: GcHookReader): Promise<Memory> {
  const m = { rss: 0, heap: 0, external: 0 };
  for (const pid of pids) {
    const r = await hook.request(pid, 10_000);
    if (r === null) throw new Error(`no memory report from server process ${pid}`);
    m.rss += r.rss / MiB;
    m.heap += r.heapUsed / MiB;
    m.external += r.external / MiB;
  }
  return m;
}

function httpsGet(port: number, ca: Buffer, path: string): Promise<{ status: number; body: string }> {
  return new Promise((res, rej) => {
    const req = https.get({ host: '127.0.0.1', port, path, ca, timeout: 5000 }, (r) => {
      let body = '';
      r.setEncoding('utf8').on('data', (c: string) => (body += c));
      r.on('end', () => res({ status: r.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`${path}: no answer within 5 s`)));
    req.on('error', rej);
  });
}

/** Requests the overload control turned away, all workers together (from /metrics). */
export async function overloadCounts(port: number, ca: Buffer): Promise<{ dropped: number; shed: number }> {
  const { body } = await httpsGet(port, ca, '/metrics');
  const sum = (event: string): number => {
    let n = 0;
    for (const m of body.matchAll(new RegExp(`^switchboard_sip_transaction_events_total\\{event="${event}"[^}]*\\} (\\d+)`, 'gm'))) n += Number(m[1]);
    return n;
  };
  return { dropped: sum('overload_dropped'), shed: sum('overload_shed') };
}

/** Who the probe is: the SIP domain, and a user no fuzz message touches (no ban can hit it). */
export interface ProbeUser {
  domain: string;
  ext: string;
  password: string;
}

/**
 * A legitimate client's view: OPTIONS over UDP, TCP and TLS, a REGISTER with
 * digest, /healthz, and with `deviceFetch` a phone's digest fetch of its own
 * file from the provisioning server (its HTTP status). Undefined when all
 * were answered right, else what was not; each failed try is added to `retried`.
 */
export async function probe(server: SwitchboardHandle, httpPort: number, ca: Buffer, who: ProbeUser, retried: string[],
  deviceFetch?: () => Promise<number>): Promise<string | undefined> {
  const tries = async (what: string, f: () => Promise<number>, want: number): Promise<string | undefined> => {
    let last = '';
    // A request without credentials may be shed unanswered (overload control), and UDP may lose a datagram: three tries of 3 s each.
    for (let i = 0; i < 3; i++) {
      try {
        const status = await f();
        if (status === want) return undefined;
        last = `status ${status}`;
      } catch (err) {
        last = (err as Error).message;
      }
      retried.push(`${what}: ${last}`);
    }
    return `probe ${what}: ${last}`;
  };
  const sip = async (transport: 'udp' | 'tcp' | 'tls', act: (c: TestClient) => Promise<number>): Promise<number> => {
    const port = transport === 'tls' ? server.tlsPort : server.udpPort;
    const c = await new TestClient(transport, server.host, port, { ca, servername: undefined }).open();
    try {
      return await act(c);
    } finally {
      c.close();
    }
  };
  const options = (c: TestClient): Promise<number> => c.request('OPTIONS', { uri: `sip:${who.domain}` }).then((r) => r.status);
  return (await tries('OPTIONS over UDP', () => sip('udp', options), 200)) ??
    (await tries('OPTIONS over TCP', () => sip('tcp', options), 200)) ??
    (await tries('OPTIONS over TLS', () => sip('tls', options), 200)) ??
    (await tries('REGISTER with digest over UDP', () => sip('udp', (c) => c.register(who.ext, who.password, { expires: 60 }).then((r) => r.status)), 200)) ??
    (await tries('GET /healthz', () => httpsGet(httpPort, ca, '/healthz').then((r) => r.status), 200)) ??
    (deviceFetch ? await tries('a device fetching its own file from the provisioning server', deviceFetch, 200) : undefined);
}

