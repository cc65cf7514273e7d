// baresip as a headless SIP phone: a config dir generated per run (no sound
// device, no DNS off the machine, only the modules registration needs), run
// until it reports its registration result.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunResult } from './harness.ts';
import { freePort, LOOPBACK, makeTempDir, requireTool, runTool } from './harness.ts';

export type SipTransport = 'udp' | 'tcp' | 'tls';

export interface BaresipAccount {
  user: string;
  password: string;
  /** AoR domain (the server's --domain, also the realm). */
  domain: string;
  authUser?: string;
  /** Where the REGISTER really goes (outbound proxy): the server's socket. */
  proxyHost: string;
  proxyPort: number;
  transport: SipTransport;
  /** Registration interval asked for, seconds. */
  regint?: number;
  /** Media encryption (account `mediaenc`), e.g. "srtp-mand"; needs the srtp module. */
  mediaenc?: string;
  /** Account `answermode`: manual (default) or auto (answers every incoming call at once). */
  answermode?: 'manual' | 'auto';
  /** Account `mwi`: subscribe to message-summary (RFC 3842) after registering; needs the mwi module. */
  mwi?: boolean;
}

export interface BaresipConfigOptions {
  account: BaresipAccount;
  /** PEM file of the CA to trust for TLS (baresip 1.0 does not verify it anyway). */
  caFile?: string;
  dir?: string;
}

export interface BaresipConfig {
  dir: string;
  listenPort: number;
}

export const BARESIP_MODULES = '/usr/lib/baresip/modules';

export function accountLine(a: BaresipAccount): string {
  const params = [
    `auth_pass=${a.password}`,
    `outbound="sip:${a.proxyHost}:${a.proxyPort};transport=${a.transport}"`,
    `regint=${a.regint ?? 600}`,
    'pubint=0',
    `mwi=${a.mwi === true ? 'yes' : 'no'}`,
    `answermode=${a.answermode ?? 'manual'}`,
  ];
  if (a.authUser !== undefined) params.push(`auth_user=${a.authUser}`);
  if (a.mediaenc !== undefined) params.push(`mediaenc=${a.mediaenc}`);
  return `<sip:${a.user}@${a.domain};transport=${a.transport}>;${params.join(';')}\n`;
}

export function baresipConfigText(listenPort: number, caFile: string | undefined): string {
  const lines = [
    'poll_method epoll',
    `sip_listen ${LOOPBACK}:${listenPort}`,
    ...(caFile !== undefined ? [`sip_cafile ${caFile}`] : []),
    // Loopback resolver: nothing here needs DNS and nothing may leave the box.
    'dns_server 127.0.0.1:53',
    'call_local_timeout 120',
    'call_max_calls 4',
    // No sound device on a server: a sine source, and output nowhere.
    'audio_source ausine,440',
    'audio_player aufile,/dev/null',
    'audio_alert aufile,/dev/null',
    'rtp_stats no',
    `module_path ${BARESIP_MODULES}`,
    'module g711.so',
    'module ausine.so',
    'module aufile.so',
    'module_tmp uuid.so',
    'module_tmp account.so',
  ];
  return `${lines.join('\n')}\n`;
}

/** Writes config, accounts and an empty contacts file into a fresh dir. */
export async function writeBaresipConfig(o: BaresipConfigOptions): Promise<BaresipConfig> {
  const dir = o.dir ?? makeTempDir('baresip');
  mkdirSync(dir, { recursive: true });
  // baresip binds sip_listen's port for UDP and TCP and the next one for TLS. Both are taken
  // below the kernel's ephemeral range (32768+), so no outgoing socket grabs them meanwhile.
  const listenPort = await freePort({ min: 20000, max: 29998 }, 2);
  writeFileSync(join(dir, 'config'), baresipConfigText(listenPort, o.caFile));
  writeFileSync(join(dir, 'accounts'), accountLine(o.account));
  writeFileSync(join(dir, 'contacts'), '');
  return { dir, listenPort };
}

export interface RegisterOutcome {
  /** baresip printed a 200 OK for its REGISTER. */
  registered: boolean;
  /** baresip printed a registration failure. */
  failed: boolean;
  /** What a known failure message means, for assertion messages. */
  hint: string | null;
  run: RunResult;
}

// baresip 1.0 prints "<aor>: {0/UDP/v4} 200 OK (<server>) [1 binding]" on
// success and "reg: sip:<aor>: <why>" on any failure: a final response
// ("401 Unauthorized (...)", it does not answer a challenge twice) or a local
// error ("Register: Function not implemented" = ENOSYS: its digest code
// refuses a challenge set holding any algorithm but MD5, even when an MD5
// challenge is among them).
const OK_LINE = /\{\d+\/(UDP|TCP|TLS)\/v4\} 200 OK/;
// (No \b: the line starts with an ANSI colour code ending in "m".)
const FAIL_LINE = /reg: sip:\S+: /;

/** Runs baresip until it reports the registration outcome, at most timeoutMs. */
export async function baresipRegister(cfg: BaresipConfig, timeoutMs = 20_000): Promise<RegisterOutcome> {
  const baresip = requireTool('baresip');
  const run = await runTool(baresip, ['-f', cfg.dir], {
    timeoutMs,
    cwd: cfg.dir,
    until: (out) => OK_LINE.test(out) || FAIL_LINE.test(out),
  });
  const out = run.stdout + run.stderr;
  const hint = out.includes('Function not implemented')
    ? 'HINT: baresip 1.0 fails with ENOSYS when any challenge is not MD5: the server must offer it MD5 only.'
    : null;
  return { registered: OK_LINE.test(out), failed: FAIL_LINE.test(out), hint, run };
}
