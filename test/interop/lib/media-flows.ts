// Building blocks of the media interop tests: a Switchboard whose relay ports
// and TLS keys the test knows, per-user media settings through the CLI on the
// running server, baresip phones with or without mandatory SDES-SRTP, one
// answered call between two of them, and the server's `status --json`.
import { expect } from 'vitest';
import { join } from 'node:path';
import type { StatusSnapshot } from '../../../src/pbx/status/status.ts';
import type { SipTransport } from '../baresip.ts';
import type { SwitchboardHandle } from '../harness.ts';
import { makeTempDir, removeDir, startSwitchboard, switchboardCli } from '../harness.ts';
import type { TestUser } from '../users.ts';
import type { PortRange } from './baresip-phone.ts';
import { BaresipPhone } from './baresip-phone.ts';
import type { DecryptResult, SdesKey } from './media-srtp-check.ts';
import { decryptStream, parseCryptoLine } from './media-srtp-check.ts';

/**
 * The relay's ports in these tests: between the phones' RTP ranges
 * (30000-32599, baresip-calls.ts) and the kernel's ephemeral ports (32768+),
 * away from the phones' SIP ports (20000-29999, where the relay would sit by
 * default) and SIPp's media ports (10000-19999), so a packet's port tells
 * whether it touched the relay. 74 port pairs: plenty for one call at a time.
 */
export const RELAY_PORTS: PortRange = { min: 32620, max: 32767 };

export interface MediaServer {
  server: SwitchboardHandle;
  /** Node's TLS key log for the server (--tls-keylog): lets tshark read SIP over TLS. */
  keylog: string;
  caFile: string;
  stop(): Promise<void>;
}

export async function startMediaServer(domain: string, users: readonly TestUser[]): Promise<MediaServer> {
  const keyDir = makeTempDir('tls-keylog');
  const keylog = join(keyDir, 'keys.log');
  try {
    const server = await startSwitchboard({
      domain,
      users,
      nodeArgs: [`--tls-keylog=${keylog}`],
      config: { media: { relay: { host: '127.0.0.1', portMin: RELAY_PORTS.min, portMax: RELAY_PORTS.max } } },
    });
    const stop = async (): Promise<void> => {
      await server.stop();
      removeDir(keyDir);
    };
    try {
      return { server, keylog, caFile: await server.exportCa(), stop };
    } catch (err) {
      await stop();
      throw err;
    }
  } catch (err) {
    removeDir(keyDir);
    throw err;
  }
}

export interface MediaSettings {
  security?: 'system' | 'disabled' | 'best-effort' | 'enforced';
  dtmf?: 'system' | 'rfc4733' | 'info';
}

/** `switchboard user set` with media options, on the running server's data dir. */
export async function setMedia(server: SwitchboardHandle, ext: string, s: MediaSettings): Promise<void> {
  const args = ['user', 'set', '--ext', ext, '--data-dir', server.dataDir];
  if (s.security !== undefined) args.push('--media-security', s.security);
  if (s.dtmf !== undefined) args.push('--dtmf', s.dtmf);
  await switchboardCli(args);
}

export async function status(server: SwitchboardHandle): Promise<StatusSnapshot> {
  const r = await switchboardCli(['status', '--json', '--data-dir', server.dataDir]);
  return JSON.parse(r.stdout) as StatusSnapshot;
}

const STREAM = { disabled: 'RTP', 'best-effort': 'SRTP/RTP', enforced: 'SRTP' } as const;

/**
 * Waits (at most timeoutMs) until the running server applies a registered
 * extension's media security: its status line shows the matching stream.
 */
export async function waitMediaSecurity(server: SwitchboardHandle, ext: string, security: keyof typeof STREAM, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let seen = '(not in status)';
  while (Date.now() < deadline) {
    const e = (await status(server)).extensions.find((x) => x.extension === ext);
    if (e !== undefined) seen = e.mediaStream;
    if (seen === STREAM[security]) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`extension ${ext}: status shows media stream ${seen}, not ${STREAM[security]} (${security}), ${timeoutMs} ms after user set\n${server.output()}`);
}

/**
 * Waits until the running server has applied every `user set` made so far,
 * also those status cannot show (e.g. --dtmf): the server applies changes
 * in order, so once a later change to a registered probe extension shows in
 * status, the earlier ones are in force. The probe's media security ends at
 * "system" (the system's, disabled here).
 */
