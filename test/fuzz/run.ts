// Fuzzers for the SIP stack, seeded: the same --seed sends the same messages
// (only the local ports in Via and the server's nonces differ between runs).
//
//   npm run fuzz -- [--seed X] [--messages N] [--rate R] [--seconds S] [--batch B] [--workers W]
//                   [--rss-growth-mib M] [--heap-growth-mib H] [--log-lines-per-minute L]
//
//     Network mode (the default; test/fuzz/network.ts). A real server
//     (`switchboard start` in a temp data dir: UDP, TCP and TLS on loopback,
//     management HTTPS on, users provisioned, W workers, default 2) gets N
//     messages (default 200,000) at R per second at most (default 2,000):
//     mutated corpus messages and hostile well-framed ones (random methods,
//     huge Via lists, wrong Content-Length, bogus and correct credentials,
//     responses to nothing, CANCEL/ACK/BYE for nothing). About 55 % go over
//     UDP, 40 % over four TCP connections (reopened whenever the server closes
//     one for a framing error), 5 % over TLS, and 5 % at the media server's
//     UDP port (its 'media server listening' log line), which takes requests
//     only from the server's own listener: one datagram back from it fails
//     the run. Another 5 % are hostile HTTP requests at the provisioning
//     HTTPS listener (provisioning.ts: traversal, other devices' MACs, URL
//     tokens guessed, every method, digest headers garbage or with wrong
//     passwords, lying body lengths, byte mutations); an answer holding a
//     line or device password or a token fails the run. Every B messages (default
//     10,000) sending pauses and a client on 127.0.0.1 must get OPTIONS
//     answered over UDP, TCP and TLS, a REGISTER with digest, /healthz, and a
//     phone its own file from the provisioning server by digest.
//     It fails when a server process exits, a probe goes unanswered, the
//     server's RSS after full GCs grows more than M MiB (default 40) or its
//     V8 heap in use more than H MiB (default 10) from the end of warm-up
//     (30 % of the messages and 30 s; not judged in shorter runs) to the
//     end, the server logs more than L lines per minute (default 60:
//     per-packet logging would be ~100,000), or logs any error or stack trace. --seconds S stops sending after S
//     seconds. On failure test-artifacts/fuzz/network-seed<X>/ gets the
//     summary, the last 200 inputs (exact bytes in last-inputs.jsonl) and the
//     server's log tail, and the exit code is 1. A full run takes about 2
//     minutes; .ci/run runs one with the date as the seed.
//
//   npm run fuzz -- --in-process [--iterations N] [--seconds S] [--seed X]
//     Mutated messages straight into the parser, serializer and framer
//     (test/fuzz/parser.ts): nothing may throw, and what parses must survive
//     serialize -> parse. Failing inputs go to test-artifacts/fuzz/.
//     test/unit/sip/fuzz.test.ts runs a short pass of it.
//
// Corpus: every RFC 4475/5118 torture message plus a few everyday messages
// (corpus.ts), mutated by mutate.ts; hostile.ts makes the well-framed ones.

import { mkdirSync, writeFileSync } from 'node:fs';
import { NETWORK_DEFAULTS, runNetworkFuzz } from './network.ts';
import type { NetworkReport } from './network.ts';
import { runFuzz } from './parser.ts';

