// Child process of bench/media-endpoint.ts: N "phones" on loopback, each an
// RTP socket sending one 20 ms µ-law frame of a tone every 20 ms to its media
// endpoint and counting what comes back. Runs apart from the endpoints so
// their CPU can be read on its own. Driven over IPC: open → start → stop.
import { createSocket, type Socket } from 'node:dgram';
import { encodeG711 } from '../../src/media/g711.ts';
import { tone } from '../../src/media/tones.ts';

type Msg = { cmd: 'open'; count: number } | { cmd: 'start'; targets: number[] } | { cmd: 'stop' };

const socks: Socket[] = [];
const bufs: Buffer[] = [];
let received = 0;
let sent = 0;
let timer: NodeJS.Timeout | null = null;
let tick = 0;
// 1 s of a 440 Hz tone, 50 frames, encoded once.
const pcm = tone({ freqs: [440], levelDb: -16 }, 1000);
const frames = Array.from({ length: 50 }, (_, k) => {
  const b = Buffer.alloc(160);
  encodeG711('ulaw', pcm.subarray(k * 160, k * 160 + 160), b);
  return b;
});

process.on('message', async (m: Msg) => {
  if (m.cmd === 'open') {
    for (let i = 0; i < m.count; i++) {
      const s = createSocket('udp4');
      await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
      s.on('message', () => received++);
      socks.push(s);
      bufs.push(Buffer.alloc(172));
    }
    process.send!({ ports: socks.map((s) => s.address().port) });
  } else if (m.cmd === 'start') {
    const start = performance.now();
    const send = (): void => {
      const frame = frames[tick % 50]!;
      for (let i = 0; i < socks.length; i++) {
        const b = bufs[i]!;
        b[0] = 0x80;
        b[1] = 0;
        b.writeUInt16BE(tick & 0xffff, 2);
        b.writeUInt32BE((tick * 160) >>> 0, 4);
        b.writeUInt32BE(i + 1, 8);
        frame.copy(b, 12);
        socks[i]!.send(b, m.targets[i]!, '127.0.0.1');
        sent++;
      }
      tick++;
      timer = setTimeout(send, Math.max(0, start + tick * 20 - performance.now()));
    };
    send();
    process.send!({ started: true });
  } else if (m.cmd === 'stop') {
    if (timer) clearTimeout(timer);
    const cpu = process.cpuUsage();
    process.send!({ sent, received, cpuSeconds: (cpu.user + cpu.system) / 1e6 }, () => process.exit(0));
  }
});