export async function waitSettingsApplied(server: SwitchboardHandle, probeExt: string): Promise<void> {
  await setMedia(server, probeExt, { security: 'best-effort' });
  await waitMediaSecurity(server, probeExt, 'best-effort');
  await setMedia(server, probeExt, { security: 'system' });
  await waitMediaSecurity(server, probeExt, 'disabled');
}

export interface PhoneSpec {
  name: string;
  user: TestUser;
  transport: SipTransport;
  /** mediaenc=srtp-mand: SDES-SRTP or no call. */
  srtp: boolean;
  rtpPorts: PortRange;
  /** Sound in and out (BaresipPhoneOptions audioSource and recordDir). */
  audio?: { source?: string; recordDir?: string };
}

export function startPhone(ms: MediaServer, spec: PhoneSpec): Promise<BaresipPhone> {
  const s = ms.server;
  const port = spec.transport === 'tls' ? s.tlsPort : spec.transport === 'tcp' ? s.tcpPort : s.udpPort;
  return BaresipPhone.start(spec.name, {
    account: {
      user: spec.user.ext,
      password: spec.user.password,
      domain: s.domain,
      proxyHost: s.host,
      proxyPort: port,
      transport: spec.transport,
      ...(spec.srtp ? { mediaenc: 'srtp-mand' } : {}),
    },
    caFile: spec.transport === 'tls' ? ms.caFile : undefined,
    rtpPorts: spec.rtpPorts,
    audioSource: spec.audio?.source,
    recordDir: spec.audio?.recordDir,
  });
}

/** Phones started one by one, all stopped by stopAll (also after a failed start). */
export class Phones {
  private readonly list: BaresipPhone[] = [];

  async start(ms: MediaServer, spec: PhoneSpec): Promise<BaresipPhone> {
    const p = await startPhone(ms, spec);
    this.list.push(p);
    return p;
  }

  why(server: SwitchboardHandle): string {
    return `${this.list.map((p) => p.output()).join('\n')}\n--- switchboard ---\n${server.output()}`;
  }

  async stopAll(): Promise<void> {
    for (const p of this.list.splice(0)) await p.stop();
  }
}

/** A dials B's extension, B answers: both report the call established. */
export async function answeredCall(a: BaresipPhone, b: BaresipPhone, calleeExt: string, domain: string, why: () => string): Promise<void> {
  const dial = await a.command('dial', `sip:${calleeExt}@${domain}`);
  expect(dial.ok, `dial refused: ${dial.data}\n${why()}`).toBe(true);
  await b.waitEvent('CALL_INCOMING').catch((e: unknown) => {
    throw new Error(`${(e as Error).message}\n${why()}`);
  });
  const accept = await b.command('accept');
  expect(accept.ok, `accept refused: ${accept.data}\n${why()}`).toBe(true);
  for (const p of [a, b]) {
    await p.waitEvent('CALL_ESTABLISHED').catch((e: unknown) => {
      throw new Error(`${(e as Error).message}\n${why()}`);
    });
  }
}

/** A hangs up; both see the call closed. */
export async function hangUp(a: BaresipPhone, b: BaresipPhone, why: () => string): Promise<void> {
  const r = await a.command('hangup');
  expect(r.ok, why()).toBe(true);
  await a.waitEvent('CALL_CLOSED');
  await b.waitEvent('CALL_CLOSED');
}

/** Decrypts with each candidate key and keeps the one that authenticates the most packets. */
export function decryptWithBest(candidates: readonly SdesKey[], packets: readonly Buffer[]): DecryptResult & { key: SdesKey | null } {
  let best: DecryptResult & { key: SdesKey | null } = { ok: 0, failed: packets.length, payloads: new Map(), key: null };
  for (const k of candidates) {
    const r = decryptStream(k, packets);
    if (r.ok > best.ok) best = { ...r, key: k };
  }
  return best;
}

/** SDES keys in a=crypto attributes (tshark's sdp.media_attr values, "crypto:1 AES_CM_... inline:..."). */
export function cryptoKeys(attributes: readonly string[]): SdesKey[] {
  const out: SdesKey[] = [];
  for (const a of attributes) {
    const k = a.startsWith('crypto:') ? parseCryptoLine(a) : null;
    if (k !== null) out.push(k);
  }
  return out;
}
