// Hunt groups: a number that rings a list of member extensions by a strategy.
// The call engine reads these (src/pbx); members log in and out by short code.
import { z } from 'zod';
import { extensionSchema, targetSchema, textSchema, uniqueList } from './common.ts';

export const HUNT_STRATEGIES = ['sequential', 'rotary', 'ring-all', 'longest-idle'] as const;
export type HuntStrategy = (typeof HUNT_STRATEGIES)[number];

export const HUNT_NO_ANSWER_SEC_RANGE = [5, 600] as const;
export const HUNT_NO_ANSWER_SEC_DEFAULT = 15;
export const HUNT_MEMBERS_MAX = 100;

export interface HuntGroupMember {
  readonly extension: string;
  /** Members log out (and back in) by short code; a logged-out member is skipped. Default true. */
  readonly loggedIn: boolean;
}

/**
 * One hunt group. Strategies: sequential rings members in list order, each for
 * noAnswerSec; rotary starts after lastMember; ring-all rings every logged-in
 * member at once (for noAnswerSec); longest-idle starts with the member whose
 * last call ended longest ago. That per-member "last call ended" lives in the
 * call engine's memory (lost on restart, when every member counts as idle
 * equally); lastMember is persisted so rotary survives a restart.
 */
export interface HuntGroup {
  readonly id: number;
  /** Dialled number; unique among hunt groups and user extensions. */
  readonly number: string;
  readonly name: string;
  readonly strategy: HuntStrategy;
  /** In hunting order. Members are user extensions: a removed user leaves, a renumbered one follows. */
  readonly members: readonly HuntGroupMember[];
  /** Seconds each member rings before the next (ring-all: how long all ring). */
  readonly noAnswerSec: number;
  /** Where calls go when no member answered or none is logged in: another group, an extension, a number; null = the caller hears busy. */
  readonly overflow: string | null;
  /** Rotary: the member that rang last; null when none yet. */
  readonly lastMember: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

const huntFields = {
  number: extensionSchema.describe('dialled number of the group; must not be a user extension'),
  name: textSchema(1, 64),
  strategy: z.enum(HUNT_STRATEGIES),
  members: uniqueList(extensionSchema, HUNT_MEMBERS_MAX)
    .describe('member extensions in hunting order; a member keeps its logged-in state across changes, new ones start logged in'),
  noAnswerSec: z.number().int().min(HUNT_NO_ANSWER_SEC_RANGE[0]).max(HUNT_NO_ANSWER_SEC_RANGE[1])
    .describe(`seconds each member rings (default ${HUNT_NO_ANSWER_SEC_DEFAULT})`),
  overflow: targetSchema.nullable().describe('group, extension or number to send unanswered calls to; null = none'),
};

export const huntGroupCreateSchema = z
  .object({ number: huntFields.number, name: huntFields.name })
  .extend({
    strategy: huntFields.strategy.default('sequential'),
    members: huntFields.members.default([]),
    noAnswerSec: huntFields.noAnswerSec.default(HUNT_NO_ANSWER_SEC_DEFAULT),
    overflow: huntFields.overflow.default(null),
  })
  .strict();

export const huntGroupPatchSchema = z
  .object({
    number: huntFields.number.optional(),
    name: huntFields.name.optional(),
    strategy: huntFields.strategy.optional(),
    members: huntFields.members.optional(),
    noAnswerSec: huntFields.noAnswerSec.optional(),
    overflow: huntFields.overflow.optional(),
  })
  .strict();

/** What add() takes (defaults filled by the model). */
export type HuntGroupInput = z.input<typeof huntGroupCreateSchema>;
export type HuntGroupPatch = z.input<typeof huntGroupPatchSchema>;

export const huntGroupViewSchema = z.object({
  id: z.number().int(),
  number: z.string(),
  name: z.string(),
  strategy: z.enum(HUNT_STRATEGIES),
  members: z.array(z.object({ extension: z.string(), loggedIn: z.boolean() })),
  noAnswerSec: z.number().int(),
  overflow: z.string().nullable(),
  lastMember: z.string().nullable(),
  createdAt: z.number().int(),
  updatedAt: z.number().int(),
});
export type HuntGroupView = z.output<typeof huntGroupViewSchema>;
