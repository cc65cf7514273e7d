// /api/devices: the provisioned phones and DECT bases (src/model/device.ts),
// the files each would get, and the provisioning server's recent requests.
// A device's provisioning password and token are returned once, when made.
import { z } from 'zod';
import { deviceCreateSchema, devicePatchSchema, deviceViewSchema, macSchema, type DeviceView } from '../../model/device.ts';
import { checkDeviceForFamily } from '../../provisioning/device-check.ts';
import { renderDevice } from '../../provisioning/render.ts';
import type { ProvisioningRequest } from '../../provisioning/request-log.ts';
import { tokenUrl } from '../../provisioning/site.ts';
import { ProvisioningRefusal, type ProvisioningSite } from '../../provisioning/types.ts';
import { audit, type ApiContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import type { ExtraRoutes } from '../http-server.ts';
import type { RouteTable } from '../route.ts';

export interface DeviceRouteSources {
  /** The site as the provisioning server renders with it now. */
  site: () => ProvisioningSite;
  /** Recent requests, newest first; empty when the provisioning server is off. */
  recent: () => readonly ProvisioningRequest[];
}

const macParams = z.object({ mac: macSchema.describe('MAC address, 12 hex digits (":" or "-" allowed)') });
const secretsSchema = z.object({
  user: z.string().describe('digest user name: the MAC'),
  password: z.string().describe('digest password'),
  tokenUrl: z.string().describe('base URL of the device files without digest: https://ADDRESS:PORT/d/TOKEN/'),
}).describe('shown once: only a reset makes new ones');
const requestSchema = z.object({
  at: z.number().int(), mac: z.string().nullable(), method: z.string(), file: z.string(), status: z.number().int(), result: z.string(), source: z.string(),
});

export function deviceRoutes(src: DeviceRouteSources): ExtraRoutes {
  return (_app, t, ctx) => mountDeviceRoutes(t, ctx, src);
}

function mountDeviceRoutes(t: RouteTable, ctx: ApiContext, src: DeviceRouteSources): void {
  const devices = () => ctx.store.devices;
  const mustDevice = async (mac: string): Promise<DeviceView> =>
    await devices().get(mac) ?? (() => { throw new ApiError(404, 'not-found', `no device ${mac}`); })();
  const secretsView = (mac: string, s: { password: string; token: string }) => ({ user: mac, password: s.password, tokenUrl: tokenUrl(src.site(), s.token) });

  t.add({
    method: 'GET', url: '/api/devices', tag: 'devices', access: 'read',
    summary: 'List provisioned devices',
    response: { description: 'every device by MAC, with its last request', schema: z.object({ items: z.array(deviceViewSchema) }) },
    handler: async () => ({ items: await devices().list() }),
  });

  t.add({
    method: 'POST', url: '/api/devices', tag: 'devices', access: 'write',
    summary: 'Add a device',
    description: 'Lines must be users; options and the number of lines are checked against the family. The answer carries the provisioning password and token URL, once.',
    body: deviceCreateSchema,
    response: { status: 201, description: 'added', schema: z.object({ device: deviceViewSchema, provisioning: secretsSchema }) },
    errors: [404, 409],
    handler: async (req) => {
      checkDeviceForFamily({ family: req.body.family, extensions: req.body.extensions, options: req.body.options ?? {} });
      const { device, secrets } = await devices().add(req.body);
      await audit(ctx, req, `device:${device.mac}`, null, device);
      return { device, provisioning: secretsView(device.mac, secrets) };
    },
  });

  t.add({
    method: 'GET', url: '/api/devices/:mac', tag: 'devices', access: 'read',
    summary: 'One device',
    params: macParams,
    response: { description: 'the device (no secrets)', schema: deviceViewSchema },
    errors: [404],
    handler: async (req) => mustDevice(req.params.mac),
  });

  t.add({
    method: 'PATCH', url: '/api/devices/:mac', tag: 'devices', access: 'write',
    summary: 'Change a device',
    description: 'Only the fields sent change; options are replaced whole.',
    params: macParams,
    body: devicePatchSchema,
    response: { description: 'the changed device', schema: deviceViewSchema },
    errors: [404],
    handler: async (req) => {
      const before = await mustDevice(req.params.mac);
      checkDeviceForFamily({
        family: req.body.family ?? before.family, extensions: req.body.extensions ?? before.extensions, options: req.body.options ?? before.options,
      });
      const after = await devices().update(req.params.mac, req.body);
      await audit(ctx, req, `device:${before.mac}`, before, after);
      return after;
    },
  });

  t.add({
    method: 'DELETE', url: '/api/devices/:mac', tag: 'devices', access: 'write',
    summary: 'Remove a device (its users stay)',
    params: macParams,
    response: { status: 204, description: 'removed' },
    errors: [404],
    handler: async (req) => {
      const before = await devices().remove(req.params.mac);
      await audit(ctx, req, `device:${before.mac}`, before, null);
    },
  });

  t.add({
    method: 'POST', url: '/api/devices/:mac/secret', tag: 'devices', access: 'write',
    summary: 'Make a new provisioning password and token',
    description: 'The old ones stop working at once; the new ones are in this answer only.',
    params: macParams,
    response: { description: 'the new secrets', schema: secretsSchema },
    errors: [404],
    handler: async (req) => {
      const d = await mustDevice(req.params.mac);
      const secrets = await devices().resetSecrets(d.mac);
      await audit(ctx, req, `device:${d.mac}`, null, { secrets: 'reset' });
      return secretsView(d.mac, secrets);
    },
  });

  t.add({
    method: 'GET', url: '/api/devices/:mac/render', tag: 'devices', access: 'read',
    summary: 'The files the device would get',
    description: 'Names, types and sizes, not contents; refused says why the family will not generate this configuration (the device then gets 409).',
    params: macParams,
    response: {
      description: 'the render',
      schema: z.object({
        files: z.array(z.object({ name: z.string(), contentType: z.string(), bytes: z.number().int(), credentials: z.boolean() })),
        warnings: z.array(z.string()),
        refused: z.string().nullable(),
      }),
    },
    errors: [404],
    handler: async (req) => {
      const d = await mustDevice(req.params.mac);
      try {
        const r = await renderDevice(ctx.store.users, src.site(), d);
        return {
          files: r.files.map((f) => ({ name: f.name, contentType: f.contentType, bytes: Buffer.byteLength(f.body), credentials: f.credentials })),
          warnings: r.warnings,
          refused: null,
        };
      } catch (err) {
        if (err instanceof ProvisioningRefusal) return { files: [], warnings: [], refused: err.message };
        throw err;
      }
    },
  });

  t.add({
    method: 'GET', url: '/api/provisioning/requests', tag: 'devices', access: 'read',
    summary: "The provisioning server's recent requests",
    description: 'Newest first, unknown devices and failures included; bounded in memory, empty after a restart (each device keeps its last one).',
    response: { description: 'the requests', schema: z.object({ items: z.array(requestSchema) }) },
    handler: async () => ({ items: [...src.recent()] }),
  });
}
