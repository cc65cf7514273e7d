// baresip as a remote-controlled phone for call tests: the registration-only
// config of ../baresip.ts plus the ctrl_tcp module (netstring-framed JSON:
// commands in, responses and call events out) and a fixed RTP port range,
// so a capture can tell its media from anyone else's. Runs until stopped.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import type { BaresipAccount } from '../baresip.ts';
import { accountLine, baresipConfigText } from '../baresip.ts';
import { appendCapped, freePort, LOOPBACK, makeTempDir, removeDir, requireTool, stopChild } from '../process.ts';

export interface PortRange {
  min: number;
  max: number;
}

export interface BaresipEvent {
  type: string;
  class?: string;
  direction?: string;
  peeruri?: string;
  param?: string;
  [k: string]: unknown;
}

interface Response {
  ok: boolean;
  data: string;
}

/** Splits a stream into netstrings ("<len>:<payload>,"); returns the rest. */
export function takeNetstrings(buf: string, out: string[]): string {
  let rest = buf;
  for (;;) {
    const colon = rest.indexOf(':');
    if (colon < 0) return rest;
    const len = Number(rest.slice(0, colon));
    if (!Number.isInteger(len) || len < 0) throw new Error(`ctrl_tcp: bad netstring header ${JSON.stringify(rest.slice(0, 20))}`);
    if (rest.length < colon + 1 + len + 1) return rest;
    out.push(rest.slice(colon + 1, colon + 1 + len));
    rest = rest.slice(colon + 1 + len + 1);
  }
}

function netstring(s: string): string {
  return `${Buffer.byteLength(s)}:${s},`;
}

export interface BaresipPhoneOptions {
  account: BaresipAccount;
  /** PEM CA for TLS (baresip 1.0 does not verify the server anyway). */
  caFile?: string;
  rtpPorts: PortRange;
  readyTimeoutMs?: number;
  /** `audio_source` instead of the 440 Hz sine, e.g. "ausine,900" or "aufile,/path/tone.wav". */
  audioSource?: string;
  /** The sndfile module writes every call's audio here as WAV (dump-*-dec.wav: what the phone heard, decoded and decrypted). */
  recordDir?: string;
}

const REGISTERED = /\{\d+\/(UDP|TCP|TLS)\/v4\} 200 OK/;
const REG_FAILED = /reg: sip:\S+: /;

export class BaresipPhone {
  readonly events: BaresipEvent[] = [];
  private out = '';
  private pending: Array<(r: Response) => void> = [];
  private waiters: Array<() => void> = [];

  private constructor(
    readonly name: string,
    readonly dir: string,
    private readonly child: ChildProcess,
    private sock: Socket | null,
  ) {}

  /** Starts baresip, waits for its registration, connects to ctrl_tcp. */
  static async start(name: string, o: BaresipPhoneOptions): Promise<BaresipPhone> {
    const bin = requireTool('baresip');
    const dir = makeTempDir(`baresip-${name}`);
    mkdirSync(dir, { recursive: true });
    // baresip binds sip_listen's port for UDP and TCP and the next for TLS; below the ephemeral range.
    const listenPort = await freePort({ min: 20000, max: 29998 }, 2);
    const ctrlPort = await freePort();
    const extra = [
      // Media on 127.0.0.1 (not the default route's address), in a range we capture.
      `net_interface ${LOOPBACK}`,
      // ausine only makes 48 kHz stereo; baresip resamples it for G.711.
      'ausrc_srate 48000',
      'ausrc_channels 2',
      `rtp_ports ${o.rtpPorts.min}-${o.rtpPorts.max}`,
      `ctrl_tcp_listen ${LOOPBACK}:${ctrlPort}`,
      'module menu.so',
      'module ctrl_tcp.so',
      // SDES-SRTP, for accounts with mediaenc=srtp*.
      ...(o.account.mediaenc !== undefined ? ['module srtp.so'] : []),
      // message-summary subscriptions, for accounts with mwi=yes.
      ...(o.account.mwi === true ? ['module mwi.so'] : []),
      ...(o.recordDir !== undefined ? ['module sndfile.so', `snd_path ${o.recordDir}`] : []),
    ];
    let base = baresipConfigText(listenPort, o.caFile);
    if (o.audioSource !== undefined) base = base.replace(/^audio_source .*$/m, `audio_source ${o.audioSource}`);
    writeFileSync(join(dir, 'config'), `${base}${extra.join('\n')}\n`);
    writeFileSync(join(dir, 'accounts'), accountLine(o.account));
    writeFileSync(join(dir, 'contacts'), '');
    const child = spawn(bin, ['-f', dir], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const phone = new BaresipPhone(name, dir, child, null);
    const take = (c: string): void => {
      phone.out = appendCapped(phone.out, c);
      phone.wake();
    };
    child.stdout?.setEncoding('utf8').on('data', take);
    child.stderr?.setEncoding('utf8').on('data', take);
    child.once('exit', () => phone.wake());
    try {
      const deadline = Date.now() + (o.readyTimeoutMs ?? 20_000);
      await phone.until(() => REGISTERED.test(phone.out) || REG_FAILED.test(phone.out) || child.exitCode !== null, deadline);
      if (!REGISTERED.test(phone.out)) throw new Error(`baresip ${name} did not register\n${phone.output()}`);
      phone.sock = await phone.connectCtrl(ctrlPort, deadline);
      phone.listen(phone.sock);
      return phone;
    } catch (err) {
      await phone.stop();
      throw err;
    }
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves when cond() holds; rejects at deadline. */
  private async until(cond: () => boolean, deadline: number): Promise<void> {
    while (!cond()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`baresip ${this.name}: timed out\n${this.output()}`);
      await new Promise<void>((res) => {
        const t = setTimeout(res, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(t);
          res();
        });
      });
    }
  }

