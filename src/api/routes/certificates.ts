// The Certificates API (SPEC §4.3, A-17, A-28, A-29, B-18, EC-12): the
// identities each listener presents, issuing and importing them, the offer
// chain switch, the telephony identity, trusted CAs, and the client families
// the identities are checked against. Every change is audited and applies at
// once: the running server (every worker) reloads, and the answer says what
// each listener presented before and presents now. Keys never leave the server.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import {
  appliedSchema, certViewSchema, certWarningSchema, IDENTITY_ROLES, identityViewSchema, trustedCaViewSchema,
} from '../../model/certificates.ts';
import { certificateOverview, certView } from '../../security/cert-overview.ts';
import type { CertificateOverview } from '../../security/cert-overview.ts';
import { CertificateParseError } from '../../security/cert-info.ts';
import { CLIENT_FAMILIES, CLIENT_FAMILY_PROFILES } from '../../security/client-families.ts';
import { readSelectedFamilies, writeSelectedFamilies } from '../../security/client-family-selection.ts';
import {
  IdentityImportError, identityPaths, importIdentity, issueIdentity, proposedSans, readIdentity, removeTelephonyIdentity, setOfferChain,
} from '../../security/identity-store.ts';
import type { IdentityImportSource, IdentitySummary } from '../../security/identity-store.ts';
import { Pkcs12Error } from '../../security/pkcs12.ts';
import { addTrustedCas, exportTrustedCa, listTrustedCas, removeTrustedCa, TrustStoreError } from '../../security/trust-store.ts';
import { audit, type ApiContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import type { RouteTable } from '../route.ts';
import type { SystemSource } from './system.ts';

const certSchema = certViewSchema;
const roleSchema = z.enum(IDENTITY_ROLES);
const identitySchema = identityViewSchema;
const trustedSchema = trustedCaViewSchema;
const familySchema = z.enum(CLIENT_FAMILIES);
const warningSchema = certWarningSchema;
const overviewSchema = z.object({
  ca: certSchema.describe('the internal root CA phones trust (/ca.pem, /ca.der)'),
  identity: certSchema.describe('the main identity (HTTPS; SIP TLS too without a telephony identity)'),
  identities: z.array(identitySchema),
  trusted: z.array(trustedSchema),
  clientFamilies: z.object({ selected: z.array(familySchema), devices: z.array(familySchema) }),
  site: z.object({ fqdn: z.string(), domain: z.string(), lan: z.array(z.string()), public: z.string().optional() }),
  warnings: z.array(warningSchema).describe('SAN gaps and refused self-signed identities per client family (A-28, A-29), expiry, clock problems (EC-12)'),
});
const sanSchema = z.object({ dns: z.array(z.string().min(1).max(253)).max(50), ips: z.array(z.string()).max(50), uris: z.array(z.string().min(1).max(512)).max(50) });
const changedIdentitySchema = z.object({ identity: identitySchema.omit({ presentedBy: true, expiry: true }).extend({ certificate: certSchema }), applied: appliedSchema, warnings: z.array(warningSchema) });

const IMPORT_LIMIT = 256 * 1024;

/** The library's errors that are the administrator's to fix: 400 with its words. */
function asBadRequest(err: unknown): unknown {
  if (err instanceof IdentityImportError) return new ApiError(400, `identity-${err.problem}`, err.message);
  if (err instanceof Pkcs12Error) return new ApiError(400, `pkcs12-${err.problem}`, err.message);
  if (err instanceof TrustStoreError || err instanceof CertificateParseError) return new ApiError(400, 'certificate', err.message);
  if (err instanceof TypeError || err instanceof RangeError) return new ApiError(400, 'validation', err.message);
  return err;
}

async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw asBadRequest(err);
  }
}

const identityOut = (id: IdentitySummary) => ({
  role: id.role, source: id.source, offerChain: id.offerChain, updatedAt: id.updatedAt, certificate: certView(id.certificate), chain: id.chain.map(certView),
});

