// The certificates as the API, the CLI's --json and the web UI carry them
// (SPEC §4.3, A-17, A-28, A-29, EC-12): certificate summaries with times in
// epoch ms, the identity each listener presents, trusted CAs, warnings, and
// what a change did to each listener. Never a key. No Node imports: the web
// UI type-checks it.
import { z } from 'zod';

const n = z.number().int();

export const certViewSchema = z.looseObject({
  subject: z.string(), issuer: z.string(), subjectAltNames: z.array(z.string()).describe('"DNS:x", "IP:y", "URI:z"'), serialNumber: z.string(),
  validFrom: n, validTo: n, fingerprintSha256: z.string(), isCa: z.boolean(), selfSigned: z.boolean(),
  keyType: z.string(), keyBits: n, signatureHash: z.string(),
});
export type CertView = z.infer<typeof certViewSchema>;

export const IDENTITY_ROLES = ['main', 'telephony'] as const;
export const EXPIRY_LEVELS = ['ok', 'days30', 'days7', 'days1', 'expired'] as const;

export const identityViewSchema = z.object({
  role: z.enum(IDENTITY_ROLES),
  source: z.enum(['auto', 'issued', 'imported']),
  offerChain: z.boolean(),
  updatedAt: z.string(),
  presentedBy: z.array(z.string()).describe('the listeners presenting it: "SIP TLS", "HTTPS"'),
  certificate: certViewSchema,
  chain: z.array(certViewSchema).describe('after the leaf, leaf-side first'),
  expiry: z.enum(EXPIRY_LEVELS),
});
export type IdentityView = z.infer<typeof identityViewSchema>;

export const trustedCaViewSchema = z.object({ fingerprint: z.string(), label: z.string(), certificate: certViewSchema });
export type TrustedCaView = z.infer<typeof trustedCaViewSchema>;

export const certWarningSchema = z.object({
  kind: z.enum(['san', 'self-signed', 'expiry', 'clock']),
  /** The identity it is about; 'ca' for the internal root. */
  subject: z.enum([...IDENTITY_ROLES, 'ca']),
  family: z.string().optional().describe('the client family (SPEC §4.3 table) it is about'),
  level: z.enum(EXPIRY_LEVELS).optional(),
  text: z.string(),
});
export type CertWarning = z.infer<typeof certWarningSchema>;

export const listenerChangeSchema = z.object({ name: z.string(), before: z.string(), after: z.string() });

export const appliedSchema = z.object({ listeners: z.array(listenerChangeSchema), renewed: z.string().nullable() })
  .describe('what each listener presented before the change and presents now (new handshakes; established connections keep theirs)');
export type Applied = z.infer<typeof appliedSchema>;
