// /api/provisioning: what the provisioning pages need beside /api/devices —
// the phone families with their models and options, where phones are
// pointed, the counts System status shows, the Lync dial plan → digit map tool (SPEC §6) and the handset
// gateway's users file (SPEC §5.8; passwords only when asked, audited: B-16).
import { z } from 'zod';
import { DEVICE_FAMILIES } from '../../model/device.ts';
import { convertDialPlan } from '../../provisioning/dialplan/index.ts';
import { parseRulesText, RulesFileError } from '../../provisioning/dialplan/rules-file.ts';
import { allGenerators } from '../../provisioning/families/index.ts';
import { gatewayUsersToCsv, gatewayUsersToJson } from '../../provisioning/gateway-users.ts';
import { GatewayUsersSelectionError, gatewayUsersFromStore } from '../../provisioning/gateway-users-source.ts';
import { hostSchema } from '../../provisioning/host.ts';
import { provisioningBaseUrl } from '../../provisioning/site.ts';
import type { ProvisioningSite, FamilyGenerator } from '../../provisioning/types.ts';
import { missingRole } from '../auth.ts';
import { audit, type ApiContext } from '../context.ts';
import { ApiError, validationError } from '../errors.ts';
import type { ExtraRoutes } from '../http-server.ts';
import type { RouteTable } from '../route.ts';
import { queryBool } from '../schemas.ts';

export interface ProvisioningRouteSources {
  /** The site as the provisioning server renders with it now (the configured one when it is off). */
  site: () => ProvisioningSite;
  /** The provisioning server is listening. */
  running: () => boolean;
}

/** A rules text bigger than this is refused before it is read: far more than any registrar's dial plan. */
export const MAX_RULES_TEXT = 256 * 1024;

const optionSchema = z.object({
  name: z.string(),
  /** The values it takes, when it is one of a few (true/false for a flag). */
  values: z.array(z.string()).optional(),
  default: z.union([z.string(), z.number(), z.boolean()]).optional(),
});
const familySchema = z.object({
  family: z.enum(DEVICE_FAMILIES),
  title: z.string(),
  models: z.array(z.string()),
  maxLines: z.number().int(),
  options: z.array(optionSchema),
});
type FamilyView = z.output<typeof familySchema>;

interface JsonSchemaProperty {
  enum?: unknown[];
  type?: string;
  default?: unknown;
  anyOf?: JsonSchemaProperty[];
}

/** The options a family's schema takes, as the form offers them (names, and values where few). */
function optionsOf(g: FamilyGenerator): FamilyView['options'] {
  let js: { properties?: Record<string, JsonSchemaProperty> };
  try {
    // Input side: what an administrator types, before the family's own coercions.
    js = z.toJSONSchema(g.options, { io: 'input', unrepresentable: 'any' }) as typeof js;
  } catch {
    return []; // a schema JSON Schema cannot describe: the form still takes any name = value
  }
  return Object.entries(js.properties ?? {}).map(([name, p]) => {
    const alts = p.anyOf ?? [p];
    const flag = alts.some((a) => a.type === 'boolean');
    const values = flag ? ['true', 'false'] : alts.flatMap((a) => (a.enum ?? []).map(String));
    const d = p.default;
    return {
      name,
      ...(values.length > 0 ? { values } : {}),
      ...(typeof d === 'string' || typeof d === 'number' || typeof d === 'boolean' ? { default: d } : {}),
    };
  });
}

// The generators do not change while the server runs.
let families: FamilyView[] | undefined;
const familyViews = () => families ??= allGenerators().map((g) => ({
  family: g.family, title: g.title, models: [...g.models], maxLines: g.maxLines, options: optionsOf(g),
}));

/** A device whose last request was refused or failed (the Devices tab marks it the same way). */
export const failedFetch = (status: number) => status >= 400;
const DAY_MS = 86_400_000;

const digitMapBody = z.object({
  rules: z.string().max(MAX_RULES_TEXT).describe('the normalisation rules: a JSON list, or the CSV Export-Csv writes'),
  emergencyDialString: z.string().regex(/^\d{1,15}$/, 'must be digits').optional().describe('dialplan.1.e911dialstring'),
  emergencyDialMask: z.string().regex(/^\d{1,15}(;\d{1,15}){0,15}$/, 'must be numbers separated by ;').optional().describe('dialplan.1.e911dialmask'),
}).strict();

const translationSchema = z.object({
  digitMap: z.string(), pattern: z.string(), translation: z.string(), internal: z.boolean(),
  origin: z.union([
    z.object({ kind: z.literal('rule'), index: z.number().int(), name: z.string().optional() }),
    z.object({ kind: z.literal('emergency'), number: z.string() }),
  ]),
});

const gatewayUsersQuery = z.object({
  format: z.enum(['csv', 'json']).default('csv'),
  passwords: queryBool.default(false).describe('include the SIP passwords (admin role only; audited)'),
  domain: z.union([z.literal(''), hostSchema]).default('').describe("each user's domain; empty: the gateway's default domain"),
  ext: z.string().max(64 * 1024).optional().describe('only these extensions, comma-separated'),
}).strict();

