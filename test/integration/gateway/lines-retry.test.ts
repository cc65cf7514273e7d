// Lines that keep retrying (issue 15, B-01, B-02, D-08, AC-14): an upstream
// that swallows every REGISTER, one pending registration at a time, several
// lines; on manual time every line sends again within the backoff bound
// (5 s doubling to 5 minutes) and registers once the upstream answers.
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_RETRY_MS } from '../../../src/gateway/failure-reasons.ts';
import { startTestServer, type TestServer } from '../lib/server.ts';
import { until } from '../lib/until.ts';
import { addLines, GATEWAY_DOMAIN } from './pair.ts';

const EXTS = ['2001', '2002', '2003', '2004', '2005'];
const upUser = (ext: string) => `5${ext.slice(1)}`;

/** A registrar on a bare UDP socket: swallows REGISTERs, or answers them 200 with the Contact. */
class SilentRegistrar {
  answer = false;
  /** Upstream user → server times (ms) of each new REGISTER (retransmissions of one CSeq counted once). */
  readonly sent = new Map<string, number[]>();
  private readonly seen = new Set<string>();
  constructor(readonly sock: Socket, private readonly now: () => number) {
    sock.on('message', (buf, rinfo) => this.onMessage(buf.toString('utf8'), rinfo.address, rinfo.port));
  }

  get port(): number {
    return this.sock.address().port;
  }

  private onMessage(text: string, address: string, port: number): void {
    if (!text.startsWith('REGISTER ')) return;
    const head = text.split('\r\n\r\n')[0]!.split('\r\n');
    const header = (name: string) => head.filter((l) => l.toLowerCase().startsWith(`${name}:`));
    const user = /sip:([^@>;]+)@/.exec(header('to')[0] ?? '')?.[1] ?? '?';
    const key = `${header('call-id')[0]}|${header('cseq')[0]}`;
    if (!this.seen.has(key)) {
      this.seen.add(key);
      const list = this.sent.get(user) ?? [];
      list.push(this.now());
      this.sent.set(user, list);
    }
    if (!this.answer) return;
    const contact = header('contact')[0]!.replace(/^contact:\s*/i, '').replace(/;expires=\d+/, '');
    const res = ['SIP/2.0 200 OK', ...header('via'), ...header('from'), `${header('to')[0]};tag=up1`, ...header('call-id'), ...header('cseq'),
      `Contact: ${contact};expires=60`, 'Content-Length: 0', '', ''].join('\r\n');
    this.sock.send(res, port, address);
  }
}

let gw: TestServer;
let up: SilentRegistrar;

/** Moves server time in steps, letting the loopback I/O each step started run. */
async function advanceBy(ms: number, step = 1000): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    await gw.advance(step);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const lines = () => gw.server.gateway.lines!;

beforeAll(async () => {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  gw = await startTestServer({ config: { sip: { domain: GATEWAY_DOMAIN } }, manualTime: true });
  up = new SilentRegistrar(sock, () => (gw.server.timers as { clock: { now(): number } }).clock.now());
  await addLines(gw, {
    port: up.port,
    lines: EXTS.map((ext) => ({ extension: ext, upstreamUser: upUser(ext) })),
    settings: { registerExpiresSec: 60, maxPendingRegistrations: 1, clientTransactionTimeoutMs: 16_000 },
  });
}, 30_000);

afterAll(async () => {
  await gw?.stop();
  up?.sock.close();
});

describe('gateway lines retry when REGISTERs time out', () => {
  it('every line sends again within the backoff bound while the upstream is silent', async () => {
    await until(() => EXTS.every((e) => lines().lineStatus(e) !== undefined), 'lines loaded');
    // 15 minutes of silence: long enough for the backoff to reach its 5 minute cap.
    await advanceBy(15 * 60_000, 2000);
    const end = (gw.server.timers as { clock: { now(): number } }).clock.now();
    for (const ext of EXTS) {
      const times = up.sent.get(upUser(ext)) ?? [];
      expect(times.length, `REGISTERs of ${ext}`).toBeGreaterThanOrEqual(4);
      // Each wait is at most the cap plus the one pending slot's queue (every line's Timer F) and a step.
      const bound = MAX_RETRY_MS + EXTS.length * 2 * 16_000 + 4000;
      const gaps = times.slice(1).map((t, i) => t - times[i]!);
      expect(Math.max(...gaps), `largest gap of ${ext}`).toBeLessThanOrEqual(bound);
      expect(end - times[times.length - 1]!, `time since the last REGISTER of ${ext}`).toBeLessThanOrEqual(bound);
      expect(lines().lineStatus(ext)!.registration).toBe('failed');
      expect(lines().lineStatus(ext)!.failure!.code).toBe('no-answer');
    }
  }, 120_000);

  it('every line registers once the upstream answers again', async () => {
    up.answer = true;
    for (let i = 0; i < 200 && !EXTS.every((e) => lines().lineStatus(e)!.registration === 'registered'); i++) await advanceBy(4000, 2000);
    for (const ext of EXTS) expect(lines().lineStatus(ext)!.registration, ext).toBe('registered');
  }, 120_000);

  it('no line claims to be registered once its binding ran out unrefreshed', async () => {
    up.answer = false;
    // The refreshes (at 30 s) go one at a time, each waiting Timer F (16 s): most are still queued at expiry.
    await advanceBy(62_000, 2000);
    for (const ext of EXTS) {
      const s = lines().lineStatus(ext)!;
      expect(s.registration, ext).toBe('failed');
      expect(s.failure!.code, ext).toBe('no-answer');
    }
  }, 120_000);
});
