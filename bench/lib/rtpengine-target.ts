// rtpengine (Debian's rtpengine-daemon) as a relay under bench/relay.ts, beside
// the built-in one: userspace forwarding only (--table=-1, no kernel module),
// on loopback, started under the same pin/nice prefix as the built-in relay's
// child so both get the same core at the same priority. Calls are set up
// through the ng protocol as the B2BUA's rtpengine backend does it
// (src/media/rtpengine-session.ts): phone A's offer, phone B's answer.
//
// Worker threads default to 1 (--num-threads=1): the built-in relay forwards
// on one thread, and pinned to one core more poller threads only add
// contention. rtpengine's other threads (ng control, timers) stay and are
// counted, since the CPU figure is the whole process's (/proc/<pid>/stat).
import { RtpengineSession } from '../../src/media/rtpengine-session.ts';
import { NgClient, type NgCounters } from '../../src/media/rtpengine.ts';
import { LOOPBACK } from '../../test/interop/process.ts';
import { startRtpengine, type RtpengineProcess } from '../../test/lib/rtpengine-process.ts';
import type { RelayDrops, RelayMode, RelayTarget, SrtpKeys, TargetOptions } from './relay-target.ts';

/** ng requests in flight at once while setting up or tearing down a step. */
const PARALLEL = 32;

/** Starts rtpengine under o.pin (the built-in relay's own prefix) and resolves once it answers ping. */
function startDaemon(o: TargetOptions, threads: number | null): Promise<RtpengineProcess> {
  return startRtpengine({
    prefix: o.pin,
    portMin: o.portMin,
    portMax: o.portMax,
    // Warnings only: the built-in relay logs nothing per call either.
    logLevel: 4,
    ...(threads === null ? {} : { threads }),
    readyTimeoutMs: 15_000,
  });
}

/** A phone's SDP: PCMU on `port`, plain RTP or SRTP (SDES) with the bench's keys. */
export function phoneSdp(port: number, srtp: SrtpKeys | null): string {
  const lines = [
    'v=0',
    `o=- ${port} 1 IN IP4 ${LOOPBACK}`,
    's=-',
    `c=IN IP4 ${LOOPBACK}`,
    't=0 0',
    `m=audio ${port} ${srtp === null ? 'RTP/AVP' : 'RTP/SAVP'} 0`,
    'a=rtpmap:0 PCMU/8000',
    'a=ptime:20',
    'a=sendrecv',
  ];
  if (srtp !== null) {
    // RFC 4568 inline key: master key || master salt, base64.
    const inline = Buffer.concat([Buffer.from(srtp.key, 'base64'), Buffer.from(srtp.salt, 'base64')]).toString('base64');
    lines.push(`a=crypto:1 ${srtp.suite} inline:${inline}`);
  }
  return lines.join('\r\n') + '\r\n';
}

/**
 * The audio port rtpengine put in an SDP, after checking it is what this side
 * must get (rtpengine's loopback address, the right profile, a=crypto only
 * toward the SRTP phone): a mistake here would measure the wrong thing.
 */
export function relayPort(sdp: Buffer, profile: 'RTP/AVP' | 'RTP/SAVP', what: string): number {
  const text = sdp.toString('latin1');
  const m = /^m=audio (\d+) (\S+) /m.exec(text);
  const c = /^c=IN IP4 (\S+)/m.exec(text);
  const crypto = /^a=crypto:/m.test(text);
  const port = Number(m?.[1]);
  if (!m || !(port > 0 && port < 65536) || m[2] !== profile || c?.[1] !== LOOPBACK || crypto !== (profile === 'RTP/SAVP')) {
    throw new Error(`rtpengine ${what}: expected ${profile} on ${LOOPBACK}${profile === 'RTP/SAVP' ? ' with a=crypto' : ' without a=crypto'}, got m=${m?.[2] ?? '?'} c=${c?.[1] ?? '?'} crypto=${crypto}`);
  }
  return port;
}

/** Runs fn over items, at most `parallel` at once, in order of the results. */
async function inBatches<T, R>(items: readonly T[], parallel: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  for (let i = 0; i < items.length; i += parallel) {
    const part = await Promise.all(items.slice(i, i + parallel).map((x, j) => fn(x, i + j)));
    for (let j = 0; j < part.length; j++) out[i + j] = part[j]!;
  }
  return out;
}

function rtpengineWith(threads: number | null, name: string): (o: TargetOptions) => Promise<RelayTarget> {
  return async (o) => {
    const daemon = await startDaemon(o, threads);
    let client: NgClient;
    try {
      // Setting up a step sends thousands of requests: give rtpengine time before retransmitting.
      client = await NgClient.open({ host: LOOPBACK, port: daemon.ngPort, retransmitMs: 2000, attempts: 3 });
    } catch (err) {
      await daemon.stop();
      throw err;
    }
    let sessions: RtpengineSession[] = [];
    return {
      name,
      pid: daemon.pid,
      async createCalls(phones, mode: RelayMode, srtp) {
        const keys = mode === 'srtp' ? srtp : null;
        if (mode === 'srtp' && keys === null) throw new Error('rtpengine target: srtp mode needs keys');
        return inBatches(phones, PARALLEL, async (p) => {
          // Toward B plain RTP always; toward A whatever A offered (SRTP with rtpengine's own key in srtp mode).
          const s = new RtpengineSession({ client, b: { transportProtocol: 'RTP/AVP' } });
          sessions.push(s);
          const offer = await s.offer('a', Buffer.from(phoneSdp(p.a, keys)));
          if (!offer.ok) throw new Error(`rtpengine offer: ${offer.status} ${offer.reason}\n${daemon.output()}`);
          const b = relayPort(offer.body, 'RTP/AVP', 'offer toward B');
          const answer = await s.answer('b', Buffer.from(phoneSdp(p.b, null)));
          if (!answer.ok) throw new Error(`rtpengine answer: ${answer.status} ${answer.reason}\n${daemon.output()}`);
          const a = relayPort(answer.body, keys === null ? 'RTP/AVP' : 'RTP/SAVP', 'answer toward A');
          return { a, b };
        });
      },
      async clearCalls() {
        const all = sessions;
        sessions = [];
        // close() queries the call's counters, then deletes it.
        const finals = await inBatches(all, PARALLEL, (s) => s.close());
        const rtp: NgCounters = { packets: 0, bytes: 0, errors: 0 };
        let unknown = 0;
        for (const f of finals) {
          if (f === undefined) unknown++;
          else {
            rtp.packets += f.totals.rtp.packets;
            rtp.errors += f.totals.rtp.errors;
          }
        }
        const drops: RelayDrops = { errors: rtp.errors, relayed: rtp.packets };
        if (unknown > 0) drops['calls without counters'] = unknown;
        return drops;
      },
      async stop() {
        client.close();
        await daemon.stop();
      },
    };
  };
}

/** rtpengine with one forwarding thread (the comparison the README reports). */
export const rtpengineTarget = rtpengineWith(1, 'rtpengine');
/** rtpengine with its default worker threads (one per CPU), same pinning. */
export const rtpengineDefaultThreadsTarget = rtpengineWith(null, 'rtpengine-mt');
