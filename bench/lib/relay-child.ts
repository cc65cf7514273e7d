// The built-in relay under test, alone in its own process (so its CPU is its
// own and it has an event loop to itself), driven by bench/lib/relay-target.ts
// over the IPC channel. Sessions are set up as the B2BUA would: allocate,
// setRemote from "SDP", SRTP transforms on side A in SRTP↔RTP mode.
import { createSocket, type Socket } from 'node:dgram';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { MediaRelay, type PacketTransform, type RelaySession } from '../../src/media/relay.ts';
import { srtpEngine, useSrtpEngine } from '../../src/media/srtp-engine.ts';
import { SrtpSession, type SrtpSuiteName } from '../../src/media/srtp.ts';
import { legacyEngine } from './srtp-legacy-engine.ts';

export type ChildRequest =
  | { id: number; op: 'create'; calls: { a: number; b: number }[]; srtp: { suite: SrtpSuiteName; key: string; salt: string } | null }
  | { id: number; op: 'clear' }
  | { id: number; op: 'exit' };

export interface ChildDrops {
  foreignSource: number;
  inbound: number;
  outbound: number;
  malformed: number;
  noDestination: number;
  socketErrors: number;
  errors: number;
  relayed: number;
  /** Event-loop delay while the calls ran (ms): high here = the relay process itself stalled. */
  loopP99Ms: number;
  loopMaxMs: number;
}

export type ChildReply =
  | { id: number; ok: true; ends?: { a: number; b: number }[]; drops?: ChildDrops }
  | { id: number; ok: false; error: string };

const portMin = Number(process.env.RELAY_PORT_MIN ?? 20000);
const portMax = Number(process.env.RELAY_PORT_MAX ?? 29999);
const relay = new MediaRelay({ host: '127.0.0.1', portMin, portMax });
let sessions: RelaySession[] = [];
/** RELAY_IMPL=floor: bare dgram forwarding, no latching, stats or transforms: what Node itself costs. */
const floor = process.env.RELAY_IMPL === 'floor';
let floorSockets: Socket[] = [];
let floorRelayed = 0;
/** RELAY_SRTP_ENGINE=js|native|legacy: the SRTP engine; unset, the one the server would pick. */
const engine = process.env.RELAY_SRTP_ENGINE;
if (engine === 'legacy') useSrtpEngine(legacyEngine);
else if (engine === 'js' || engine === 'native') useSrtpEngine(engine);
else if (engine !== undefined) throw new Error(`RELAY_SRTP_ENGINE must be js, native or legacy, got ${engine}`);
console.log(`relay child: SRTP engine ${engine === 'legacy' ? 'legacy' : srtpEngine().name}`);
const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();
/** Allocations in flight at once while setting up a step. */
const PARALLEL = 32;

function srtpTransforms(opts: { suite: SrtpSuiteName; key: string; salt: string }): { inbound: PacketTransform; outbound: PacketTransform } {
  const s = new SrtpSession({ suite: opts.suite, masterKey: Buffer.from(opts.key, 'base64'), masterSalt: Buffer.from(opts.salt, 'base64') });
  return {
    // Unprotect in place (the datagram is ours); protect grows the packet, so it needs a new buffer.
    inbound: { rtp: (p) => s.unprotectRtp(p, p), rtcp: (p) => s.unprotectRtcp(p, p), get lastDrop() { return s.lastDrop; } },
    outbound: { rtp: (p) => s.protectRtp(p), rtcp: (p) => s.protectRtcp(p), get lastDrop() { return s.lastDrop; } },
  };
}

function bindAny(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => resolve(s));
  });
}

async function createFloor(calls: { a: number; b: number }[]): Promise<{ a: number; b: number }[]> {
  const ends: { a: number; b: number }[] = [];
  for (const c of calls) {
    const [sa, sb] = await Promise.all([bindAny(), bindAny()]);
    sa.on('message', (m: Buffer) => {
      floorRelayed++;
      sb.send(m, c.b, '127.0.0.1');
    });
    sb.on('message', (m: Buffer) => {
      floorRelayed++;
      sa.send(m, c.a, '127.0.0.1');
    });
    floorSockets.push(sa, sb);
    ends.push({ a: sa.address().port, b: sb.address().port });
  }
  return ends;
}

async function create(req: Extract<ChildRequest, { op: 'create' }>): Promise<{ a: number; b: number }[]> {
  try {
    return floor ? await createFloor(req.calls) : await createSessions(req);
  } finally {
    loop.reset();
  }
}

async function createSessions(req: Extract<ChildRequest, { op: 'create' }>): Promise<{ a: number; b: number }[]> {
  const ends: { a: number; b: number }[] = new Array(req.calls.length);
  for (let i = 0; i < req.calls.length; i += PARALLEL) {
    await Promise.all(
      req.calls.slice(i, i + PARALLEL).map(async (c, j) => {
        const s = relay.createSession({ label: `bench-${i + j}` });
        sessions.push(s);
        const e = await s.allocate();
        s.setRemote('a', { address: '127.0.0.1', rtpPort: c.a });
        s.setRemote('b', { address: '127.0.0.1', rtpPort: c.b });
        if (req.srtp !== null) s.setTransforms('a', srtpTransforms(req.srtp));
        ends[i + j] = { a: e.a.rtpPort, b: e.b.rtpPort };
      }),
    );
  }
  return ends;
}

async function clear(): Promise<ChildDrops> {
  const d: ChildDrops = {
    foreignSource: 0, inbound: 0, outbound: 0, malformed: 0, noDestination: 0, socketErrors: 0, errors: 0, relayed: floorRelayed,
    loopP99Ms: loop.percentile(99) / 1e6, loopMaxMs: loop.max / 1e6,
  };
  for (const s of floorSockets) s.close();
  floorSockets = [];
  floorRelayed = 0;
  for (const s of sessions) {
    const st = s.stats();
    for (const side of [st.a, st.b]) {
      d.foreignSource += side.drops.foreignSource;
      d.inbound += side.drops.inbound;
      d.outbound += side.drops.outbound;
      d.malformed += side.drops.malformed;
      d.noDestination += side.drops.noDestination;
      d.socketErrors += side.drops.socketErrors;
      d.errors += side.drops.errors;
      d.relayed += side.rtp.packetsOut;
    }
  }
  await Promise.all(sessions.map((s) => s.close()));
  sessions = [];
  return d;
}

process.on('message', (raw) => {
  const req = raw as ChildRequest;
  const reply = (r: ChildReply): void => {
    process.send?.(r);
  };
  const fail = (err: unknown): void => reply({ id: req.id, ok: false, error: err instanceof Error ? err.message : String(err) });
  if (req.op === 'create') create(req).then((ends) => reply({ id: req.id, ok: true, ends }), fail);
  else if (req.op === 'clear') clear().then((drops) => reply({ id: req.id, ok: true, drops }), fail);
  else if (req.op === 'exit') {
    void relay.close().finally(() => {
      reply({ id: req.id, ok: true });
      process.disconnect?.();
      process.exit(0);
    });
  }
});
process.on('disconnect', () => process.exit(0));
process.send?.({ id: 0, ok: true });
