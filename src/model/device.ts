// The device model (SPEC §5, C-section): a phone or DECT base that fetches its
// configuration from the provisioning server. One row per device, keyed by its
// MAC; the lines it carries are Switchboard users (a DECT base carries one per
// handset). Family-specific choices live in `options`, which each family's
// generator validates (src/provisioning/families/). No Node imports: the web
// UI type-checks it.
import { z } from 'zod';
import { extensionSchema, textSchema } from './common.ts';

/** The phone families the provisioning server writes files for. */
export const DEVICE_FAMILIES = [
  'avaya-46xx',
  'avaya-11xx',
  'avaya-b179',
  'avaya-e129',
  'spectralink-84',
  'yealink-dect',
  'gigaset-dect',
  'snom-dect',
] as const;
export type DeviceFamily = (typeof DEVICE_FAMILIES)[number];

/** Accepts "00:04:f2:aa:bb:cc", "00-04-F2-AA-BB-CC" or "0004f2aabbcc"; stores 12 lowercase hex digits. */
export function normaliseMac(text: string): string | undefined {
  const bare = text.trim().toLowerCase().replace(/[:.-]/g, '');
  return /^[0-9a-f]{12}$/.test(bare) ? bare : undefined;
}

export const macSchema = z.string().transform((s, ctx) => {
  const mac = normaliseMac(s);
  if (mac === undefined) {
    ctx.addIssue({ code: 'custom', message: 'must be a MAC address: 12 hex digits, optionally separated by : or -' });
    return z.NEVER;
  }
  return mac;
});

/** A family option value: the generators read these (layout, product ID, sign-in mode...). */
export const deviceOptionValue = z.union([z.string().max(256), z.number(), z.boolean()]);

/** Up to this many lines per device: a multi-cell DECT system carries one per handset. */
export const MAX_DEVICE_LINES = 250;

export const deviceFieldSchemas = {
  mac: macSchema,
  family: z.enum(DEVICE_FAMILIES, { error: `must be one of ${DEVICE_FAMILIES.join(', ')}` }),
  /** e.g. "J179", "1140e", "8441", "W60B"; the family's generator says which it knows. */
  model: textSchema(0, 64).nullable(),
  /** The users this device registers, line 1 first (a DECT base: handset 1, 2...). */
  extensions: z.array(extensionSchema).min(1).max(MAX_DEVICE_LINES)
    .refine((l) => new Set(l).size === l.length, 'must not repeat an extension'),
  /** Free text for the administrator ("ward 3 nurses' station"). */
  label: textSchema(0, 128),
  /** A disabled device is refused its files (403) but kept. */
  enabled: z.boolean(),
  options: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9_.-]{0,63}$/), deviceOptionValue)
    .refine((o) => Object.keys(o).length <= 64, 'at most 64 options'),
};

/** A device as the API shows it: the provisioning secrets are never part of it. */
export const deviceViewSchema = z.object({
  id: z.number().int(),
  mac: z.string(),
  family: z.enum(DEVICE_FAMILIES),
  model: z.string().nullable(),
  extensions: z.array(z.string()),
  label: z.string(),
  enabled: z.boolean(),
  options: z.record(z.string(), deviceOptionValue),
  /** The last request the provisioning server answered for this device. */
  lastFetch: z.object({
    at: z.number().int(),
    file: z.string(),
    /** HTTP status sent. */
    status: z.number().int(),
    /** "served", or why not, in words. */
    result: z.string(),
    source: z.string(),
  }).nullable(),
  createdAt: z.number().int(),
  updatedAt: z.number().int(),
});
export type DeviceView = z.output<typeof deviceViewSchema>;

export const deviceCreateSchema = z.object({
  mac: deviceFieldSchemas.mac,
  family: deviceFieldSchemas.family,
  model: deviceFieldSchemas.model.optional(),
  extensions: deviceFieldSchemas.extensions,
  label: deviceFieldSchemas.label.optional(),
  enabled: deviceFieldSchemas.enabled.optional(),
  options: deviceFieldSchemas.options.optional(),
}).strict();
export type DeviceCreate = z.output<typeof deviceCreateSchema>;

export const devicePatchSchema = deviceCreateSchema.omit({ mac: true }).partial().strict();
export type DevicePatch = z.output<typeof devicePatchSchema>;
