// Connection bench (issue 11 item 1): how many idle TLS connections one
// server process holds, and the resident memory each costs. The server runs
// as a child process (one worker) under an open-file limit; the bench opens
// N TLS connections from many loopback addresses (127.0.x.y, so the
// per-source cap does not decide), each sends one OPTIONS (a phone's
// connection sends its REGISTER at once; one that never sends a complete
// message is closed by the incomplete-message deadline) and then stays idle.
// RSS comes from /proc/<pid>/status before the first connection and after the
// last, once settled; per connection = delta / connections held. The same
// after full GCs (lib/gc-hook.mjs), with the live heap beside: the first
// still holds handshake garbage the collector has not returned.
//
//   node --import tsx bench/connections.ts [--connections N] [--file-limit F] [--parallel P] [--hold S]
//
// With N above the server's budget (see its "connection budget" log line)
// the count held is the budget: the rest are evicted or refused. This
// process needs N file descriptors of its own (its soft limit is raised to
// the hard one by Node at start). Exit code 1 only when the plumbing broke.
import { parseArgs } from 'node:util';
import tls from 'node:tls';
import { loadavg } from 'node:os';
import { readFileSync } from 'node:fs';
import { machineLines } from './lib/machine.ts';
import { GcHookReader, gcHookArgs, mib, procMemory, startServerProc } from './lib/switchboard-proc.ts';
import { freePort, makeTempDir, removeDir } from '../test/interop/harness.ts';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function int(name: string, v: string | undefined, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer in ${min}..${max}`);
  return n;
}

function ownFileLimit(): number {
  const line = readFileSync('/proc/self/limits', 'latin1').split('\n').find((l) => l.startsWith('Max open files'))!;
  return Number(line.trim().split(/\s+/)[3]);
}

function optionsFor(i: number, local: string, localPort: number): string {
  return `OPTIONS sip:bench@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TLS ${local}:${localPort};branch=z9hG4bKconn${i}\r\n`
    + `From: <sip:c${i}@bench>;tag=${i}\r\nTo: <sip:bench@127.0.0.1>\r\nCall-ID: conn-${i}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      connections: { type: 'string', default: '10000' },
      'file-limit': { type: 'string' },
      parallel: { type: 'string', default: '64' },
      hold: { type: 'string', default: '10' },
    },
  });
  const n = int('connections', values.connections, 1, 200_000);
  const fileLimit = values['file-limit'] === undefined ? undefined : int('file-limit', values['file-limit'], 256, 1_048_576);
  const parallel = int('parallel', values.parallel, 1, 1000);
  const holdSec = int('hold', values.hold, 1, 600);
  if (ownFileLimit() < n + 200) throw new Error(`this process may open ${ownFileLimit()} files; ${n} connections need ${n + 200}`);

  for (const l of machineLines()) console.log(l);
  console.log(`load before: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const dataDir = makeTempDir('sb-conn-');
  const tlsPort = await freePort();
  const hook = new GcHookReader();
  const server = await startServerProc({
    dataDir, domain: 'lab.test', logLevel: 'info', fileLimit, tls: `127.0.0.1:${tlsPort}`, nodeArgs: gcHookArgs(), onOutput: (c) => hook.feed(c),
  });
  try {
    const out = server.output();
    const budgetLine = out.split('\n').find((l) => l.includes('"connection budget"'));
    const budget = budgetLine ? (JSON.parse(budgetLine) as { fileLimit: number; sipConnections: number; sipPerSource: number }) : undefined;
    if (!budget) throw new Error(`no budget line in the server's output:\n${out}`);
    console.log(`server: file limit ${budget.fileLimit}, SIP budget ${budget.sipConnections}, per source ${budget.sipPerSource}`);
    await sleep(2000);
    const before = procMemory(server.pid)!;
    const beforeGc = await hook.request(server.pid);

    const perAddress = Math.max(1, Math.min(100, Math.floor(budget.sipPerSource / 2)));
    const sockets: tls.TLSSocket[] = [];
    let answered = 0;
    let next = 0;
    const started = performance.now();
    const worker = async () => {
      while (next < n) {
        const i = next++;
        const local = `127.0.${20 + Math.floor(i / perAddress / 250)}.${(Math.floor(i / perAddress) % 250) + 1}`;
        await new Promise<void>((resolve) => {
          // tls.connect hands localAddress to the socket's connect(); its type leaves it out.
          const s = tls.connect({ host: '127.0.0.1', port: tlsPort, localAddress: local, rejectUnauthorized: false } as tls.ConnectionOptions);
          sockets.push(s);
          s.on('error', () => resolve());
          s.once('close', () => resolve());
          s.once('secureConnect', () => {
            s.write(optionsFor(i, local, s.localPort ?? 0));
            s.once('data', () => {
              answered++;
              resolve();
            });
          });
        });
      }
    };
    await Promise.all(Array.from({ length: parallel }, worker));
    const openSec = (performance.now() - started) / 1000;
    await sleep(holdSec * 1000);
    const held = sockets.filter((s) => !s.destroyed && !s.readableEnded).length;
    const after = procMemory(server.pid)!;
    const afterGc = await hook.request(server.pid);
    const per = (bytes: number) => (held > 0 ? `${(bytes / held / 1024).toFixed(1)} KiB` : 'n/a');
    console.log(`connections: ${n} opened in ${openSec.toFixed(1)} s (${answered} answered), ${held} held after ${holdSec} s idle`);
    console.log(`server RSS: ${mib(before.rss)} before, ${mib(after.rss)} with ${held} idle TLS connections: ${per(after.rss - before.rss)} each`);
    if (beforeGc && afterGc) {
      console.log(`after full GC: RSS ${mib(beforeGc.rss)} -> ${mib(afterGc.rss)} (${per(afterGc.rss - beforeGc.rss)} each), `
        + `live heap ${mib(beforeGc.heapUsed)} -> ${mib(afterGc.heapUsed)} (${per(afterGc.heapUsed - beforeGc.heapUsed)} each), `
        + `external ${mib(beforeGc.external)} -> ${mib(afterGc.external)} (${per(afterGc.external - beforeGc.external)} each)`);
    }
    console.log(`load after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    for (const s of sockets) s.destroy();
    if (answered === 0) process.exitCode = 1;
  } finally {
    await server.stop();
    removeDir(dataDir);
  }
}

await main();
