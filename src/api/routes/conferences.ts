// /api/conference-rooms: meet-me rooms (src/model/conference-room.ts). The
// PIN is written, never shown: views say whether one is set.
import { z } from 'zod';
import { extensionSchema } from '../../model/common.ts';
import {
  conferenceRoomInputSchema, conferenceRoomPatchSchema, conferenceRoomViewSchema, roomView,
} from '../../model/conference-room.ts';
import { audit, type ApiContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import type { RouteTable } from '../route.ts';

const params = z.object({ number: extensionSchema });

export function conferenceRoutes(t: RouteTable, ctx: ApiContext): void {
  const rooms = () => ctx.store.conferenceRooms;
  const mustRoom = async (n: string) => await rooms().get(n) ?? (() => { throw new ApiError(404, 'not-found', `no conference room ${n}`); })();

  t.add({
    method: 'GET', url: '/api/conference-rooms', tag: 'conference', access: 'read',
    summary: 'List conference rooms',
    response: { description: 'every room, by number', schema: z.object({ items: z.array(conferenceRoomViewSchema) }) },
    handler: async () => ({ items: (await rooms().list()).map(roomView) }),
  });

  t.add({
    method: 'POST', url: '/api/conference-rooms', tag: 'conference', access: 'write',
    summary: 'Add a conference room',
    description: 'The number must be no user extension, hunt group, IVR menu or the voicemail number and match no short code (409).',
    body: conferenceRoomInputSchema,
    response: { status: 201, description: 'added', schema: conferenceRoomViewSchema },
    errors: [409],
    handler: async (req) => {
      const r = roomView(await rooms().add(req.body));
      await audit(ctx, req, `conference-room:${r.number}`, null, r);
      return r;
    },
  });

  t.add({
    method: 'GET', url: '/api/conference-rooms/:number', tag: 'conference', access: 'read',
    summary: 'One conference room',
    params,
    response: { description: 'the room', schema: conferenceRoomViewSchema },
    errors: [404],
    handler: async (req) => roomView(await mustRoom(req.params.number)),
  });

  t.add({
    method: 'PATCH', url: '/api/conference-rooms/:number', tag: 'conference', access: 'write',
    summary: 'Change a conference room',
    description: 'Only the fields sent change; pin null removes the PIN.',
    params,
    body: conferenceRoomPatchSchema,
    response: { description: 'the changed room', schema: conferenceRoomViewSchema },
    errors: [404, 409],
    handler: async (req) => {
      const before = roomView(await mustRoom(req.params.number));
      const after = roomView(await rooms().update(req.params.number, req.body));
      await audit(ctx, req, `conference-room:${before.number}`, before, after);
      return after;
    },
  });

  t.add({
    method: 'DELETE', url: '/api/conference-rooms/:number', tag: 'conference', access: 'write',
    summary: 'Remove a conference room',
    params,
    response: { status: 204, description: 'removed' },
    errors: [404],
    handler: async (req) => {
      const before = roomView(await rooms().remove(req.params.number));
      await audit(ctx, req, `conference-room:${before.number}`, before, null);
    },
  });
}