export function certificateRoutes(t: RouteTable, ctx: ApiContext, sys: SystemSource): void {
  const { dataDir } = sys;
  const overview = (): Promise<CertificateOverview> => certificateOverview({ dataDir, site: sys.site(), now: new Date(ctx.now()), devices: ctx.store.devices });
  /** The running server (every worker) presents what the data directory now holds. */
  const apply = async () => {
    const r = await sys.applyCertificates();
    return { listeners: r.listeners, renewed: r.renewed };
  };
  const familyWarnings = async () => (await overview()).warnings.filter((w) => w.kind === 'san' || w.kind === 'self-signed');

  t.add({
    method: 'GET', url: '/api/certificates', tag: 'certificates', access: 'read',
    summary: 'Identities per listener, the root CA, trusted CAs, client families and warnings (never a key)',
    response: { description: 'the overview', schema: overviewSchema },
    handler: async () => {
      const o = await overview();
      const main = o.identities.find((i) => i.role === 'main');
      if (!main) throw new ApiError(503, 'no-identity', 'the main identity is missing from the data directory');
      return { ...o, identity: main.certificate };
    },
  });

  t.add({
    method: 'GET', url: '/api/certificates/identity.pem', tag: 'certificates', access: 'read',
    summary: "An identity's certificate (PEM; the key never leaves the server)",
    query: z.object({ role: roleSchema.default('main') }),
    response: { description: 'the certificate', contentTypes: ['application/x-pem-file'] },
    errors: [404],
    handler: async (req) => {
      if ((await readIdentity(dataDir, req.query.role)) === null) throw new ApiError(404, 'not-found', `no ${req.query.role} identity`);
      const pem = await readFile(identityPaths(dataDir, req.query.role).cert, 'utf8');
      void req.reply.type('application/x-pem-file').header('content-disposition', `attachment; filename="switchboard-${req.query.role}-identity.pem"`);
      return pem;
    },
  });

  t.add({
    method: 'GET', url: '/api/certificates/proposed', tag: 'certificates', access: 'read',
    summary: 'The subject and names SPEC §4.3 proposes for a new identity (FQDN, LAN addresses, public address, sip:domain)',
    description: 'With E129 phones among the client families, the LAN addresses are proposed as DNS names too (Appendix A #25).',
    response: { description: 'the proposal', schema: z.object({ commonName: z.string(), san: sanSchema }) },
    handler: async () => {
      const site = sys.site();
      const e129 = (await readSelectedFamilies(dataDir)).includes('avaya-e129');
      return { commonName: site.fqdn, san: proposedSans({ ...site, e129 }) };
    },
  });

  t.add({
    method: 'POST', url: '/api/certificates/identities/:role/issue', tag: 'certificates', access: 'security',
    summary: 'Issue an identity from the internal CA (SHA-256, RSA-2048) and apply it at once',
    params: z.object({ role: roleSchema }),
    body: z.strictObject({
      commonName: z.string().min(1).max(64).optional().describe('default: this host\'s name'),
      san: sanSchema.optional().describe('default: the proposed names'),
      days: z.number().int().min(1).max(36500).optional(),
    }),
    response: { status: 201, description: 'issued and applied', schema: changedIdentitySchema },
    errors: [400],
    handler: async (req) => {
      const site = sys.site();
      const before = await readIdentity(dataDir, req.params.role);
      const e129 = (await readSelectedFamilies(dataDir)).includes('avaya-e129');
      const id = await guarded(() => issueIdentity(dataDir, req.params.role, {
        commonName: req.body.commonName ?? site.fqdn, san: req.body.san ?? proposedSans({ ...site, e129 }), days: req.body.days,
      }));
      await audit(ctx, req, `certificates:${req.params.role}`, before && identityOut(before), identityOut(id), 'issue identity');
      return { identity: identityOut(id), applied: await apply(), warnings: await familyWarnings() };
    },
  });

  t.add({
    method: 'POST', url: '/api/certificates/identities/:role/import', tag: 'certificates', access: 'security',
    summary: 'Import an identity made elsewhere (PKCS#12 with its password, or a PEM key and chain) and apply it at once',
    description: 'The key must match the certificate; the chain must continue from it; RSA < 2048, SHA-1 and expired certificates are refused.',
    params: z.object({ role: roleSchema }),
    body: z.union([
      z.strictObject({ p12: z.string().min(1).describe('the PKCS#12 file, base64'), password: z.string().max(256).optional() }),
      z.strictObject({ keyPem: z.string().min(1), chainPem: z.string().min(1).describe('the certificate, then its intermediates') }),
    ]),
    bodyLimit: IMPORT_LIMIT * 2,
    response: { status: 201, description: 'imported and applied', schema: changedIdentitySchema },
    errors: [400],
    handler: async (req) => {
      const b = req.body;
      const src: IdentityImportSource = 'p12' in b ? { p12: Buffer.from(b.p12, 'base64'), password: b.password } : { keyPem: b.keyPem, chainPem: b.chainPem };
      const before = await readIdentity(dataDir, req.params.role);
      const id = await guarded(() => importIdentity(dataDir, req.params.role, src, new Date(ctx.now())));
      await audit(ctx, req, `certificates:${req.params.role}`, before && identityOut(before), identityOut(id), 'import identity');
      return { identity: identityOut(id), applied: await apply(), warnings: await familyWarnings() };
    },
  });

  t.add({
    method: 'PUT', url: '/api/certificates/identities/:role/offer-chain', tag: 'certificates', access: 'security',
    summary: 'A-17 "Offer ID Certificate Chain": send the intermediates in handshakes, or the identity alone',
    params: z.object({ role: roleSchema }),
    body: z.strictObject({ offerChain: z.boolean() }),
    response: { description: 'changed and applied', schema: changedIdentitySchema },
    errors: [400],
    handler: async (req) => {
      const before = await readIdentity(dataDir, req.params.role);
      if (before === null) throw new ApiError(400, 'no-identity', `there is no ${req.params.role} identity`);
      const id = await guarded(() => setOfferChain(dataDir, req.params.role, req.body.offerChain));
      await audit(ctx, req, `certificates:${req.params.role}`, { offerChain: before.offerChain }, { offerChain: id.offerChain }, 'offer chain');
      return { identity: identityOut(id), applied: await apply(), warnings: await familyWarnings() };
    },
  });

  t.add({
    method: 'DELETE', url: '/api/certificates/identities/telephony', tag: 'certificates', access: 'security',
    summary: 'Remove the telephony identity: SIP TLS presents the main identity again, at once',
    response: { description: 'removed and applied', schema: z.object({ applied: appliedSchema }) },
    errors: [404],
    handler: async (req) => {
      const before = await readIdentity(dataDir, 'telephony');
      if (before === null || !(await removeTelephonyIdentity(dataDir))) throw new ApiError(404, 'not-found', 'there is no telephony identity');
      await audit(ctx, req, 'certificates:telephony', identityOut(before), null, 'remove telephony identity');
      return { applied: await apply() };
    },
  });

  trustedRoutes(t, ctx, dataDir, apply);

  t.add({
    method: 'GET', url: '/api/certificates/client-families', tag: 'certificates', access: 'read',
    summary: 'The client families of the SPEC §4.3 table: which this site has (selected) and what each checks',
    response: {
      description: 'the families',
      schema: z.object({
        selected: z.array(familySchema),
        families: z.array(z.object({ family: familySchema, label: z.string(), chainValidation: z.string(), hostnameCheck: z.string(), acceptsSelfSigned: z.boolean().nullable() })),
      }),
    },
    handler: async () => ({
      selected: await readSelectedFamilies(dataDir),
      families: CLIENT_FAMILIES.map((f) => {
        const p = CLIENT_FAMILY_PROFILES[f];
        return { family: f, label: p.label, chainValidation: p.chainValidation, hostnameCheck: p.hostnameCheck, acceptsSelfSigned: p.acceptsSelfSigned };
      }),
    }),
  });

  t.add({
    method: 'PUT', url: '/api/certificates/client-families', tag: 'certificates', access: 'security',
    summary: 'Choose the client families this site has; the identities are checked against them (A-29)',
    body: z.strictObject({ selected: z.array(familySchema).max(CLIENT_FAMILIES.length) }),
    response: { description: 'saved', schema: z.object({ selected: z.array(familySchema), warnings: z.array(warningSchema) }) },
    handler: async (req) => {
      const before = await readSelectedFamilies(dataDir);
      const selected = await writeSelectedFamilies(dataDir, req.body.selected);
      await audit(ctx, req, 'certificates:client-families', { selected: before }, { selected }, 'client families');
      return { selected, warnings: await familyWarnings() };
    },
  });
}

