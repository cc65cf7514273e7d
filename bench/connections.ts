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
// the count held is the budget: the rest are evicted or refused. First, a
// 10 MB CRLF keep-alive flood on one TCP connection: the server's CPU for it,
// the pongs it sent, and the round trip of UDP OPTIONS sent one after the
// other meanwhile (issue 11 found 8-9 s of CPU and 331 ms per UDP answer). This
// process needs N file descriptors of its own (its soft limit is raised to
// the hard one by Node at start). Exit code 1 only when the plumbing broke.
import { parseArgs } from 'node:util';
import tls from 'node:tls';
import { loadavg } from 'node:os';
import { readFileSync } from 'node:fs';
import dgram from 'node:dgram';
import net from 'node:net';
import { treeCpuSeconds } from './lib/cpu.ts';
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

/** 10 MB of CRLF on one TCP connection, then an OPTIONS on it; UDP OPTIONS one after the other until that is answered. */
async function crlfFlood(pid: number, tcpPort: number, udpPort: number): Promise<void> {
  const udp = dgram.createSocket('udp4');
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
  const udpLocal = udp.address().port;
  const rtts: number[] = [];
  const udpOptions = (i: number) => new Promise<void>((resolve) => {
    const t0 = performance.now();
    const timer = setTimeout(() => done(), 5_000);
    function done(): void {
      clearTimeout(timer);
      udp.off('message', onMessage);
      rtts.push(performance.now() - t0);
      resolve();
    }
    function onMessage(m: Buffer): void {
      if (m.includes(`Call-ID: flood-udp-${i}\r\n`)) done();
    }
    udp.on('message', onMessage);
    udp.send(`OPTIONS sip:bench@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${udpLocal};branch=z9hG4bKfu${i}\r\nFrom: <sip:u@bench>;tag=u\r\n`
      + `To: <sip:bench@127.0.0.1>\r\nCall-ID: flood-udp-${i}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`, udpPort, '127.0.0.1');
  });
  for (let i = 0; i < 20; i++) await udpOptions(-1 - i); // warm-up and a baseline
  const baseline = [...rtts].sort((a, b) => a - b)[10]!;
  rtts.length = 0;
  const sock = net.connect({ host: '127.0.0.1', port: tcpPort });
  await new Promise((r) => sock.once('connect', r));
  let got = '';
  sock.on('data', (d: Buffer) => (got += d.toString('latin1')));
  const cpu0 = treeCpuSeconds(pid);
  const started = performance.now();
  const mb = Buffer.alloc(1024 * 1024, '\r\n');
  for (let i = 0; i < 10; i++) sock.write(mb);
  sock.write(optionsFor(0, '127.0.0.1', sock.localPort ?? 0).replace('TLS', 'TCP'));
  let i = 0;
  while (!got.includes('SIP/2.0 200') && i < 10_000) await udpOptions(i++);
  const seconds = (performance.now() - started) / 1000;
  const cpu1 = treeCpuSeconds(pid);
  const cpuSec = cpu0 === null || cpu1 === null ? null : cpu1 - cpu0;
  const pongs = got.slice(0, got.indexOf('SIP/2.0')).length / 2;
  const sorted = [...rtts].sort((a, b) => a - b);
  console.log(`CRLF flood: 10 MB on one TCP connection read in ${seconds.toFixed(2)} s, server CPU ${cpuSec?.toFixed(2) ?? 'n/a'} s, ${pongs} pongs; `
    + `${rtts.length} UDP OPTIONS meanwhile: median ${sorted[sorted.length >> 1]?.toFixed(1)} ms, max ${sorted[sorted.length - 1]?.toFixed(1)} ms (idle: ${baseline.toFixed(1)} ms)`);
  sock.destroy();
  udp.close();
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
  const tcpPort = await freePort();
  const hook = new GcHookReader();
  const server = await startServerProc({
    dataDir, domain: 'lab.test', logLevel: 'info', fileLimit, tcp: `127.0.0.1:${tcpPort}`, tls: `127.0.0.1:${tlsPort}`, nodeArgs: gcHookArgs(), onOutput: (c) => hook.feed(c),
  });
  try {
    const out = server.output();
    const budgetLine = out.split('\n').find((l) => l.includes('"connection budget"'));
    const budget = budgetLine ? (JSON.parse(budgetLine) as { fileLimit: number; sipConnections: number; sipPerSource: number }) : undefined;
    if (!budget) throw new Error(`no budget line in the server's output:\n${out}`);
    console.log(`server: file limit ${budget.fileLimit}, SIP budget ${budget.sipConnections}, per source ${budget.sipPerSource}`);
    await crlfFlood(server.pid, tcpPort, server.udpPort);
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
