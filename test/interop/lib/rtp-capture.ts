// Who sent UDP to whom on loopback, seen by tshark (a program nobody here
// wrote) rather than by either phone: a capture filtered to the phones' RTP
// port ranges, written to a pcap and read back as one row per packet. Any
// packet between a phone's media port and a port outside the phones' ranges
// (a relay) shows up as well, because the filter matches either end. Port
// ranges are shared with other tests running at the same time: a call's own
// packets are those between the ends its SDP named (between, ofCall).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { PortRange } from './baresip-phone.ts';
import { LOOPBACK, appendCapped, describeRun, requireTool, runTool, stopChild } from '../process.ts';

export interface UdpPacket {
  src: string;
  sport: number;
  dst: string;
  dport: number;
}

/** One end of a media path, "address:port", as an SDP's c= and m=audio lines name it. */
export type MediaEnd = string;

/** Where an SDP asks for audio (its c= and first m=audio port), or null (no audio, port 0, no c=). */
export function sdpMediaEnd(sdp: string): MediaEnd | null {
  const address = /^c=IN IP[46] (\S+)/m.exec(sdp)?.[1];
  const port = /^m=audio (\d+) /m.exec(sdp)?.[1];
  return address === undefined || port === undefined || port === '0' ? null : `${address}:${port}`;
}

/**
 * The packets (tshark rows or datagrams) sent from `src` to `dst` exactly:
 * other tests on this machine run phones and relays in the same port ranges
 * at the same time, so only the addresses and ports a call's own SDP named
 * say which packets are its.
 */
export function between<T extends UdpPacket>(list: readonly T[], src: MediaEnd, dst: MediaEnd): T[] {
  return list.filter((p) => `${p.src}:${p.sport}` === src && `${p.dst}:${p.dport}` === dst);
}

/** The packets between two of a call's media ends (every end its SDPs named), for the same reason. */
export function ofCall<T extends UdpPacket>(list: readonly T[], ends: ReadonlySet<MediaEnd>): T[] {
  return list.filter((p) => ends.has(`${p.src}:${p.sport}`) && ends.has(`${p.dst}:${p.dport}`));
}

/** The packets with at least one end among `ends` (a phone's own, whoever the other end is), for the same reason. */
export function involving<T extends UdpPacket>(list: readonly T[], ends: ReadonlySet<MediaEnd>): T[] {
  return list.filter((p) => ends.has(`${p.src}:${p.sport}`) || ends.has(`${p.dst}:${p.dport}`));
}

/**
 * The UDP sockets these processes have bound now: phones' own media ends
 * while their call is up, the very ends their SDP names, for phones whose SIP
 * no tap here reads (a Switchboard or Kamailio in another process).
 */
const WILDCARD = new Set(['0.0.0.0', '*', '[::]']);

export async function boundUdpEnds(...pids: number[]): Promise<Set<MediaEnd>> {
  const owners = pids.map((pid) => `pid=${pid},`);
  const r = await runTool(requireTool('ss'), ['-Hunap'], { timeoutMs: 10_000 });
  if (r.code !== 0) throw new Error(`ss could not list UDP sockets\n${describeRun(r)}`);
  const ends = new Set<MediaEnd>();
  for (const line of r.stdout.split('\n')) {
    // "UNCONN 0 0 127.0.0.1:30002 0.0.0.0:* users:(("baresip",pid=123,fd=7))"
    if (!owners.some((o) => line.includes(o))) continue;
    const local = line.trim().split(/\s+/)[3];
    if (local === undefined) continue;
    const colon = local.lastIndexOf(':');
    const address = local.slice(0, colon);
    // baresip binds RTP on every address ("0.0.0.0:32020"): that port is its own on loopback, where the tests' media runs.
    ends.add(WILDCARD.has(address) ? `${LOOPBACK}${local.slice(colon)}` : local);
  }
  return ends;
}

export interface Capture {
  file: string;
  /** Stops capturing and returns every packet captured. */
  stop(): Promise<UdpPacket[]>;
}

export function captureFilter(ranges: readonly PortRange[]): string {
  return `udp and (${ranges.map((r) => `portrange ${r.min}-${r.max}`).join(' or ')})`;
}

/** tshark -T fields output: src, sport, dst, dport per line. */
export function parseFields(text: string): UdpPacket[] {
  const out: UdpPacket[] = [];
  for (const line of text.split('\n')) {
    const [src, sport, dst, dport] = line.trim().split('\t');
    if (src === undefined || sport === undefined || dst === undefined || dport === undefined) continue;
    const sp = Number(sport);
    const dp = Number(dport);
    if (Number.isInteger(sp) && Number.isInteger(dp)) out.push({ src, sport: sp, dst, dport: dp });
  }
  return out;
}

/** Starts tshark on lo and resolves once it says it is capturing. */
export async function startCapture(ranges: readonly PortRange[], workDir: string, timeoutMs = 20_000): Promise<Capture> {
  const tshark = requireTool('tshark');
  const file = join(workDir, `rtp-${Date.now()}.pcapng`);
  const args = ['-i', 'lo', '-n', '-q', '-f', captureFilter(ranges), '-w', file];
  const child = spawn(tshark, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  const take = (c: string): void => {
    out = appendCapped(out, c);
  };
  child.stdout.setEncoding('utf8').on('data', take);
  child.stderr.setEncoding('utf8').on('data', take);
  const deadline = Date.now() + timeoutMs;
  while (!/Capturing on/.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stopChild(child, 1000, true);
      throw new Error(`tshark did not start capturing on lo (root or CAP_NET_RAW needed)\n$ tshark ${args.join(' ')}\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    file,
    async stop() {
      // SIGINT: tshark finishes the file; SIGTERM follows from stopChild if it hangs.
      const exited = new Promise<void>((res) => child.once('exit', () => res()));
      try {
        process.kill(-(child.pid as number), 'SIGINT');
      } catch {
        // Already gone.
      }
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      await stopChild(child, 2000, true);
      const r = await runTool(tshark, ['-r', file, '-n', '-T', 'fields', '-e', 'ip.src', '-e', 'udp.srcport', '-e', 'ip.dst', '-e', 'udp.dstport'], {
        timeoutMs: 30_000,
      });
      if (r.code !== 0) throw new Error(`tshark could not read ${file}\n${describeRun(r)}\n${out}`);
      return parseFields(r.stdout);
    },
  };
}

export interface MediaCount {
  aToB: number;
  bToA: number;
  /** Packets with one end outside both ranges (media through a third party). */
  stray: UdpPacket[];
}

function inRange(port: number, r: PortRange): boolean {
  return port >= r.min && port <= r.max;
}

/** Splits packets into A->B, B->A and anything else. */
export function countMedia(packets: readonly UdpPacket[], a: PortRange, b: PortRange): MediaCount {
  const res: MediaCount = { aToB: 0, bToA: 0, stray: [] };
  for (const p of packets) {
    if (inRange(p.sport, a) && inRange(p.dport, b)) res.aToB++;
    else if (inRange(p.sport, b) && inRange(p.dport, a)) res.bToA++;
    else res.stray.push(p);
  }
  return res;
}
