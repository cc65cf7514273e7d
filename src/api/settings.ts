// System settings changed through the API. They are stored in the database as
// overrides by dotted key and validated by the very validators of the config
// schema. Two kinds: the SIP and registrar settings apply over the config file
// at the next start (the SIP listeners cannot move under running calls); the
// media settings are the ones `switchboard system set` writes, which the
// running server polls (src/pbx/media/profile.ts), so they apply to the next
// call without a restart.
import { z } from 'zod';
import { configSchema, type Config } from '../config/schema.ts';
import {
  settingsResponseSchema, type KeyInfo, type SettingsView, type SystemMedia,
} from '../model/settings.ts';
import type { SettingsRepository } from '../store/admin-types.ts';

const sip = configSchema.shape.sip.unwrap().shape;
const registrar = configSchema.shape.registrar.unwrap().shape;
const media = configSchema.shape.media.unwrap().shape;

/** Settings applied at the next start: their config validator (defaults removed). */
const RESTART_SETTINGS = {
  'sip.domain': sip.domain.unwrap(),
  'sip.udp': sip.udp.unwrap(),
  'sip.tcp': sip.tcp.unwrap(),
  'sip.tls': sip.tls.unwrap(),
  'registrar.minExpiresSec': registrar.minExpiresSec.unwrap(),
  'registrar.maxExpiresSec': registrar.maxExpiresSec.unwrap(),
  'registrar.defaultExpiresSec': registrar.defaultExpiresSec.unwrap(),
} as const;

/** Settings the running server polls: the same keys and rules as the CLI's `system set` and a user's media. */
const LIVE_SETTINGS = {
  'media.security': media.security.unwrap(),
  'media.srtcp': media.srtcp.unwrap(),
  'media.directMedia': media.directMedia.unwrap(),
  'media.dtmf': media.dtmf.unwrap(),
  'media.capneg': media.capneg.unwrap(),
  'media.transport': media.transport.unwrap(),
} as const;

const SETTINGS = { ...RESTART_SETTINGS, ...LIVE_SETTINGS };
export type SettingKey = keyof typeof SETTINGS;
export const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[];
const RESTART_KEYS = Object.keys(RESTART_SETTINGS) as (keyof typeof RESTART_SETTINGS)[];
const LIVE_KEYS = Object.keys(LIVE_SETTINGS) as (keyof typeof LIVE_SETTINGS)[];

export function isLiveSetting(key: string): boolean {
  return key in LIVE_SETTINGS;
}

/** Input form of a listener: the "HOST:PORT" text, validated by the config's parser. */
const listen = z.string().superRefine((value, ctx) => {
  const r = SETTINGS['sip.udp'].safeParse(value);
  if (!r.success) for (const i of r.error.issues) ctx.addIssue({ code: 'custom', message: i.message });
});
const change = <T extends z.ZodType>(s: T) => s.nullable().optional();

/** PUT body: a value sets an override, null removes it (back to the config file), absent keeps it. */
export const settingsPutSchema = z
  .object({
    sip: z.object({
      domain: change(SETTINGS['sip.domain']), udp: change(listen), tcp: change(listen), tls: change(listen),
    }).strict().optional(),
    registrar: z.object({
      minExpiresSec: change(SETTINGS['registrar.minExpiresSec']),
      maxExpiresSec: change(SETTINGS['registrar.maxExpiresSec']),
      defaultExpiresSec: change(SETTINGS['registrar.defaultExpiresSec']),
    }).strict().optional(),
    media: z.object({
      security: change(LIVE_SETTINGS['media.security']).describe('SRTP policy: disabled, best-effort or enforced'),
      srtcp: change(LIVE_SETTINGS['media.srtcp']),
      directMedia: change(LIVE_SETTINGS['media.directMedia']),
      dtmf: change(LIVE_SETTINGS['media.dtmf']).describe('rfc4733 events, or info (SIP INFO)'),
      capneg: change(LIVE_SETTINGS['media.capneg']).describe('RFC 5939 capability negotiation in Best Effort offers'),
      transport: change(LIVE_SETTINGS['media.transport']).describe('tls: phones must register and call over TLS'),
    }).strict().optional().describe('applied by the running server to its next call, no restart'),
  })
  .strict();

export { settingsResponseSchema };

function hostPort(a: { host: string; port: number }): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

function mediaView(m: Config['media']): SystemMedia {
  return { security: m.security, srtcp: m.srtcp, directMedia: m.directMedia, dtmf: m.dtmf, capneg: m.capneg, transport: m.transport };
}