  private async connectCtrl(port: number, deadline: number): Promise<Socket> {
    for (;;) {
      try {
        return await new Promise<Socket>((res, rej) => {
          const s = connect({ host: LOOPBACK, port }, () => {
            s.off('error', rej);
            res(s);
          });
          s.once('error', rej);
        });
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`baresip ${this.name}: ctrl_tcp on ${port}: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  private listen(sock: Socket): void {
    let buf = '';
    sock.setEncoding('utf8').on('data', (c: string) => {
      const frames: string[] = [];
      buf = takeNetstrings(buf + c, frames);
      for (const f of frames) this.onFrame(f);
    });
  }

  private onFrame(frame: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(frame) as Record<string, unknown>;
    } catch {
      this.out = appendCapped(this.out, `\n[ctrl_tcp: unparsable frame ${frame.slice(0, 200)}]\n`);
      return;
    }
    if (msg.response === true) {
      this.pending.shift()?.({ ok: msg.ok === true, data: String(msg.data ?? '') });
    } else if (msg.event === true || msg.event === 'true') {
      this.events.push(msg as unknown as BaresipEvent);
    }
    this.wake();
  }

  /** Sends a long command (e.g. "dial", "accept", "hangup") and waits for its response. */
  async command(command: string, params?: string, timeoutMs = 10_000): Promise<Response> {
    const sock = this.sock;
    if (sock === null) throw new Error(`baresip ${this.name}: not connected`);
    const body = JSON.stringify(params === undefined ? { command } : { command, params });
    const got = new Promise<Response>((res, rej) => {
      const t = setTimeout(() => rej(new Error(`baresip ${this.name}: no response to ${command}\n${this.output()}`)), timeoutMs);
      this.pending.push((r) => {
        clearTimeout(t);
        res(r);
      });
    });
    sock.write(netstring(body));
    return got;
  }

  /** The first event of this type not yet consumed by an earlier wait. */
  async waitEvent(type: string, timeoutMs = 15_000): Promise<BaresipEvent> {
    const deadline = Date.now() + timeoutMs;
    let found: BaresipEvent | undefined;
    await this.until(() => {
      found = this.events.find((e) => e.type === type && e.consumed !== true);
      return found !== undefined;
    }, deadline).catch((err: unknown) => {
      throw new Error(`baresip ${this.name}: no ${type} event (events so far: ${this.events.map((e) => e.type).join(', ')})\n${(err as Error).message}`);
    });
    const e = found as BaresipEvent;
    e.consumed = true;
    return e;
  }

  /** Resolves once cond holds on what baresip printed and the events it sent; rejects after timeoutMs. */
  async waitFor(what: string, cond: (output: string, events: readonly BaresipEvent[]) => boolean, timeoutMs = 15_000): Promise<void> {
    await this.until(() => cond(this.out, this.events), Date.now() + timeoutMs).catch((err: unknown) => {
      throw new Error(`baresip ${this.name}: never saw ${what}\n${(err as Error).message}`);
    });
  }

  /** The baresip process (to find its sockets). */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  output(): string {
    return `--- baresip ${this.name} (${this.dir}) ---\n${this.out.slice(-6000)}`;
  }

  /** SIGKILL now, as a phone losing power or its network: it cannot unregister (stop() lets it). */
  async kill(): Promise<void> {
    try {
      if (this.child.pid !== undefined) process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
    await this.stop();
  }

  async stop(): Promise<void> {
    this.sock?.destroy();
    this.sock = null;
    await stopChild(this.child, 3000, true);
    removeDir(this.dir);
  }
}
