// System settings changed through the API. They are stored in the database as
// overrides by dotted key, validated by the very validators of the config
// schema, and applied over the config file at the next start (the SIP
// listeners cannot move under running calls).
import { z } from 'zod';
import { configSchema, type Config } from '../config/schema.ts';
import type { SettingsRepository } from '../store/admin-types.ts';

const sip = configSchema.shape.sip.unwrap().shape;
const registrar = configSchema.shape.registrar.unwrap().shape;

/** Each setting the API may change: its config validator (defaults removed) and where it lives in Config. */
const SETTINGS = {
  'sip.domain': sip.domain.unwrap(),
  'sip.udp': sip.udp.unwrap(),
  'sip.tcp': sip.tcp.unwrap(),
  'sip.tls': sip.tls.unwrap(),
  'registrar.minExpiresSec': registrar.minExpiresSec.unwrap(),
  'registrar.maxExpiresSec': registrar.maxExpiresSec.unwrap(),
  'registrar.defaultExpiresSec': registrar.defaultExpiresSec.unwrap(),
} as const;
export type SettingKey = keyof typeof SETTINGS;
export const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[];

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
  })
  .strict();

const settingsShape = z.object({
  sip: z.object({ domain: z.string(), udp: z.string(), tcp: z.string(), tls: z.string() }),
  registrar: z.object({ minExpiresSec: z.number().int(), maxExpiresSec: z.number().int(), defaultExpiresSec: z.number().int() }),
});
export type SettingsView = z.output<typeof settingsShape>;

export const settingsResponseSchema = z.object({
  settings: settingsShape.describe('what the server will use from its next start'),
  running: settingsShape.describe('what it uses now'),
  overrides: z.record(z.string(), z.unknown()).describe('values saved through the API, by dotted key'),
  pinned: z.array(z.string()).describe('keys the command line fixes for this run; their saved values wait'),
  restartRequired: z.boolean(),
});

function hostPort(a: { host: string; port: number }): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

export function settingsView(c: Config): SettingsView {
  return {
    sip: { domain: c.sip.domain, udp: hostPort(c.sip.udp), tcp: hostPort(c.sip.tcp), tls: hostPort(c.sip.tls) },
    registrar: {
      minExpiresSec: c.registrar.minExpiresSec,
      maxExpiresSec: c.registrar.maxExpiresSec,
      defaultExpiresSec: c.registrar.defaultExpiresSec,
    },
  };
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

/** The config with the stored overrides applied, except the pinned keys. */
export function applyStoredSettings(base: Config, stored: Record<string, unknown>, pinned: readonly string[] = []): AppliedSettings {
  const config = structuredClone(base);
  const skipped: AppliedSettings['skipped'] = [];
  for (const key of SETTING_KEYS) {
    if (!(key in stored) || pinned.includes(key)) continue;
    const r = SETTINGS[key].safeParse(stored[key]);
    if (!r.success) {
      skipped.push({ key, message: r.error.issues[0]?.message ?? 'invalid' });
      continue;
    }
    const [section, field] = key.split('.') as ['sip' | 'registrar', string];
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

/** Reads the stored overrides of a settings repository, limited to the known keys. */
export function storedSettings(repo: SettingsRepository): Record<string, unknown> {
  const all = repo.getAll();
  const out: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) if (key in all) out[key] = all[key];
  return out;
}