export function provisioningRoutes(src: ProvisioningRouteSources): ExtraRoutes {
  return (_app, t, ctx) => mountProvisioningRoutes(t, ctx, src);
}

function mountProvisioningRoutes(t: RouteTable, ctx: ApiContext, src: ProvisioningRouteSources): void {
  t.add({
    method: 'GET', url: '/api/provisioning', tag: 'devices', access: 'read',
    summary: 'Where phones are pointed, and the families there are files for',
    description: 'url: the provisioning server as phones reach it (digest user: the MAC; or the token URL a device was given). ' +
      'Each family: its title, the models it knows (others are accepted), the lines it carries and the options it takes.',
    response: {
      description: 'the provisioning server and the families',
      schema: z.object({ running: z.boolean(), url: z.string(), httpUrl: z.string().nullable(), families: z.array(familySchema) }),
    },
    handler: () => {
      const site = src.site();
      const http = site.provisioningPorts.http;
      return {
        running: src.running(),
        url: provisioningBaseUrl(site),
        httpUrl: http === undefined ? null : provisioningBaseUrl(site, 'http'),
        families: familyViews(),
      };
    },
  });

  t.add({
    method: 'GET', url: '/api/provisioning/summary', tag: 'devices', access: 'read', watch: true,
    summary: 'Provisioning at a glance',
    description: 'Devices, how many made a request in the last 24 hours, and how many are failing: their last request was refused (status 400 or more).',
    response: {
      description: 'the counts',
      schema: z.object({ devices: z.number().int(), fetchedLastDay: z.number().int(), failing: z.number().int() }),
    },
    handler: async () => {
      const all = await ctx.store.devices.list();
      const since = ctx.now() - DAY_MS;
      return {
        devices: all.length,
        fetchedLastDay: all.filter((d) => d.lastFetch !== null && d.lastFetch.at >= since).length,
        failing: all.filter((d) => d.lastFetch !== null && failedFetch(d.lastFetch.status)).length,
      };
    },
  });

  t.add({
    method: 'POST', url: '/api/provisioning/digitmap', tag: 'devices', access: 'read',
    summary: 'Turn Lync normalisation rules into the phone digit map',
    description: 'SPEC §6.1: rules as a JSON list (ConvertTo-Json) or as Export-Csv writes them; the answer has both maps, ' +
      'the translation of each digit-map string and one DIALPLANERROR line per rule dropped or cut. Nothing is stored.',
    body: digitMapBody,
    bodyLimit: MAX_RULES_TEXT + 4096,
    response: {
      description: 'the conversion',
      schema: z.object({
        originalDigitMap: z.string(), digitMap: z.string(), translations: z.array(translationSchema), errors: z.array(z.string()),
      }),
    },
    errors: [400],
    handler: (req) => {
      let rules;
      try {
        rules = parseRulesText(req.body.rules);
      } catch (err) {
        if (err instanceof RulesFileError) throw validationError([{ path: 'rules', in: 'body', message: err.message }]);
        throw err;
      }
      const { emergencyDialString, emergencyDialMask } = req.body;
      return convertDialPlan({
        rules,
        ...(emergencyDialString !== undefined ? { emergencyDialString } : {}),
        ...(emergencyDialMask !== undefined ? { emergencyDialMask } : {}),
      }, ctx.log);
    },
  });

  t.add({
    method: 'GET', url: '/api/provisioning/gateway-users', tag: 'devices', access: 'read',
    summary: "The handset gateway's users file",
    description: 'SPEC §5.8: one record per user, CSV or JSON, for the gateway\'s import; a user with a gateway line is ' +
      'written from the line. Passwords are left out unless passwords=true or the gateway setting stripPasswordsOnExport ' +
      'is off; either needs the admin role and is audited.',
    query: gatewayUsersQuery,
    response: { description: 'the file', contentTypes: ['text/csv', 'application/json'] },
    errors: [400, 403],
    handler: async (req) => {
      const { format, domain, ext } = req.query;
      // The gateway's stripPasswordsOnExport off puts them in without asking (B-16): the same role and audit then.
      const passwords = req.query.passwords || !(await ctx.store.gateway.settings()).stripPasswordsOnExport;
      const role = passwords ? missingRole(req.principal!.account, 'write') : null;
      if (role) throw new ApiError(403, 'forbidden', `a users file with passwords needs the ${role} role`, { role });
      const only = ext === undefined ? undefined : new Set(ext.split(',').map((e) => e.trim()).filter((e) => e !== ''));
      let users;
      try {
        users = await gatewayUsersFromStore(ctx.store, { domain, ...(only ? { only } : {}) });
      } catch (err) {
        if (err instanceof GatewayUsersSelectionError) throw validationError([{ path: 'ext', in: 'query', message: err.message }]);
        throw err;
      }
      if (passwords) {
        await audit(ctx, req, 'gateway-users', null, { exported: users.length, withPasswords: true }, 'GET /api/provisioning/gateway-users (with passwords)');
      }
      void req.reply.header('content-disposition', `attachment; filename="gateway-users.${format}"`);
      void req.reply.header('cache-control', 'no-store');
      void req.reply.type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8');
      return (format === 'json' ? gatewayUsersToJson : gatewayUsersToCsv)(users, passwords);
    },
  });
}