function trustedRoutes(t: RouteTable, ctx: ApiContext, dataDir: string, apply: () => Promise<z.input<typeof appliedSchema>>): void {
  const fingerprintParams = z.object({ fingerprint: z.string().regex(/^[0-9A-Fa-f:]{4,95}$/, 'a SHA-256 fingerprint or a unique start of it') });

  t.add({
    method: 'GET', url: '/api/certificates/trusted', tag: 'certificates', access: 'read',
    summary: 'CAs trusted for outbound TLS (trunks) and mutual TLS peers, besides the internal root',
    response: { description: 'the CAs', schema: z.object({ items: z.array(trustedSchema) }) },
    handler: async () => ({ items: (await listTrustedCas(dataDir)).map((c) => ({ fingerprint: c.fingerprint, label: c.label, certificate: certView(c.certificate) })) }),
  });

  t.add({
    method: 'POST', url: '/api/certificates/trusted', tag: 'certificates', access: 'security',
    summary: 'Trust the CA certificates in a file (PEM, several at once; DER or .cer as base64) and apply at once',
    body: z.strictObject({
      pem: z.string().max(IMPORT_LIMIT).optional().describe('one or more PEM certificates'),
      der: z.string().max(IMPORT_LIMIT).optional().describe('a DER or .cer file, base64'),
      label: z.string().min(1).max(128).optional(),
    }).refine((b) => (b.pem === undefined) !== (b.der === undefined), 'give pem or der'),
    bodyLimit: IMPORT_LIMIT * 2,
    response: { status: 201, description: 'trusted and applied', schema: z.object({ added: z.array(trustedSchema), applied: appliedSchema }) },
    errors: [400],
    handler: async (req) => {
      const data = req.body.pem !== undefined ? Buffer.from(req.body.pem, 'utf8') : Buffer.from(req.body.der!, 'base64');
      const added = await guarded(() => addTrustedCas(dataDir, data, req.body.label));
      const out = added.map((c) => ({ fingerprint: c.fingerprint, label: c.label, certificate: certView(c.certificate) }));
      await audit(ctx, req, 'certificates:trusted', null, out.map((c) => ({ label: c.label, subject: c.certificate.subject, fingerprint: c.fingerprint })), 'trust CA');
      return { added: out, applied: await apply() };
    },
  });

  t.add({
    method: 'DELETE', url: '/api/certificates/trusted/:fingerprint', tag: 'certificates', access: 'security',
    summary: 'Stop trusting a CA (named by its fingerprint or a unique start of it), at once',
    params: fingerprintParams,
    response: { description: 'removed and applied', schema: z.object({ removed: trustedSchema, applied: appliedSchema }) },
    errors: [404],
    handler: async (req) => {
      let removed;
      try {
        removed = await removeTrustedCa(dataDir, req.params.fingerprint);
      } catch (err) {
        if (err instanceof TrustStoreError) throw new ApiError(404, 'not-found', err.message);
        throw err;
      }
      const out = { fingerprint: removed.fingerprint, label: removed.label, certificate: certView(removed.certificate) };
      await audit(ctx, req, 'certificates:trusted', { label: out.label, subject: out.certificate.subject, fingerprint: out.fingerprint }, null, 'remove trusted CA');
      return { removed: out, applied: await apply() };
    },
  });

  t.add({
    method: 'GET', url: '/api/certificates/trusted/:fingerprint/export', tag: 'certificates', access: 'read',
    summary: 'A trusted CA certificate: PEM, or DER (.cer) with ?format=der',
    params: fingerprintParams,
    query: z.object({ format: z.enum(['pem', 'der']).default('pem') }),
    response: { description: 'the certificate', contentTypes: ['application/x-pem-file', 'application/pkix-cert'] },
    errors: [404],
    handler: async (req) => {
      let data: Buffer;
      try {
        data = await exportTrustedCa(dataDir, req.params.fingerprint, req.query.format);
      } catch (err) {
        if (err instanceof TrustStoreError) throw new ApiError(404, 'not-found', err.message);
        throw err;
      }
      const der = req.query.format === 'der';
      void req.reply.type(der ? 'application/pkix-cert' : 'application/x-pem-file')
        .header('content-disposition', `attachment; filename="trusted-${req.params.fingerprint.replace(/:/g, '').slice(0, 16)}.${der ? 'cer' : 'pem'}"`);
      return data;
    },
  });
}
