// Why a phone is or is not working (issue 12 item 1; SPEC B-32, EC-04,
// AC-15): one extension's detail (registration per contact with its
// reachability, the last registration failures in plain words, last seen,
// calls, features) and the status list of every extension with its state.
// GET /api/users/:ext/detail, GET /api/status/extensions, `switchboard user
// show` and the web UI's extension page all use these shapes.
import { z } from 'zod';
import { callStatusSchema } from './status.ts';
import type { Known } from './status.ts';

/** Why a REGISTER was refused, as the detail page words it (failureText). */
export const FAILURE_REASONS = ['wrong-password', 'unknown-user', 'banned', 'transport', 'disabled', 'wrong-user', 'tls'] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

export const REACHABILITY = ['reachable', 'unreachable', 'unknown'] as const;
export type Reachability = (typeof REACHABILITY)[number];

/** The states the status list filters by; an extension may be in several (registered and in a call). */
export const LIST_STATES = ['registered', 'unregistered', 'failed', 'unreachable', 'in-call'] as const;
export type ListState = (typeof LIST_STATES)[number];
export const LIST_SORTS = ['extension', 'name', 'state', 'lastSeen', 'lastFailure'] as const;

export const registrationFailureSchema = z.object({
  at: z.number().int().describe('epoch ms'),
  reason: z.enum(FAILURE_REASONS),
  text: z.string().describe('the reason in plain words'),
  until: z.number().int().nullable().describe('banned: when the ban ends, epoch ms'),
  method: z.string().describe('REGISTER, INVITE, or TLS for a handshake'),
  address: z.string().describe('source address of the request (or connection)'),
  port: z.number().int(),
  transport: z.string(),
  userAgent: z.string().nullable(),
  user: z.string().nullable().describe('the name the request used (unknown names only in the global list)'),
});
export type RegistrationFailure = z.output<typeof registrationFailureSchema>;

export const lastSeenSchema = z.object({
  at: z.number().int().describe('epoch ms of the last request authenticated as this user'),
  method: z.string(),
  address: z.string(),
  port: z.number().int(),
  transport: z.string(),
});
export type LastSeen = z.output<typeof lastSeenSchema>;

export const probeStateSchema = z.object({
  state: z.enum(REACHABILITY),
  lastProbeAt: z.number().int().nullable(),
  rttMs: z.number().nullable(),
  since: z.number().int().nullable().describe('when the state began, epoch ms'),
});
export type ProbeState = z.output<typeof probeStateSchema>;

export const detailContactSchema = z.object({
  contact: z.string(),
  address: z.string(),
  port: z.number().int(),
  transport: z.string(),
  userAgent: z.string().nullable(),
  expiresAt: z.number().int(),
  registeredAt: z.number().int().describe('last REGISTER that refreshed it, epoch ms'),
  reachability: probeStateSchema.describe('OPTIONS keepalive (UDP contacts); unknown for others'),
});

const recentCallSchema = z.object({
  callRef: z.string(),
  startedAt: z.number().int(),
  answeredAt: z.number().int().nullable(),
  endedAt: z.number().int(),
  direction: z.string(),
  caller: z.string(),
  callee: z.string(),
  disposition: z.string(),
  status: z.number().int(),
});

export const extensionDetailSchema = z.object({
  extension: z.string(),
  name: z.string(),
  enabled: z.boolean(),
  registered: z.boolean(),
  state: z.string().describe('idle, ringing or connected'),
  mediaStream: z.string(),
  contacts: z.array(detailContactSchema),
  lastFailure: registrationFailureSchema.nullable(),
  recentFailures: z.array(registrationFailureSchema).describe('newest first'),
  tlsFailures: z.array(registrationFailureSchema).describe('TLS handshakes that failed from addresses this user used'),
  lastSeen: lastSeenSchema.nullable(),
  calls: z.array(callStatusSchema).describe('current calls'),
  recentCalls: z.array(recentCallSchema).describe('newest first, from the call records'),
  features: z.object({
    dnd: z.boolean(),
    forwardUnconditional: z.string().nullable(),
    forwardBusy: z.string().nullable(),
    forwardNoAnswer: z.string().nullable(),
    followMe: z.string().nullable(),
  }),
  voicemail: z.object({ enabled: z.boolean(), new: z.number().int(), saved: z.number().int() }).describe('the mailbox: on or off, and its messages'),
});
export type ExtensionDetail = Known<z.output<typeof extensionDetailSchema>>;

export const extensionRowSchema = z.object({
  extension: z.string(),
  name: z.string(),
  enabled: z.boolean(),
  registered: z.boolean(),
  state: z.enum(LIST_STATES).describe('the most telling of its states: in-call, unreachable, registered, failed, unregistered'),
  callState: z.string(),
  calls: z.number().int(),
  contacts: z.number().int(),
  address: z.string().nullable(),
  transport: z.string().nullable(),
  userAgent: z.string().nullable(),
  registeredUntil: z.number().int().nullable().describe('expiry of the newest registration, epoch ms'),
  mediaStream: z.string().describe('what its media security makes of its calls: "SRTP", "SRTP/RTP" or "RTP"'),
  lastFailure: registrationFailureSchema.nullable(),
  lastSeen: z.number().int().nullable(),
  messages: z.number().int().describe('new voicemail messages: its phones show message waiting while above 0'),
});
export type ExtensionRow = z.output<typeof extensionRowSchema>;

export const strangerFailuresSchema = z.object({
  items: z.array(registrationFailureSchema).describe('newest first'),
});

export const extensionListQuery = z.object({
  state: z.enum(LIST_STATES).optional(),
  q: z.string().max(100).optional().describe('extension or name contains'),
  sort: z.enum(LIST_SORTS).default('extension'),
  desc: z.enum(['true', 'false']).optional().transform((v) => v === 'true'),
  offset: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export const extensionListSchema = z.object({
  total: z.number().int().describe('extensions matching the filter'),
  counts: z.record(z.string(), z.number().int()).describe('extensions in each state, over all'),
  items: z.array(extensionRowSchema),
});
export type ExtensionList = z.output<typeof extensionListSchema>;

/** A failure in plain words, for the web UI, the CLI and the API. */
export function failureText(f: { reason: FailureReason; until: number | null; address: string; detail?: string }): string {
  switch (f.reason) {
    case 'wrong-password': return 'wrong password (digest response did not match)';
    case 'unknown-user': return 'unknown user name';
    case 'banned': return `banned until ${f.until === null ? '?' : new Date(f.until).toISOString().replace('T', ' ').slice(0, 19)} UTC (too many failed attempts)`;
    case 'transport': return `transport not allowed${f.detail ? `: ${f.detail}` : ''}`;
    case 'disabled': return 'account disabled';
    case 'wrong-user': return `its credentials used for another extension${f.detail ? ` (${f.detail})` : ''}`;
    case 'tls': return `TLS handshake failed from ${f.address}${f.detail ? `: ${f.detail}` : ''}`;
  }
}
