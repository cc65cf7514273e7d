// Runs every benchmark in sequence with the defaults bench/README.md's
// figures were taken with (`npm run bench`). Each bench is its own child
// process with a hard time limit, so one that hangs cannot hold up the rest;
// their output goes straight through.
//
//   node --import tsx bench/run.ts [--only parse,register,memory,profile,calls,relay,connections,media,media-server,kill-loss,import] [--quick]
//
// --quick: smaller and shorter (a smoke run, not figures to publish).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../test/interop/harness.ts';

interface Bench {
  name: string;
  file: string;
  args: string[];
  quickArgs: string[];
  /** Hard limit for the whole child, seconds. */
  limitSec: number;
}

const BENCHES: Bench[] = [
  { name: 'parse', file: 'parse.ts', args: ['2'], quickArgs: ['0.5'], limitSec: 120 },
  {
    name: 'register',
    file: 'register.ts',
    args: ['--target', 'both', '--budget', '240'],
    quickArgs: ['--target', 'both', '--users', '5000', '--duration', '3', '--budget', '30'],
    limitSec: 900,
  },
  {
    name: 'memory',
    file: 'memory.ts',
    args: [],
    quickArgs: ['--users', '5000', '--hold', '35'],
    limitSec: 900,
  },
  {
    name: 'profile',
    file: 'profile.ts',
    args: ['--rate', '4000', '--duration', '15'],
    quickArgs: ['--rate', '1000', '--duration', '3'],
    limitSec: 300,
  },
  {
    name: 'calls',
    file: 'calls.ts',
    args: ['--target', 'both'],
    quickArgs: ['--target', 'both', '--duration', '4', '--budget', '30', '--memory-calls', '500', '--memory-hold', '30'],
    // Two rate ramps (110 s budget each, ~3 min with set-up and the last step) and ~2.5 min for the 5,000 held calls.
    limitSec: 600,
  },
  {
    name: 'relay',
    file: 'relay.ts',
    args: [],
    quickArgs: ['--step-seconds', '3', '--budget', '40', '--refine', '1', '--retries', '0'],
    // 300 s of ramps plus the step running at the deadline and set-up.
    limitSec: 420,
  },
  {
    name: 'connections',
    file: 'connections.ts',
    args: ['--connections', '10000'],
    quickArgs: ['--connections', '1000', '--hold', '3'],
    // 10,000 TLS handshakes take 40-80 s on the 2 shared vCPUs.
    limitSec: 300,
  },
  {
    name: 'media',
    file: 'media-endpoint.ts',
    args: [],
    quickArgs: ['--streams', '20', '--seconds', '3', '--parties', '3'],
    // Six 11 s steps plus endpoint set-up.
    limitSec: 180,
  },
  {
    name: 'media-server',
    file: 'media-server.ts',
    args: [],
    quickArgs: ['--deposits', '10', '--conference', '10', '--profile', '0', '--hold', '14', '--window', '4'],
    // Eight steps of ~22 s, the profile step and two server starts.
    limitSec: 420,
  },
  { name: 'kill-loss', file: 'kill-loss.ts', args: ['--phones', '2000', '--rounds', '3'], quickArgs: ['--phones', '300', '--rounds', '1'], limitSec: 600 },
  // 450,000 rows at ≤ 10,000 a second: ~50–75 s, plus the file and the server.
  { name: 'import', file: 'user-import.ts', args: [], quickArgs: ['--rows', '50000'], limitSec: 300 },
];

function runChild(b: Bench, quick: boolean): Promise<number | null> {
  return new Promise((resolve) => {
    const args = ['--import', 'tsx', join(REPO_ROOT, 'bench', b.file), ...(quick ? b.quickArgs : b.args)];
    console.log(`\n=== ${b.name}: node ${args.join(' ')}`);
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: 'inherit' });
    const timer = setTimeout(() => {
      console.log(`=== ${b.name}: over its ${b.limitSec} s limit, stopping it`);
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
    }, b.limitSec * 1000);
    child.once('error', (err) => {
      clearTimeout(timer);
      console.log(`=== ${b.name}: could not start: ${err.message}`);
      resolve(null);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { only: { type: 'string' }, quick: { type: 'boolean', default: false } },
  });
  const only = values.only === undefined ? null : new Set(values.only.split(',').map((s) => s.trim()));
  if (only !== null) {
    for (const name of only) {
      if (!BENCHES.some((b) => b.name === name)) throw new Error(`--only: unknown bench '${name}'`);
    }
  }
  const results: string[] = [];
  let failed = 0;
  for (const b of BENCHES) {
    if (only !== null && !only.has(b.name)) continue;
    const started = Date.now();
    const code = await runChild(b, values.quick);
    if (code !== 0) failed++;
    results.push(`${b.name}: exit ${code} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
  console.log(`\n=== summary\n${results.join('\n')}`);
  return failed === 0 ? 0 : 1;
}

process.exitCode = await main();
