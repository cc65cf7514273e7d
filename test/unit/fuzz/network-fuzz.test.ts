// The network fuzzer's own parts (test/fuzz/): the hostile message
// generator repeats for a seed, frames what it claims to frame, keeps every
// routable URI on loopback or the server's domain, and only the "user"
// channel ever carries correct credentials; the log watch counts lines and
// levels per stream and spots stack traces.
import { describe, expect, it } from 'vitest';
import { HostileGenerator } from '../../fuzz/hostile.ts';
import type { HostileTarget } from '../../fuzz/hostile.ts';
import { LogWatch, countsSince } from '../../fuzz/log-watch.ts';
import { endFailures, logFailures, processFailures, NETWORK_DEFAULTS } from '../../fuzz/network.ts';
import { spawn } from 'node:child_process';
import { makeRng } from '../../lib/prng.ts';
import { parseMessage } from '../../../src/sip/parser.ts';
import { getHeaders } from '../../../src/sip/headers.ts';
import { DigestServer } from '../../../src/sip/digest.ts';
import { ha1 } from '../../../src/sip/digest.ts';

const DOMAIN = 'fuzz.test';
const USERS = [{ ext: '2001', password: 'pw-2001' }];

function target(role: HostileTarget['role'], challenge?: string): HostileTarget {
  return {
    transport: 'UDP', localHost: '127.0.0.3', localPort: 40000, serverHost: '127.0.0.1', serverPort: 5060,
    domain: DOMAIN, authUsers: USERS, victims: ['1001', '1002'], role, ...(challenge !== undefined ? { challenge } : {}),
  };
}

function messages(seed: number, n: number, t: HostileTarget): Buffer[] {
  const gen = new HostileGenerator(makeRng(seed));
  return Array.from({ length: n }, () => gen.next(t));
}

