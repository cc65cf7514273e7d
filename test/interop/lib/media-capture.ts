// What the media tests read back from tshark: whole UDP payloads (to decrypt
// SRTP with the key announced in the SDP, and to compare with the plain
// side), RTP payload types as tshark's own RTP dissector decodes them, and
// the SDP of SIP carried over TLS (decrypted with the key log Node writes
// for the server under --tls-keylog).
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { appendCapped, describeRun, freePort, LOOPBACK, requireTool, runTool, stopChild } from '../process.ts';
import type { PortRange } from './baresip-phone.ts';

export interface Pcap {
  file: string;
  /** UDP port of the start-up probes (also in the file; readUdp leaves them out). */
  probePort: number;
  /** Resolves once tshark's one-line summary of a captured packet matches (false after timeoutMs). */
  waitFor(summary: RegExp, timeoutMs: number): Promise<boolean>;
  /** Stops tshark; the file is complete afterwards. */
  stop(): Promise<void>;
}

/**
 * Captures on lo with a BPF filter into workDir/<name>.pcapng. Resolves only
 * once a probe datagram has been seen: tshark prints "Capturing on" before
 * its dumpcap really captures, and packets sent in between are lost.
 */
export async function startPcap(filter: string, workDir: string, name: string, decodeAs: readonly string[] = [], timeoutMs = 20_000): Promise<Pcap> {
  const tshark = requireTool('tshark');
  const file = join(workDir, `${name}-${Date.now()}.pcapng`);
  const probePort = await freePort();
  // -P -l: a line per packet on stdout while writing the file, so the probe shows up.
  const args = ['-i', 'lo', '-n', '-l', '-P', ...decodeAs.flatMap((d) => ['-d', d]), '-f', `(${filter}) or (udp dst port ${probePort})`, '-w', file];
  const child = spawn(tshark, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  let seen = false;
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    if (!seen && c.includes(`→ ${probePort} `)) seen = true;
    out = appendCapped(out, c);
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => (out = appendCapped(out, c)));
  const probe = createSocket('udp4');
  const deadline = Date.now() + timeoutMs;
  try {
    while (!seen) {
      if (child.exitCode !== null || Date.now() > deadline) {
        await stopChild(child, 1000, true);
        throw new Error(`tshark did not start capturing on lo (root or CAP_NET_RAW needed)\n$ tshark ${args.join(' ')}\n${out.slice(-3000)}`);
      }
      if (/Capturing on/.test(out)) probe.send('probe', probePort, LOOPBACK);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    probe.close();
  }
  return {
    file,
    probePort,
    async waitFor(summary, ms) {
      const until = Date.now() + ms;
      while (!summary.test(out)) {
        if (Date.now() > until || child.exitCode !== null) return false;
        await new Promise((r) => setTimeout(r, 100));
      }
      return true;
    },
    async stop() {
      // Stopped already: a test may read the file before its fixture's teardown stops the capture again.
      if (child.exitCode !== null || child.signalCode !== null) return;
      // dumpcap reads the kernel's buffer in batches: what arrived in the last moments before
      // SIGINT would be lost, so let it catch up first.
      await new Promise((r) => setTimeout(r, 500));
      const exited = new Promise<void>((res) => child.once('exit', () => res()));
      try {
        // SIGINT to tshark alone: it stops its dumpcap child, which flushes the file. Signalling the
        // whole group kills dumpcap with the last (for a short capture: all) packets still buffered.
        process.kill(child.pid as number, 'SIGINT');
      } catch {
        // Already gone.
      }
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      await stopChild(child, 2000, true);
    },
  };
}

async function tsharkFields(file: string, args: string[]): Promise<string[][]> {
  const tshark = requireTool('tshark');
  const r = await runTool(tshark, ['-r', file, '-n', ...args, '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=\u001f'], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`tshark could not read ${file}\n${describeRun(r)}`);
  return r.stdout.split('\n').filter((l) => l.trim() !== '').map((l) => l.split('\t'));
}

export interface UdpDatagram {
  src: string;
  sport: number;
  dst: string;
  dport: number;
  payload: Buffer;
}

/** Every UDP datagram captured (but the probes) with its payload, in capture order. */
export async function readUdp(pcap: Pcap): Promise<UdpDatagram[]> {
  const rows = await tsharkFields(pcap.file, ['-Y', `udp && udp.dstport != ${pcap.probePort}`, '-e', 'ip.src', '-e', 'udp.srcport', '-e', 'ip.dst', '-e', 'udp.dstport', '-e', 'udp.payload']);
  const out: UdpDatagram[] = [];
  for (const [src, sport, dst, dport, hex] of rows) {
    if (src === undefined || dst === undefined || hex === undefined) continue;
    out.push({ src, sport: Number(sport), dst, dport: Number(dport), payload: Buffer.from(hex.replace(/:/g, ''), 'hex') });
  }
  return out;
}

/** RTCP packet types are 200-207 in the second byte; RTP there has marker + payload type (0, 8, 101 ...). */
export function isRtcp(payload: Buffer): boolean {
  const b = payload[1];
  return b !== undefined && b >= 200 && b <= 207;
}

export function inRange(port: number, r: PortRange): boolean {
  return port >= r.min && port <= r.max;
}

/** RTP packets (not RTCP) from one range to another. */
export function rtpBetween(all: readonly UdpDatagram[], from: PortRange, to: PortRange): UdpDatagram[] {
  return all.filter((d) => inRange(d.sport, from) && inRange(d.dport, to) && d.payload.length >= 12 && !isRtcp(d.payload));
}

/**
 * Payload types of the RTP tshark's own dissector finds on the given ports
 * (decoded as RTP with "Decode As"), counted per type.
 */
export async function rtpPayloadTypes(file: string, ports: readonly number[]): Promise<Map<number, number>> {
  const decodeAs = [...new Set(ports)].flatMap((p) => ['-d', `udp.port==${p},rtp`]);
  const filter = `rtp && (${ports.map((p) => `udp.port==${p}`).join(' || ')})`;
  const rows = await tsharkFields(file, [...decodeAs, '-Y', filter, '-e', 'rtp.p_type']);
  const counts = new Map<number, number>();
  for (const [pt] of rows) {
    const n = Number(pt);
    if (Number.isInteger(n)) counts.set(n, (counts.get(n) ?? 0) + 1);
  }
  return counts;
}

export interface SipOverTls {
  sport: number;
  dport: number;
  /** Request or status lines of the SIP messages in the frame. */
  startLines: string[];
  /** SDP m= lines ("audio 30002 RTP/SAVP 0 8 101") and attributes ("crypto:1 AES_CM_..."). */
  media: string[];
  attributes: string[];
}

/** SIP messages on tlsPort, decrypted with the server's TLS key log. */
export async function readSipOverTls(file: string, tlsPort: number, keylog: string): Promise<SipOverTls[]> {
  const rows = await tsharkFields(file, [
    '-o', `tls.keylog_file:${keylog}`,
    '-d', `tcp.port==${tlsPort},tls`,
    '-o', `sip.tls.port:${tlsPort}`,
    '-Y', 'sip',
    '-e', 'tcp.srcport', '-e', 'tcp.dstport', '-e', 'sip.Request-Line', '-e', 'sip.Status-Line', '-e', 'sdp.media', '-e', 'sdp.media_attr',
  ]);
  const list = (s: string | undefined): string[] => (s === undefined || s === '' ? [] : s.split('\u001f'));
  return rows.map(([sport, dport, req, status, media, attrs]) => ({
    sport: Number(sport),
    dport: Number(dport),
    startLines: [...list(req), ...list(status)],
    media: list(media),
    attributes: list(attrs),
  }));
}
