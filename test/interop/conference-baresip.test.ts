// A meet-me conference with programs nobody here wrote (issue 13): three
// baresip handsets over TLS with mandatory SDES-SRTP (mediaenc=srtp-mand,
// the users' media security Enforced) dial room 8200, each sending a sine
// of its own frequency (baresip's ausine source). Each phone records what
// it hears with baresip's sndfile module (the decoded audio, after SRTP
// decryption: what its loudspeaker would play). Each must hear the other
// two frequencies and not its own (Goertzel over the recordings).
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWavAt } from '../../src/media/wav.ts';
import { toneShare } from '../integration/lib/rtp-peer.ts';
import { fixture, makeTempDir, removeDir, requireTool, switchboardCli } from './harness.ts';
import type { BaresipPhone } from './lib/baresip-phone.ts';
import { Phones, setMedia, startMediaServer, waitMediaSecurity } from './lib/media-flows.ts';
import { makeUsers } from './users.ts';

const DOMAIN = 'lab.test';
const ROOM = '8200';
const USERS = makeUsers(3, 44100);
const FREQS = [500, 900, 1300] as const;
/**
 * From the last phone's answer to the hang-ups. Each caller first hears a
 * prompt ("you are the only one", 2.3 s) and then is in the room; the 3 s
 * measured end 0.5 s before the recordings do, well after the last prompt.
 */
const TOGETHER_MS = 8000;

const env = fixture(
  async () => {
    for (const t of ['baresip']) requireTool(t);
    const workDir = makeTempDir('conference-baresip');
    try {
      const ms = await startMediaServer(DOMAIN, USERS);
      try {
        for (const u of USERS) await setMedia(ms.server, u.ext, { security: 'enforced' });
        // No join/leave tone: the recordings should hold only the phones' sines (and the spoken prompts).
        await switchboardCli(['conference', 'add', '--number', ROOM, '--name', 'Interop', '--announce', 'off', '--data-dir', ms.server.dataDir]);
        return { ms, workDir };
      } catch (err) {
        await ms.stop();
        throw err;
      }
    } catch (err) {
      removeDir(workDir);
      throw err;
    }
  },
  async ({ ms, workDir }) => {
    await ms.stop();
    removeDir(workDir);
  },
);

/** The decoded (received) audio baresip's sndfile wrote for the phone's one call, at 8 kHz. */
function heardBy(dir: string): Int16Array {
  const files = readdirSync(dir).filter((f) => f.endsWith('-dec.wav'));
  if (files.length !== 1) throw new Error(`expected one *-dec.wav in ${dir}, found ${JSON.stringify(readdirSync(dir))}`);
  return readWavAt(readFileSync(join(dir, files[0]!)));
}

describe('conference with baresip over TLS and SRTP', () => {
  beforeAll(() => env.setup());
  afterAll(() => env.teardown());

  it(`three Enforced-SRTP handsets in room ${ROOM} each hear the other two sines (${FREQS.join(', ')} Hz) and not their own`, async () => {
    const { ms, workDir } = env.get();
    const s = ms.server;
    const phones = new Phones();
    const why = (): string => phones.why(s);
    const dirs = FREQS.map((f) => join(workDir, `rec-${f}`));
    try {
      const handsets: BaresipPhone[] = [];
      for (const [i, u] of USERS.entries()) {
        mkdirSync(dirs[i]!, { recursive: true });
        const base = 31100 + 20 * i;
        handsets.push(
          await phones.start(ms, {
            name: `${FREQS[i]}Hz`,
            user: u,
            transport: 'tls',
            srtp: true,
            rtpPorts: { min: base, max: base + 9 },
            audio: { source: `ausine,${FREQS[i]}`, recordDir: dirs[i] },
          }),
        );
        await waitMediaSecurity(s, u.ext, 'enforced');
      }
      for (const h of handsets) {
        const dial = await h.command('dial', `sip:${ROOM}@${DOMAIN}`);
        expect(dial.ok, `dial refused: ${dial.data}\n${why()}`).toBe(true);
        await h.waitEvent('CALL_ESTABLISHED', 20_000).catch((e: unknown) => {
          throw new Error(`${(e as Error).message}\n${why()}`);
        });
      }
      await new Promise((r) => setTimeout(r, TOGETHER_MS));
      // All at once, so each recording's end still has all three in the room.
      const hangups = await Promise.all(handsets.map((h) => h.command('hangup')));
      expect(hangups.every((r) => r.ok), why()).toBe(true);
      for (const h of handsets) await h.waitEvent('CALL_CLOSED');
    } finally {
      await phones.stopAll();
    }

    const heard = dirs.map((dir, i) => {
      const pcm = heardBy(dir);
      const end = pcm.length - 4000;
      const window = pcm.subarray(Math.max(0, end - 3 * 8000), end);
      const shares = FREQS.map((f) => toneShare(window, f));
      const line = `${FREQS[i]} Hz phone heard ${Math.round(pcm.length / 8)} ms; in its last 3 s: ${FREQS.map((f, j) => `${f} Hz ${(shares[j]! * 100).toFixed(1)}%`).join(', ')}`;
      return { window, shares, line };
    });
    const report = heard.map((h) => h.line).join('\n');
    console.log(`conference:\n${report}`);
    for (const [i, h] of heard.entries()) {
      expect(h.window.length, report).toBeGreaterThanOrEqual(2 * 8000);
      for (const [j, f] of FREQS.entries()) {
        if (j === i) expect(h.shares[j], `the ${f} Hz phone hears itself:\n${report}`).toBeLessThan(0.05);
        else expect(h.shares[j], `the ${FREQS[i]} Hz phone does not hear ${f} Hz:\n${report}`).toBeGreaterThan(0.2);
      }
    }
  }, 120_000);
});
