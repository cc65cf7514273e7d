// CPU of the media endpoint per stream and of conference mixing per
// participant, on this machine. Two parts:
//
// 1. endpoints: N MediaEndpoints on the process's media clock, each playing a
//    prompt (looped) to a "phone" socket and recording what that phone sends
//    (a tone, 20 ms µ-law packets); the phones run in a child process
//    (bench/lib/media-phones.ts). --mode conference instead puts the
//    endpoints into conferences of --parties each (mixer on the same clock).
//    CPU is this process's (endpoints, clock, mixer), from process.cpuUsage,
//    over --seconds of steady state, as % of one core per stream.
// 2. mixer: ConferenceMixer.mix() alone for conferences of P parties with
//    in-memory frames: CPU per participant at 50 ticks/s.
//
//   node --import tsx bench/media-endpoint.ts [--streams 50,200] [--seconds 10] [--parties 3,10] [--mode deposit,conference]
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { MediaEndpoint } from '../src/media/endpoint.ts';
import { FRAME_SAMPLES, RealMediaClock } from '../src/media/media-clock.ts';
import { ConferenceMixer, type MixerPort } from '../src/media/mixer.ts';
import { PortPool } from '../src/media/port-pool.ts';
import { PromptSet } from '../src/media/prompts.ts';
import { tone } from '../src/media/tones.ts';
import { machineLines } from './lib/machine.ts';

const { values: v } = parseArgs({
  options: {
    streams: { type: 'string', default: '50,200' },
    seconds: { type: 'string', default: '10' },
    parties: { type: 'string', default: '3,10' },
    mode: { type: 'string', default: 'deposit,conference' },
  },
});
const seconds = Math.min(60, Math.max(2, Number(v.seconds)));
const streamCounts = v.streams!.split(',').map((s) => Math.min(1000, Math.max(1, Number(s))));
const partyCounts = v.parties!.split(',').map((s) => Math.min(100, Math.max(2, Number(s))));
const modes = v.mode!.split(',') as Array<'deposit' | 'conference'>;

const clock = new RealMediaClock();
const prompts = PromptSet.load();
const prompt = prompts.get('vm-unavailable');

function ask<T>(child: ReturnType<typeof fork>, msg: object): Promise<T> {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve(m as T));
    child.send(msg);
  });
}

async function runEndpoints(n: number, mode: 'deposit' | 'conference', parties: number): Promise<string> {
  const pool = new PortPool({ host: '127.0.0.1', portMin: 30000, portMax: 39999 });
  const child = fork(fileURLToPath(new URL('./lib/media-phones.ts', import.meta.url)), { execArgv: ['--import', 'tsx'] });
  try {
    const { ports } = await ask<{ ports: number[] }>(child, { cmd: 'open', count: n });
    const eps: MediaEndpoint[] = [];
    for (const port of ports) {
      const ep = await MediaEndpoint.create({ pool, clock });
      const offer = `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio ${port} RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n`;
      const r = ep.answer(Buffer.from(offer));
      if (!r.ok) throw new Error(r.reason);
      eps.push(ep);
    }
    const mixers: ConferenceMixer[] = [];
    const records: Array<Promise<unknown>> = [];
    if (mode === 'deposit') {
      for (const ep of eps) {
        void ep.play(prompt, { loop: true });
        records.push(ep.record({ maxMs: (seconds + 5) * 1000 }));
      }
    } else {
      for (let i = 0; i < eps.length; i += parties) {
        const m = new ConferenceMixer(clock);
        for (const ep of eps.slice(i, i + parties)) m.add(ep);
        mixers.push(m);
      }
    }
    await ask(child, { cmd: 'start', targets: eps.map((e) => e.rtpPort) });
    await new Promise((r) => setTimeout(r, 1000)); // warm-up: JIT, jitter buffers filled
    const in0 = eps.reduce((a, e) => a + e.stats.packetsIn, 0);
    const out0 = eps.reduce((a, e) => a + e.stats.packetsOut, 0);
    const late0 = eps.reduce((a, e) => a + e.stats.late, 0);
    const skipped0 = clock.skipped;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const cpu = process.cpuUsage(c0);
    const wall = (performance.now() - t0) / 1000;
    const pin = eps.reduce((a, e) => a + e.stats.packetsIn, 0) - in0;
    const pout = eps.reduce((a, e) => a + e.stats.packetsOut, 0) - out0;
    const phones = await ask<{ sent: number; received: number; cpuSeconds: number }>(child, { cmd: 'stop' });
    const cpuSec = (cpu.user + cpu.system) / 1e6;
    const perStream = ((cpuSec / wall) * 100) / n;
    const late = eps.reduce((a, e) => a + e.stats.late, 0) - late0;
    const skipped = clock.skipped - skipped0;
    for (const m of mixers) m.close();
    await Promise.all(eps.map((e) => e.close()));
    await Promise.all(records);
    const label = mode === 'deposit' ? 'play + record' : `conference of ${parties}`;
    return (
      `| ${label} | ${n} | ${((cpuSec / wall) * 100).toFixed(1)} % | ${perStream.toFixed(3)} % | ` +
      `${(pin / wall / n).toFixed(1)} / ${(pout / wall / n).toFixed(1)} | ${late} | ${skipped} | ${phones.cpuSeconds.toFixed(1)} s |`
    );
  } finally {
    child.kill();
  }
}

/** A participant with in-memory frames. */
class MemPort implements MixerPort {
  private readonly frame: Int16Array;
  constructor(f: number) {
    this.frame = tone({ freqs: [f], levelDb: -20 }, 20);
  }
  takeFrame(): Int16Array {
    return this.frame;
  }
  sendFrame(): void {}
}

function runMixer(parties: number): string {
  const mixer = new ConferenceMixer();
  for (let i = 0; i < parties; i++) mixer.add(new MemPort(300 + 50 * i));
  const ticks = 50 * seconds;
  for (let i = 0; i < 500; i++) mixer.mix(); // warm-up
  const c0 = process.cpuUsage();
  for (let i = 0; i < ticks; i++) mixer.mix();
  const c = process.cpuUsage(c0);
  const perTickUs = (c.user + c.system) / ticks;
  // At 50 ticks per second, the share of one core per participant.
  const perParticipant = (perTickUs * 50) / 1e6 / parties * 100;
  return `| ${parties} | ${perTickUs.toFixed(1)} µs | ${perParticipant.toFixed(4)} % | ${FRAME_SAMPLES} |`;
}

console.log(machineLines().join('\n'));
console.log(`steady state ${seconds} s per step\n`);
console.log('| work | streams | CPU (this process) | CPU per stream | packets/s per stream in / out | late packets | clock ticks skipped | phones\' CPU (child, whole run) |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const mode of modes) {
  for (const n of streamCounts) {
    if (mode === 'deposit') console.log(await runEndpoints(n, mode, 0));
    else for (const p of partyCounts) console.log(await runEndpoints(Math.max(p, n - (n % p)), mode, p));
  }
}
console.log('\n| parties | mix() per tick | CPU per participant (one core) | samples per frame |');
console.log('| --- | --- | --- | --- |');
for (const p of partyCounts) console.log(runMixer(p));
process.exit(0);
