// Schemas of the live status answers, for the OpenAPI document. Loose objects:
// the status service grows fields (media statistics, features) and clients
// must ignore what they do not know.
import { z } from 'zod';

const contact = z.looseObject({
  contact: z.string(),
  transport: z.string(),
  address: z.string(),
  port: z.number().int(),
  userAgent: z.string().nullable(),
  expiresAt: z.number().int(),
});

export const extensionStatusSchema = z.looseObject({
  extension: z.string(),
  name: z.string(),
  registered: z.boolean(),
  contacts: z.array(contact),
  state: z.enum(['idle', 'ringing', 'connected']),
  calls: z.number().int(),
});

export const callStatusSchema = z.looseObject({
  ref: z.string(),
  state: z.string(),
  direction: z.string(),
  caller: z.string(),
  callerName: z.string(),
  callee: z.string(),
  calleeExtension: z.string().nullable(),
  trunk: z.string().nullable(),
  startedAt: z.number().int(),
  answeredAt: z.number().int().nullable(),
  durationSec: z.number().int(),
  codec: z.string().nullable(),
  held: z.boolean(),
  connectionType: z.string(),
});

export const alarmSchema = z.looseObject({
  id: z.string(),
  kind: z.string(),
  severity: z.enum(['critical', 'major', 'minor', 'warning']),
  text: z.string(),
  source: z.string().optional(),
  since: z.number().int(),
  lastAt: z.number().int(),
  count: z.number().int(),
  clearAt: z.number().int().optional(),
});

export const statusSnapshotSchema = z.looseObject({
  at: z.number().int().describe('server time of the snapshot, epoch ms'),
  extensions: z.array(extensionStatusSchema).describe('registered extensions and extensions in calls'),
  calls: z.array(callStatusSchema),
  trunks: z.array(z.looseObject({})),
  parked: z.array(z.object({
    slot: z.string(),
    call: z.string().describe('the parked call\'s reference'),
    party: z.object({ number: z.string(), name: z.string() }).describe('who waits in the slot'),
    parkedBy: z.string().nullable().describe('extension that parked it'),
    since: z.number().int().describe('epoch ms'),
  })).describe('calls waiting in park slots; *38*S# takes one'),
});

export const alarmListSchema = z.object({ items: z.array(alarmSchema) });

export const userActivityQuery = z
  .object({
    extensions: z
      .string()
      .max(20_000)
      .transform((s) => [...new Set(s.split(',').map((x) => x.trim()).filter((x) => x !== ''))])
      .pipe(z.array(z.string().max(64)).min(1).max(500))
      .describe('comma-separated extensions, at most 500'),
  })
  .strict();

export const userActivitySchema = z.object({
  items: z.array(z.object({
    extension: z.string(),
    registered: z.boolean(),
    /** The newest binding's device. */
    userAgent: z.string().nullable(),
    address: z.string().nullable(),
    transport: z.string().nullable(),
    state: z.enum(['idle', 'ringing', 'connected']),
    registeredUntil: z.number().int().nullable().describe('expiry of the latest registration, epoch ms'),
    lastCallAt: z.number().int().nullable().describe('start of the newest call (active or recorded), epoch ms'),
  })),
});
