// /api/trunks and /api/dids.
import { trunkView } from '../../model/trunk.ts';
import type { Trunk } from '../../store/types.ts';
import { audit, type ApiContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import type { RouteTable } from '../route.ts';
import {
  didCreateSchema, didParams, didSchema, listOf, trunkCreateSchema, trunkParams,
  trunkPatchSchema, trunkViewSchema,
} from '../schemas.ts';
import { z } from 'zod';

export function trunkRoutes(t: RouteTable, ctx: ApiContext): void {
  const trunks = () => {
    // The store composition gained trunks and CDRs later than users; fail clearly if an older store lacks them.
    if (!ctx.store.trunks) throw new ApiError(503, 'unavailable', 'this store has no trunks');
    return ctx.store.trunks;
  };
  const mustGet = async (name: string): Promise<Trunk> => {
    const tr = await trunks().get(name);
    if (!tr) throw new ApiError(404, 'not-found', `no trunk named ${name}`);
    return tr;
  };

  t.add({
    method: 'GET', url: '/api/trunks', tag: 'trunks', access: 'read',
    summary: 'List trunks',
    response: { description: 'every trunk', schema: z.object({ items: z.array(trunkViewSchema) }) },
    handler: async () => ({ items: (await trunks().list()).map(trunkView) }),
  });

  t.add({
    method: 'POST', url: '/api/trunks', tag: 'trunks', access: 'write',
    summary: 'Add a trunk',
    body: trunkCreateSchema,
    response: { status: 201, description: 'added', schema: trunkViewSchema },
    errors: [400, 409],
    handler: async (req) => {
      const tr = await trunks().add(req.body);
      await audit(ctx, req, `trunk:${tr.name}`, null, tr);
      return trunkView(tr);
    },
  });

  t.add({
    method: 'GET', url: '/api/trunks/:name', tag: 'trunks', access: 'read',
    summary: 'One trunk',
    params: trunkParams,
    response: { description: 'the trunk', schema: trunkViewSchema },
    errors: [404],
    handler: async (req) => trunkView(await mustGet(req.params.name)),
  });

  t.add({
    method: 'PATCH', url: '/api/trunks/:name', tag: 'trunks', access: 'write',
    summary: 'Change a trunk',
    params: trunkParams,
    body: trunkPatchSchema,
    response: { description: 'the changed trunk', schema: trunkViewSchema },
    errors: [400, 404, 409],
    handler: async (req) => {
      const before = await mustGet(req.params.name);
      const after = await trunks().update(req.params.name, req.body);
      await audit(ctx, req, `trunk:${before.name}`, before, after);
      return trunkView(after);
    },
  });

  t.add({
    method: 'DELETE', url: '/api/trunks/:name', tag: 'trunks', access: 'write',
    summary: 'Remove a trunk',
    params: trunkParams,
    response: { status: 204, description: 'removed' },
    errors: [404],
    handler: async (req) => {
      const before = await trunks().remove(req.params.name);
      await audit(ctx, req, `trunk:${before.name}`, before, null);
    },
  });

  t.add({
    method: 'GET', url: '/api/dids', tag: 'trunks', access: 'read',
    summary: 'List inbound numbers (DIDs)',
    response: { description: 'every DID', schema: z.object({ items: z.array(didSchema) }) },
    handler: async () => ({ items: await trunks().listDids() }),
  });

  t.add({
    method: 'POST', url: '/api/dids', tag: 'trunks', access: 'write',
    summary: 'Route an inbound number to an extension',
    body: didCreateSchema,
    response: { status: 201, description: 'added', schema: didSchema },
    errors: [400, 409],
    handler: async (req) => {
      const did = await trunks().addDid(req.body.number, req.body.extension);
      await audit(ctx, req, `did:${did.number}`, null, did);
      return did;
    },
  });

  t.add({
    method: 'DELETE', url: '/api/dids/:number', tag: 'trunks', access: 'write',
    summary: 'Remove an inbound number',
    params: didParams,
    response: { status: 204, description: 'removed' },
    errors: [404],
    handler: async (req) => {
      const before = await trunks().removeDid(req.params.number);
      await audit(ctx, req, `did:${before.number}`, before, null);
    },
  });
}
