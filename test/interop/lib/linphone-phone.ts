// linphonec (linphone-cli) as a phone driven through its command line on
// stdin: a config file and a HOME of its own per instance (two instances
// must not share one; its data folder must exist or it never finishes
// starting), no sound card (`soundcard use files`: silence as audio), an RTP
// port range, and every request routed to the server (reg_route) so it never
// resolves the SIP domain. Runs until stopped.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { appendCapped, makeTempDir, removeDir, requireTool, stopChild } from '../process.ts';
import type { PortRange } from './baresip-phone.ts';

export interface LinphoneOptions {
  user: string;
  password: string;
  domain: string;
  host: string;
  port: number;
  transport: 'udp' | 'tcp' | 'tls';
  /**
   * TLS: the only CA linphonec trusts (it verifies the server's certificate
   * and its name). Its TLS library here does not match IP SANs: give `host`
   * as a DNS name the identity carries ("localhost").
   */
  rootCa?: string;
  rtpPorts: PortRange;
  autoAnswer?: boolean;
  readyTimeoutMs?: number;
}

export interface LinphoneCall {
  id: number;
  destination: string;
  state: string;
  flags: string;
}

export function linphoneConfig(o: LinphoneOptions): string {
  const proxy = `<sip:${o.host}:${o.port};transport=${o.transport}>`;
  return [
    '[sip]',
    // -1: a random port; 0: off.
    `sip_port=${o.transport === 'udp' ? -1 : 0}`,
    `sip_tcp_port=${o.transport === 'tcp' ? -1 : 0}`,
    `sip_tls_port=${o.transport === 'tls' ? -1 : 0}`,
    ...(o.rootCa !== undefined ? [`root_ca=${o.rootCa}`, 'verify_server_certs=1', 'verify_server_cn=1'] : []),
    'default_proxy=0',
    'register_only_when_network_is_up=0',
    'ipv6=0',
    '[rtp]',
    `audio_rtp_port=${o.rtpPorts.min}-${o.rtpPorts.max}`,
    '[sound]',
    'echocancellation=0',
    '[video]',
    'enabled=0',
    'automatically_initiate=0',
    'automatically_accept=0',
    '[misc]',
    'max_calls=4',
    '[proxy_0]',
    `reg_proxy=${proxy}`,
    // Every request through the server: nothing resolves the SIP domain (no DNS off the machine).
    `reg_route=<sip:${o.host}:${o.port};transport=${o.transport};lr>`,
    `reg_identity="${o.user}" <sip:${o.user}@${o.domain}>`,
    'reg_expires=600',
    'reg_sendregister=1',
    'publish=0',
    '[auth_info_0]',
    `username=${o.user}`,
    `passwd=${o.password}`,
    `realm=${o.domain}`,
    `domain=${o.domain}`,
    '',
  ].join('\n');
}

/** Rows of linphonec's `calls` table ("1 | sip:1002@lab.test | StreamsRunning | ..."). */
export function parseCalls(text: string): LinphoneCall[] {
  const out: LinphoneCall[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(\d+)\s*\|\s*(\S+)\s*\|\s*(\S+)\s*\|?\s*([^|]*)/.exec(line);
    if (m !== null) out.push({ id: Number(m[1]), destination: m[2] ?? '', state: m[3] ?? '', flags: (m[4] ?? '').trim() });
  }
  return out;
}

export class LinphonePhone {
  private out = '';

  private constructor(
    readonly name: string,
    readonly dir: string,
    private readonly child: ChildProcess,
  ) {}

  /**
   * Starts linphonec and waits for its registration; throws with its output
   * when it did not register within readyTimeoutMs (default 20 s).
   */
  static async start(name: string, o: LinphoneOptions): Promise<LinphonePhone> {
    const bin = requireTool('linphonec');
    const dir = makeTempDir(`linphone-${name}`);
    const home = join(dir, 'home');
    mkdirSync(join(home, '.local', 'share', 'linphone'), { recursive: true });
    mkdirSync(join(home, '.config'), { recursive: true });
    const rc = join(dir, 'linphonerc');
    writeFileSync(rc, linphoneConfig(o));
    const args = ['-c', rc, ...(o.autoAnswer === true ? ['-a'] : [])];
    const child = spawn(bin, args, { cwd: dir, env: { ...process.env, HOME: home }, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    const phone = new LinphonePhone(name, dir, child);
    const take = (c: string): void => {
      phone.out = appendCapped(phone.out, c);
    };
    child.stdout?.setEncoding('utf8').on('data', take);
    child.stderr?.setEncoding('utf8').on('data', take);
    try {
      phone.send('soundcard use files');
      const deadline = Date.now() + (o.readyTimeoutMs ?? 20_000);
      for (;;) {
        const mark = phone.mark();
        phone.send('status register');
        if (await phone.waitOutput(/^registered,/m, 1000, mark)) break;
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`linphonec ${name} did not register\n${phone.output()}`);
      }
      return phone;
    } catch (err) {
      await phone.stop();
      throw err;
    }
  }

  /** Position in the output, for waits that must only see what comes next. */
  mark(): number {
    return this.out.length;
  }

  send(line: string): void {
    this.out = appendCapped(this.out, `\n[test> ${line}]\n`);
    this.child.stdin?.write(`${line}\n`);
  }

  /** The first match of re in the output after `from`, or null after timeoutMs. */
  async waitOutput(re: RegExp, timeoutMs: number, from = 0): Promise<RegExpExecArray | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = re.exec(this.out.slice(from));
      if (m !== null) return m;
      if (Date.now() > deadline || this.child.exitCode !== null) return null;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Sends a command and waits for its output to match re (throws with the output otherwise). */
  async expect(line: string, re: RegExp, timeoutMs = 15_000): Promise<RegExpExecArray> {
    const mark = this.mark();
    this.send(line);
    const m = await this.waitOutput(re, timeoutMs, mark);
    if (m === null) throw new Error(`linphonec ${this.name}: '${line}' not followed by ${re} within ${timeoutMs} ms\n${this.output()}`);
    return m;
  }

  /** Current calls (the `calls` command); [] when it says there are none. */
  async calls(): Promise<LinphoneCall[]> {
    const mark = this.mark();
    this.send('calls');
    const m = await this.waitOutput(/No active call|(\d+\s*\|[^\n]*\n)+/, 5000, mark);
    if (m === null) throw new Error(`linphonec ${this.name}: no answer to 'calls'\n${this.output()}`);
    // The table may still be arriving: a moment for the rest of it.
    await new Promise((r) => setTimeout(r, 200));
    return parseCalls(this.out.slice(mark));
  }

  output(): string {
    return `--- linphonec ${this.name} (${this.dir}) ---\n${this.out.slice(-6000)}`;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.stdin?.write('quit\n');
      await Promise.race([new Promise((r) => this.child.once('exit', r)), new Promise((r) => setTimeout(r, 3000))]);
      await stopChild(this.child, 2000, true);
    }
    removeDir(this.dir);
  }
}
