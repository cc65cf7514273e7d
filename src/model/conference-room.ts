// Meet-me conference rooms (issue 13 item 6): a number callers dial to join
// the others, with an optional PIN. The conference application
// (src/pbx/conference/) runs from these. No Node imports: the web UI
// type-checks it.
import { z } from 'zod';
import { extensionSchema, textSchema } from './common.ts';

export const ROOM_MAX_PARTICIPANTS_RANGE = [2, 50] as const;
export const ROOM_MAX_PARTICIPANTS_DEFAULT = 10;

const roomFields = {
  number: extensionSchema.describe('dialled number of the room'),
  name: textSchema(0, 64).describe("shown in lists ('' when none)"),
  pin: z.string().regex(/^[0-9]{1,16}$/, 'must be 1-16 digits').nullable().describe('digits callers type to join; null: none'),
  maxParticipants: z.number().int().min(ROOM_MAX_PARTICIPANTS_RANGE[0]).max(ROOM_MAX_PARTICIPANTS_RANGE[1])
    .describe(`callers in the room at most (default ${ROOM_MAX_PARTICIPANTS_DEFAULT})`),
  announceJoin: z.boolean().describe('a tone tells the room someone joined or left (default true)'),
};

export const conferenceRoomInputSchema = z
  .object({
    number: roomFields.number,
    name: roomFields.name.default(''),
    pin: roomFields.pin.default(null),
    maxParticipants: roomFields.maxParticipants.default(ROOM_MAX_PARTICIPANTS_DEFAULT),
    announceJoin: roomFields.announceJoin.default(true),
  })
  .strict();

export const conferenceRoomPatchSchema = z
  .object({
    number: roomFields.number.optional(),
    name: roomFields.name.optional(),
    pin: roomFields.pin.optional(),
    maxParticipants: roomFields.maxParticipants.optional(),
    announceJoin: roomFields.announceJoin.optional(),
  })
  .strict();

export type ConferenceRoomInput = z.input<typeof conferenceRoomInputSchema>;
export type ConferenceRoomPatch = z.input<typeof conferenceRoomPatchSchema>;
export type ConferenceRoomFields = z.output<typeof conferenceRoomInputSchema>;

export interface ConferenceRoom extends Readonly<ConferenceRoomFields> {
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** What the API shows: whether a PIN is set, never the PIN itself (callers type it; admins set it). */
export const conferenceRoomViewSchema = z.object({
  number: z.string(),
  name: z.string(),
  hasPin: z.boolean(),
  maxParticipants: z.number().int(),
  announceJoin: z.boolean(),
  createdAt: z.number().int(),
  updatedAt: z.number().int(),
});
export type ConferenceRoomView = z.output<typeof conferenceRoomViewSchema>;

export function roomView(r: ConferenceRoom): ConferenceRoomView {
  return { number: r.number, name: r.name, hasPin: r.pin !== null, maxParticipants: r.maxParticipants, announceJoin: r.announceJoin, createdAt: r.createdAt, updatedAt: r.updatedAt };
}