/** Hosts of the URIs a server could send something to: Request-URI, Contact, Route, Record-Route, Refer-To. */
function routableHosts(text: string): string[] {
  const out: string[] = [];
  const start = /^[A-Za-z!%*_+`'~.-]+ sips?:(?:[^@\s]*@)?(\[[^\]]*\]|[^:;>\s]+)/.exec(text);
  if (start) out.push(start[1]!);
  for (const m of text.matchAll(/^(?:Contact|m|Route|Record-Route|Refer-To|r):[^\r\n]*/gim)) {
    for (const u of m[0].matchAll(/sips?:(?:[^@\s<>,]*@)?(\[[^\]]*\]|[^:;>,?\s]+)/g)) out.push(u[1]!);
  }
  return out;
}

const LOCAL_HOST = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\]|fuzz\.test)$/;

describe('hostile message generator', () => {
  const digest = new DigestServer({ realm: DOMAIN, secret: Buffer.alloc(32, 7) });
  const challenge = digest.challenge({ bind: '127.0.0.3' })[0]!;

  it('sends the same messages for the same seed', () => {
    const a = messages(99, 300, target('user', challenge));
    const b = messages(99, 300, target('user', challenge));
    expect(a.map((m) => m.toString('latin1').replace(/cnonce="[^"]*"/g, ''))).toEqual(b.map((m) => m.toString('latin1').replace(/cnonce="[^"]*"/g, '')));
    expect(a.map((m) => m.toString('latin1'))).not.toEqual(messages(100, 300, target('user', challenge)).map((m) => m.toString('latin1')));
  });

  it('frames most of its messages well, yet not all of them the same way', () => {
    const all = messages(1, 3000, target('attacker', challenge));
    const parsed = all.map((m) => parseMessage(m));
    const ok = parsed.filter((r) => r.ok).length;
    // Well-framed and mostly well-formed: the server must get past its parser to be tested.
    expect(ok).toBeGreaterThan(all.length * 0.5);
    expect(ok).toBeLessThan(all.length);
    const starts = new Set(all.map((m) => m.toString('latin1').split(' ', 1)[0]));
    for (const m of ['INVITE', 'REGISTER', 'CANCEL', 'ACK', 'BYE', 'SIP/2.0']) expect(starts).toContain(m);
    const text = all.map((m) => m.toString('latin1'));
    expect(text.some((t) => (t.match(/^Via:/gm)?.length ?? 0) > 50)).toBe(true);
    expect(text.some((t) => /^Authorization: Digest /m.test(t))).toBe(true);
    expect(text.some((t) => /^Content-Length: (-1|99999999999|abc)$/m.test(t))).toBe(true);
  });

  it('names only loopback addresses and the server domain where a server could route to', () => {
    for (const role of ['attacker', 'user'] as const) {
      for (const m of messages(5, 3000, target(role, challenge))) {
        for (const host of routableHosts(m.toString('latin1'))) expect(host, m.toString('latin1').slice(0, 400)).toMatch(LOCAL_HOST);
      }
    }
  });

  it('gives only the user channel correct credentials, and the attacker none', () => {
    const verify = (role: HostileTarget['role']) => {
      let good = 0;
      let tried = 0;
      for (const m of messages(3, 2000, target(role, challenge))) {
        const r = parseMessage(m);
        if (!r.ok || r.message.kind !== 'request') continue;
        const req = r.message;
        for (const v of [...getHeaders(req, 'authorization'), ...getHeaders(req, 'proxy-authorization')]) {
          tried++;
          const res = digest.verify(v, req.method, req.uriRaw, (u, realm, alg) => (u === '2001' ? ha1(u, realm, 'pw-2001', alg) : undefined), { bind: '127.0.0.3' });
          if (res.kind === 'ok') good++;
        }
      }
      return { good, tried };
    };
    const user = verify('user');
    expect(user.good).toBeGreaterThan(50);
    expect(user.good).toBe(user.tried);
    const attacker = verify('attacker');
    expect(attacker.tried).toBeGreaterThan(200);
    expect(attacker.good).toBe(0);
  });
});

describe('log watch', () => {
  it('counts lines by level per stream, joining lines split across chunks', () => {
    const w = new LogWatch();
    w.feed('{"level":30,"msg":"a"}\n{"level":40,"ms');
    w.feed('plain text on stderr\n', 'stderr');
    w.feed('g":"b"}\n');
    const before = w.snapshot();
    w.feed('{"level":50,"msg":"c"}\n');
    expect(before).toEqual({ lines: 3, errors: 0, warnings: 1, stackTraces: 0 });
    expect(countsSince(w.counts, before)).toEqual({ lines: 1, errors: 1, warnings: 0, stackTraces: 0 });
    expect(w.firstBad).toBe('{"level":50,"msg":"c"}');
  });

  it('spots stack traces in pino errors and in Node crash reports', () => {
    const w = new LogWatch();
    w.feed('{"level":40,"err":{"message":"x","stack":"Error: x\\n    at f (file:///a.ts:1:2)"}}\n');
    w.feed('TypeError: boom\n    at Object.<anonymous> (/x/y.js:10:5)\n', 'stderr');
    expect(w.counts.stackTraces).toBe(2);
    expect(w.tailText()).toContain('TypeError: boom');
  });
});

describe('verdicts', () => {
  it('a server process that exited fails the run, named supervisor or worker', async () => {
    const child = spawn(process.execPath, ['-e', '']);
    const gone = await new Promise<number>((resolve) => child.once('exit', () => resolve(child.pid!)));
    expect(processFailures([process.pid], process.pid)).toEqual([]);
    expect(processFailures([process.pid, gone], process.pid)).toEqual([`server process ${gone} (worker) exited`]);
    expect(processFailures([gone], gone)).toEqual([`server process ${gone} (supervisor) exited`]);
  });

  it('an error line or a stack trace fails the run; warnings do not', () => {
    const w = new LogWatch();
    w.feed('{"level":40,"msg":"SIP message dropped"}\n'.repeat(3));
    expect(logFailures(w)).toEqual([]);
    w.feed('TypeError: boom\n    at Object.<anonymous> (/x/y.js:10:5)\n', 'stderr');
    expect(logFailures(w)).toEqual(['server logged an error or a stack trace:     at Object.<anonymous> (/x/y.js:10:5)']);
  });

  it('memory grown past its bounds after warm-up, or a log line per packet, fails the run', () => {
    const mem = (rss: number, heap: number) => ({ rss, heap, external: 0 });
    const warm = mem(380, 60);
    const ok = { afterWarmup: warm, end: mem(380 + NETWORK_DEFAULTS.rssGrowthMiB, 60 + NETWORK_DEFAULTS.heapGrowthMiB) };
    expect(endFailures(NETWORK_DEFAULTS, ok, 120, 2)).toEqual([]);
    expect(endFailures(NETWORK_DEFAULTS, { afterWarmup: warm, end: mem(421, 60) }, 0, 1)).toEqual([
      'RSS grew 41.0 MiB after warm-up (380.0 -> 421.0 MiB), more than 40 MiB']);
    expect(endFailures(NETWORK_DEFAULTS, { afterWarmup: warm, end: mem(380, 70.5) }, 0, 1)).toEqual([
      'V8 heap in use grew 10.5 MiB after warm-up (60.0 -> 70.5 MiB), more than 10 MiB']);
    // A short run never warmed up: its memory is not judged, its log volume is.
    expect(endFailures(NETWORK_DEFAULTS, { afterWarmup: mem(0, 0), end: mem(900, 300) }, 0, 1)).toEqual([]);
    expect(endFailures(NETWORK_DEFAULTS, { afterWarmup: warm, end: warm }, 200_000, 2)).toEqual([
      'server logged 200000 lines in 2.0 min (100000/min), more than 60/min']);
  });
});
