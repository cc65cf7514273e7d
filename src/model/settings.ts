// The system settings model: what GET/PUT /api/settings show, the system
// media settings with their defaults (the config file's media section takes
// them from here, src/config/schema.ts), and the administrator password
// rules. The values of the media keys are those of a user's media
// (src/model/user.ts): a user "Same as system" follows these. No Node
// imports: the web UI type-checks it.
import { z } from 'zod';
import { mediaValues } from './user.ts';

// --- system media -------------------------------------------------------------

/** The system media settings (SPEC 1.A "Media Security"): every key set, users override per key. */
export const systemMediaSchema = z.object(mediaValues);
export type SystemMedia = z.output<typeof systemMediaSchema>;

export const SYSTEM_MEDIA_DEFAULTS: Readonly<SystemMedia> = Object.freeze({
  /** Disabled by default; users may override. */
  security: 'disabled',
  /** Encrypted unless a user says otherwise (A-04: the gateway requires it). */
  srtcp: 'encrypted',
  /** Direct media where both legs allow it and agree; off = every call relayed. */
  directMedia: true,
  dtmf: 'rfc4733',
  /** RFC 5939 capability negotiation in Best Effort offers (only to phones that do it). */
  capneg: false,
  transport: 'any',
});

/** The media keys with their defaults, for the config file's media section. */
export const systemMediaFields = {
  security: mediaValues.security.default(SYSTEM_MEDIA_DEFAULTS.security),
  srtcp: mediaValues.srtcp.default(SYSTEM_MEDIA_DEFAULTS.srtcp),
  directMedia: mediaValues.directMedia.default(SYSTEM_MEDIA_DEFAULTS.directMedia),
  dtmf: mediaValues.dtmf.default(SYSTEM_MEDIA_DEFAULTS.dtmf),
  capneg: mediaValues.capneg.default(SYSTEM_MEDIA_DEFAULTS.capneg),
  transport: mediaValues.transport.default(SYSTEM_MEDIA_DEFAULTS.transport),
};

// --- administrator passwords --------------------------------------------------

/** Rules for administrator passwords (SPEC 4.1 "strict password requirements", "password expiration"). */
export const passwordPolicySchema = z
  .object({
    minLength: z.number().int().min(8).max(128).default(12),
    /** Of lowercase, uppercase, digits, other characters: how many must appear. */
    requireClasses: z.number().int().min(1).max(4).default(3),
    /** A password older than this must be changed at the next login; 0 = never expires. */
    maxAgeDays: z.number().int().min(0).max(3650).default(0),
  })
  .strict();
export type PasswordPolicy = z.output<typeof passwordPolicySchema>;

// --- GET/PUT /api/settings ----------------------------------------------------

/** The settings as one configuration has them; listeners as "HOST:PORT" text. */
export const settingsViewSchema = z.object({
  sip: z.object({ domain: z.string(), udp: z.string(), tcp: z.string(), tls: z.string() }),
  registrar: z.object({ minExpiresSec: z.number().int(), maxExpiresSec: z.number().int(), defaultExpiresSec: z.number().int() }),
  media: systemMediaSchema,
});
export type SettingsView = z.output<typeof settingsViewSchema>;

export const keyInfoSchema = z.object({
  appliesAt: z.enum(['next-start', 'next-call']).describe('next-start: at the next start of the server; next-call: on the running server'),
  restartRequired: z.boolean().describe('the saved value waits for a restart'),
});
export type KeyInfo = z.output<typeof keyInfoSchema>;

export const settingsResponseSchema = z.object({
  settings: settingsViewSchema.describe('what the server will use: from its next start (sip, registrar), for its next call (media)'),
  running: settingsViewSchema.describe('what it uses now'),
  overrides: z.record(z.string(), z.unknown()).describe('values saved through the API or the command line, by dotted key'),
  pinned: z.array(z.string()).describe('keys the command line fixes for this run; their saved values wait'),
  keys: z.record(z.string(), keyInfoSchema).describe('per dotted key: when a change applies, and whether one waits for a restart'),
  restartRequired: z.boolean().describe('some key waits for a restart'),
});
export type SettingsResponse = z.output<typeof settingsResponseSchema>;
