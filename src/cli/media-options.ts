// The media settings as command-line options, shared by `user set` (where
// "system" returns a key to the system value) and `system set`.
import type { Command } from 'commander';
import type { UserMediaPatch, UserMediaSettings } from '../store/types.ts';
import { CliError } from './common.ts';

interface MediaOption {
  flag: string;
  key: keyof UserMediaSettings;
  help: string;
  /** Typed value -> stored value. */
  values: Record<string, string | boolean>;
}

const MEDIA_OPTIONS: readonly MediaOption[] = [
  { flag: '--media-security', key: 'security', help: 'SRTP policy', values: { disabled: 'disabled', 'best-effort': 'best-effort', enforced: 'enforced' } },
  { flag: '--srtcp', key: 'srtcp', help: 'SRTCP encryption', values: { encrypted: 'encrypted', unencrypted: 'unencrypted' } },
  { flag: '--direct-media', key: 'directMedia', help: 'let RTP flow phone to phone when both sides agree', values: { on: true, off: false } },
  { flag: '--dtmf', key: 'dtmf', help: 'how the phone sends and wants DTMF', values: { rfc4733: 'rfc4733', info: 'info' } },
  { flag: '--capneg', key: 'capneg', help: 'the phone does RFC 5939 capability negotiation', values: { on: true, off: false } },
  { flag: '--transport', key: 'transport', help: 'tls: the phone must use TLS', values: { any: 'any', tls: 'tls' } },
];

/** camelCase property commander gives an option ("--media-security" -> "mediaSecurity"). */
function prop(flag: string): string {
  return flag.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

export function addMediaOptions(cmd: Command, allowSystem: boolean): Command {
  for (const o of MEDIA_OPTIONS) {
    const choices = Object.keys(o.values).concat(allowSystem ? ['system'] : []);
    cmd.option(`${o.flag} <${choices.join('|')}>`, o.help + (allowSystem ? ' ("system" = the system value)' : ''));
  }
  return cmd;
}

/** The media keys the options ask for; null (with allowSystem) = back to the system value. @throws CliError */
export function mediaPatchOf(opts: Record<string, unknown>, allowSystem: boolean): UserMediaPatch {
  const patch: Record<string, unknown> = {};
  for (const o of MEDIA_OPTIONS) {
    const raw = opts[prop(o.flag)];
    if (raw === undefined) continue;
    const v = String(raw).toLowerCase();
    if (allowSystem && v === 'system') patch[o.key] = null;
    else if (v in o.values) patch[o.key] = o.values[v];
    else throw new CliError(`${o.flag}: must be one of ${Object.keys(o.values).concat(allowSystem ? ['system'] : []).join(', ')}, not ${JSON.stringify(raw)}`);
  }
  return patch as UserMediaPatch;
}
