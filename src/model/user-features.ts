// The telephony features of a user (forwarding, do not disturb, follow me,
// pickup group): the fields the routing stages read, with their defaults.
//
// Forwarding is stored as what routing needs plus one remembered number:
//
//   forwardUnconditional / forwardBusy / forwardNoAnswer
//       The target each forward sends calls to, or null when that forward is
//       off. Routing reads only these: on = non-null.
//   forwardNumber
//       The number the "on" short codes (*01 unconditional, *03 busy, *05 no
//       answer) point their forward at. It follows the last number any
//       forward was set to (command line, API, web UI, *07*N#), unless the
//       same change sets forwardNumber itself; switching a forward off
//       (*02/*04/*06, *00, "off") keeps it, so *01 after *02 restores the
//       forward. `*07*N#` sets it and turns unconditional forwarding on.
//
// So `user set --forward-busy 2000` is forwardBusy = forwardNumber = '2000',
// `--forward-busy off` is forwardBusy = null, and *03 is forwardBusy =
// forwardNumber (refused while forwardNumber is null).
import { z } from 'zod';
import { extensionSchema, targetSchema, uniqueList } from './common.ts';

export const FORWARD_NO_ANSWER_SEC_RANGE = [5, 600] as const;
export const DND_EXCEPTIONS_MAX = 32;
export const PICKUP_GROUP_RE = /^[A-Za-z0-9_.-]{1,32}$/;

export const pickupGroupSchema = z.string().regex(PICKUP_GROUP_RE, 'must be 1-32 letters, digits or _.-');

/** Zod shapes of the feature fields, as stored and as the API takes them. */
export const userFeatureShape = {
  forwardUnconditional: targetSchema.nullable().describe('forward every call here; null = off'),
  forwardBusy: targetSchema.nullable().describe('forward here when busy; null = off'),
  forwardNoAnswer: targetSchema.nullable().describe('forward here when not answered in time; null = off'),
  forwardNoAnswerSec: z.number().int().min(FORWARD_NO_ANSWER_SEC_RANGE[0]).max(FORWARD_NO_ANSWER_SEC_RANGE[1]).nullable()
    .describe("seconds a call rings this user before forward on no answer; null = the user's noAnswerTimeoutSec"),
  forwardNumber: targetSchema.nullable()
    .describe('number the forward-on short codes use; follows the last number a forward was set to'),
  dnd: z.boolean().describe('do not disturb: calls do not ring (except from dndExceptions)'),
  dndExceptions: uniqueList(targetSchema, DND_EXCEPTIONS_MAX).describe('caller numbers that still ring through do not disturb'),
  followMe: extensionSchema.nullable().describe("extension where this user's calls ring instead; null = off"),
  pickupGroup: pickupGroupSchema.nullable()
    .describe("users of one pickup group may pick up each other's ringing calls; null = none"),
};

export const userFeaturesSchema = z.object(userFeatureShape);

/** The feature fields of a user (see the header of this file for forwarding). */
export interface UserFeatures {
  readonly forwardUnconditional: string | null;
  readonly forwardBusy: string | null;
  readonly forwardNoAnswer: string | null;
  /** 5..600 s; null = the user's noAnswerTimeoutSec (whose null is the system default). */
  readonly forwardNoAnswerSec: number | null;
  readonly forwardNumber: string | null;
  readonly dnd: boolean;
  readonly dndExceptions: readonly string[];
  readonly followMe: string | null;
  readonly pickupGroup: string | null;
}

export type UserFeaturePatch = { -readonly [K in keyof UserFeatures]?: UserFeatures[K] };

export const USER_FEATURE_DEFAULTS: UserFeatures = Object.freeze({
  forwardUnconditional: null,
  forwardBusy: null,
  forwardNoAnswer: null,
  forwardNoAnswerSec: null,
  forwardNumber: null,
  dnd: false,
  dndExceptions: Object.freeze([]) as readonly string[],
  followMe: null,
  pickupGroup: null,
});

export const USER_FEATURE_KEYS = Object.keys(USER_FEATURE_DEFAULTS) as (keyof UserFeatures)[];

const FORWARDS = ['forwardUnconditional', 'forwardBusy', 'forwardNoAnswer'] as const;

/**
 * The forwardNumber a change leaves: the patch's own when it sets one, else
 * the number it sets a forward to (unconditional first), else the current one.
 */
export function rememberedForwardNumber(current: string | null, patch: UserFeaturePatch): string | null {
  if (patch.forwardNumber !== undefined) return patch.forwardNumber;
  for (const k of FORWARDS) {
    const v = patch[k];
    if (typeof v === 'string') return v;
  }
  return current;
}

/** Forward targets of a user that point back at the user itself (a loop), by field. */
export function selfTargets(extension: string, f: UserFeatures): (keyof UserFeatures)[] {
  return (['forwardUnconditional', 'forwardBusy', 'forwardNoAnswer', 'followMe'] as const).filter((k) => f[k] === extension);
}

/** Short words for the features that are on, for lists (CLI `user list`, web users page). Empty when none. */
export function featureSummary(f: UserFeatures): string[] {
  const out: string[] = [];
  if (f.dnd) out.push(f.dndExceptions.length > 0 ? `dnd(+${f.dndExceptions.length})` : 'dnd');
  if (f.forwardUnconditional !== null) out.push(`fwd-all=${f.forwardUnconditional}`);
  if (f.forwardBusy !== null) out.push(`fwd-busy=${f.forwardBusy}`);
  if (f.forwardNoAnswer !== null) out.push(`fwd-no-answer=${f.forwardNoAnswer}${f.forwardNoAnswerSec === null ? '' : `/${f.forwardNoAnswerSec}s`}`);
  if (f.followMe !== null) out.push(`follow-me=${f.followMe}`);
  if (f.pickupGroup !== null) out.push(`pickup=${f.pickupGroup}`);
  return out;
}