/** The view of a configuration; `liveMedia` is what the running server polled, when it differs from c.media. */
export function settingsView(c: Config, liveMedia: Config['media'] = c.media): SettingsView {
  return {
    sip: { domain: c.sip.domain, udp: hostPort(c.sip.udp), tcp: hostPort(c.sip.tcp), tls: hostPort(c.sip.tls) },
    registrar: {
      minExpiresSec: c.registrar.minExpiresSec,
      maxExpiresSec: c.registrar.maxExpiresSec,
      defaultExpiresSec: c.registrar.defaultExpiresSec,
    },
    media: mediaView(liveMedia),
  };
}

/** The value of a dotted key in a view. */
export function viewValue(v: SettingsView, key: string): unknown {
  const [section, field] = key.split('.') as [keyof SettingsView, string];
  return (v[section] as Record<string, unknown>)[field];
}

/** When each key applies, and which saved values wait for a restart. */
export function keyInfos(next: SettingsView, running: SettingsView): Record<string, KeyInfo> {
  const out: Record<string, KeyInfo> = {};
  for (const key of RESTART_KEYS) {
    out[key] = { appliesAt: 'next-start', restartRequired: viewValue(next, key) !== viewValue(running, key) };
  }
  for (const key of LIVE_KEYS) out[key] = { appliesAt: 'next-call', restartRequired: false };
  return out;
}

/** Flattens a PUT body into dotted keys (null = remove). */
export function flattenPut(body: z.output<typeof settingsPutSchema>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [section, values] of Object.entries(body)) {
    for (const [k, v] of Object.entries(values ?? {})) if (v !== undefined) out[`${section}.${k}`] = v;
  }
  return out;
}

export interface AppliedSettings {
  config: Config;
  /** Stored values that no longer validate (e.g. after an upgrade); they are skipped. */
  skipped: { key: string; message: string }[];
}

/**
 * The config with the stored overrides applied, except the pinned keys.
 * By default only the settings of the next start: the running server's
 * media poller starts from the config file's media section, so a media
 * override removed later falls back to the file, not to a stale copy.
 */
export function applyStoredSettings(
  base: Config, stored: Record<string, unknown>, pinned: readonly string[] = [], opts: { live?: boolean } = {},
): AppliedSettings {
  const config = structuredClone(base);
  const skipped: AppliedSettings['skipped'] = [];
  for (const key of opts.live ? SETTING_KEYS : RESTART_KEYS) {
    if (!(key in stored) || pinned.includes(key)) continue;
    const r = SETTINGS[key].safeParse(stored[key]);
    if (!r.success) {
      skipped.push({ key, message: r.error.issues[0]?.message ?? 'invalid' });
      continue;
    }
    const [section, field] = key.split('.') as ['sip' | 'registrar' | 'media', string];
    (config[section] as Record<string, unknown>)[field] = r.data;
  }
  return { config, skipped };
}

/** Cross-field rules the per-field validators cannot see. */
export function settingsProblems(c: Config): { path: string; message: string }[] {
  const r = c.registrar;
  const out: { path: string; message: string }[] = [];
  if (r.minExpiresSec > r.maxExpiresSec) out.push({ path: 'registrar.minExpiresSec', message: 'must not exceed maxExpiresSec' });
  if (r.defaultExpiresSec < r.minExpiresSec || r.defaultExpiresSec > r.maxExpiresSec) {
    out.push({ path: 'registrar.defaultExpiresSec', message: 'must lie between minExpiresSec and maxExpiresSec' });
  }
  return out;
}

/**
 * Saved media values that do not validate. The server's poller ignores all
 * media overrides while one is bad, so a change is refused until it is fixed.
 */
export function invalidLiveValues(stored: Record<string, unknown>): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  for (const key of LIVE_KEYS) {
    if (!(key in stored)) continue;
    const r = LIVE_SETTINGS[key].safeParse(stored[key]);
    if (!r.success) {
      const why = r.error.issues[0]?.message ?? 'invalid';
      out.push({ path: key, message: `the saved value ${JSON.stringify(stored[key])} is invalid (${why}); send a new value or null` });
    }
  }
  return out;
}

/** Reads the stored overrides of a settings repository, limited to the known keys. */
export async function storedSettings(repo: SettingsRepository): Promise<Record<string, unknown>> {
  const all = await repo.getAll();
  const out: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) if (key in all) out[key] = all[key];
  return out;
}