const OUT_DIR = new URL('../../test-artifacts/fuzz/', import.meta.url);

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function num(name: string): number | undefined {
  const v = arg(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name}: expected a number, got ${JSON.stringify(v)}`);
  return n;
}

function inProcess(seed: number): void {
  const seconds = num('--seconds');
  const iterations = num('--iterations') ?? (seconds === undefined ? 100_000 : undefined);
  console.log(`fuzz (in-process): seed=${seed} iterations=${iterations ?? '-'} seconds=${seconds ?? '-'}`);
  const t0 = Date.now();
  let shown = 0;
  const report = runFuzz({
    seed,
    ...(iterations !== undefined ? { iterations } : {}),
    ...(seconds !== undefined ? { seconds } : {}),
    onFailure: (input, problem, it) => {
      if (++shown > 20) return;
      mkdirSync(OUT_DIR, { recursive: true });
      const file = new URL(`seed${seed}-it${it}.bin`, OUT_DIR);
      writeFileSync(file, input);
      console.log(`FAIL at iteration ${it}: ${problem.split('\n')[0]} -> ${file.pathname}`);
    },
  });
  const secs = (Date.now() - t0) / 1000;
  console.log(`fuzz: ${report.iterations} inputs in ${secs.toFixed(1)} s, ${report.accepted} accepted, ${report.failures} failures`);
  process.exitCode = report.failures > 0 ? 1 : 0;
}

/** The seed, what failed, the last inputs (exact bytes, base64, one JSON per line) and the server's log tail. */
function writeNetworkFailure(seed: number, argv: string[], r: NetworkReport): string {
  const dir = new URL(`network-seed${seed}/`, OUT_DIR);
  mkdirSync(dir, { recursive: true });
  const { lastInputs, logTail, ...summary } = r;
  writeFileSync(new URL('summary.json', dir), `${JSON.stringify({ seed, argv, ...summary }, null, 2)}\n`);
  writeFileSync(new URL('last-inputs.jsonl', dir), lastInputs.map((x) => JSON.stringify({ index: x.index, channel: x.channel, base64: x.data.toString('base64') })).join('\n') + '\n');
  writeFileSync(new URL('last-inputs.txt', dir), lastInputs.map((x) => `=== #${x.index} via ${x.channel} (${x.data.length} bytes)\n${x.data.toString('latin1').slice(0, 4000)}`).join('\n'));
  writeFileSync(new URL('server-log-tail.txt', dir), `${logTail}\n`);
  return dir.pathname;
}

async function network(seed: number): Promise<void> {
  const messages = num('--messages') ?? NETWORK_DEFAULTS.messages;
  const seconds = num('--seconds');
  const r = await runNetworkFuzz({
    seed,
    messages,
    rate: num('--rate') ?? NETWORK_DEFAULTS.rate,
    ...(seconds !== undefined ? { seconds } : {}),
    batch: num('--batch') ?? Math.min(NETWORK_DEFAULTS.batch, Math.max(1, Math.ceil(messages / 10))),
    workers: num('--workers') ?? NETWORK_DEFAULTS.workers,
    rssGrowthMiB: num('--rss-growth-mib') ?? NETWORK_DEFAULTS.rssGrowthMiB,
    heapGrowthMiB: num('--heap-growth-mib') ?? NETWORK_DEFAULTS.heapGrowthMiB,
    logLinesPerMinute: num('--log-lines-per-minute') ?? NETWORK_DEFAULTS.logLinesPerMinute,
    log: (line) => console.log(line),
  });
  const rate = r.seconds > 0 ? Math.round(r.sent / r.seconds) : 0;
  console.log(`fuzz: ${r.sent} messages in ${r.seconds.toFixed(1)} s of sending (${rate}/s), ${r.probes} probe rounds, ${r.probeRetries.length} probe tries went unanswered${r.probeRetries.length > 0 ? ` (first: ${r.probeRetries[0]})` : ''}`);
  for (const [name, c] of Object.entries(r.perChannel)) console.log(`fuzz:   ${name}: ${c.sent} sent, ${c.received} answers read, closed by the server ${c.closedByServer} times${c.stalls > 0 ? `, stalled ${c.stalls} times (given up after 2 s unread)` : ''}`);
  const m = r.memory;
  const f = (k: 'rss' | 'heap') => `${m.start[k].toFixed(1)} MiB at start, ${m.afterWarmup[k].toFixed(1)} after warm-up, ${m.end[k].toFixed(1)} at the end (max ${m.max[k].toFixed(1)})`;
  console.log(`fuzz: server RSS after full GCs: ${f('rss')}; V8 heap used: ${f('heap')}`);
  if (m.afterWarmup.rss === 0) console.log('fuzz: memory not judged: the run ended inside the warm-up (30 % of the messages and 30 s)');
  console.log(`fuzz: the server's overload control dropped ${r.overload.dropped} requests without credentials and refused ${r.overload.shed} with 503`);
  console.log(`fuzz: server log while fuzzing: ${r.log.lines} lines (${r.logLinesPerMinute.toFixed(1)}/min), ${r.log.warnings} warnings, ${r.log.errors} errors, ${r.log.stackTraces} stack traces`);
  if (r.failures.length === 0) {
    console.log('fuzz: PASS');
    return;
  }
  for (const f of r.failures) console.log(`FAIL: ${f}`);
  console.log(`fuzz: seed ${seed}, inputs and server log in ${writeNetworkFailure(seed, process.argv.slice(2), r)}`);
  process.exitCode = 1;
}

async function main(): Promise<void> {
  const seed = num('--seed') ?? Date.now() % 0x7fffffff;
  if (process.argv.includes('--in-process')) inProcess(seed);
  else await network(seed);
}

await main();
