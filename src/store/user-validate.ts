// Validation of user fields on write, shared by every store implementation so
// SQLite and PostgreSQL accept exactly the same data. The rules are the user
// model's (src/model/user.ts); this file applies them to add() and update()
// and turns their errors into StoreError. Administrative writes only (CLI,
// REST, CSV import), never the SIP path.
import {
  KNOWN_CODECS, MAX_CALLS_RANGE, MEDIA_CHOICES, MEDIA_KEYS, NO_ANSWER_TIMEOUT_RANGE, storedUserSchema, USER_DEFAULTS,
  userFieldSchemas,
} from '../model/user.ts';
import { rememberedForwardNumber, selfTargets, type UserFeaturePatch } from '../model/user-features.ts';
import { StoreError } from './errors.ts';
import { parseModel } from './model-parse.ts';
import type { User, UserInput, UserMediaSettings, UserPatch } from './types.ts';

export { KNOWN_CODECS, MAX_CALLS_RANGE, MEDIA_KEYS, NO_ANSWER_TIMEOUT_RANGE };

/** A user as written to storage, before id and timestamps. */
export type UserFields = Omit<User, 'id' | 'createdAt' | 'updatedAt'>;

function invalid(field: string, message: string): never {
  throw new StoreError('invalid', field, `${field}: ${message}`);
}

/** @throws StoreError invalid (field 'extension') */
export function validExtension(value: unknown): string {
  return parseModel(userFieldSchemas.extension, value, 'extension');
}

/** Codec names in preference order, upper-cased. @throws StoreError invalid */
export function validCodecs(value: unknown): readonly string[] | null {
  const codecs = parseModel(userFieldSchemas.codecs, value, 'codecs');
  return codecs === null ? null : Object.freeze(codecs);
}

/** Media settings with a patch applied (null removes a key). @throws StoreError invalid */
export function validMedia(current: Readonly<UserMediaSettings>, patch: unknown): Readonly<UserMediaSettings> {
  if (patch === undefined) return current;
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) invalid('media', 'must be an object');
  const out: Record<string, unknown> = { ...current };
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    const choices = MEDIA_CHOICES[k as keyof UserMediaSettings];
    if (!choices) invalid(`media.${k}`, `unknown setting (known: ${MEDIA_KEYS.join(', ')})`);
    if (v === null || v === undefined) {
      delete out[k];
      continue;
    }
    if (!choices.includes(v)) invalid(`media.${k}`, `must be one of ${choices.map((c) => JSON.stringify(c)).join(', ')}, or null for the system value`);
    out[k] = v;
  }
  return Object.freeze(out) as Readonly<UserMediaSettings>;
}

/** Validates a whole user (media aside), applying the forward-number rule of user-features.ts. */
function validUser(merged: Record<string, unknown>, currentForwardNumber: string | null, patch: UserFeaturePatch): Omit<UserFields, 'media'> {
  merged.forwardNumber = rememberedForwardNumber(currentForwardNumber, patch);
  const f = parseModel(storedUserSchema, merged);
  const loop = selfTargets(f.extension, f)[0];
  if (loop) invalid(loop, "must not be the user's own extension");
  return { ...f, codecs: f.codecs && Object.freeze(f.codecs), dndExceptions: Object.freeze(f.dndExceptions) };
}

const FIELDS = Object.keys(storedUserSchema.shape) as (keyof typeof storedUserSchema.shape)[];

/** Fields of a user built from an add() input, defaults applied. @throws StoreError invalid */
export function newUserFields(input: UserInput): UserFields {
  if (input === null || typeof input !== 'object') invalid('user', 'must be an object');
  const extension = validExtension(input.extension);
  const defaults: Record<string, unknown> = { ...USER_DEFAULTS, authUser: extension };
  const merged: Record<string, unknown> = {};
  // A null for a field that cannot be null takes the default, as an omitted one does.
  for (const k of FIELDS) merged[k] = (input as unknown as Record<string, unknown>)[k] ?? defaults[k];
  return { ...validUser(merged, null, input), media: validMedia({}, input.media) };
}

/** Fields of an existing user with a patch applied. @throws StoreError invalid */
export function patchedUserFields(current: User, patch: UserPatch): UserFields {
  if (patch === null || typeof patch !== 'object') invalid('user', 'must be an object');
  const extension = patch.extension === undefined ? current.extension : validExtension(patch.extension);
  // An authUser that merely defaulted to the extension follows a renumbering.
  const followAuth = patch.authUser === undefined && current.authUser === current.extension;
  const merged: Record<string, unknown> = {};
  for (const k of FIELDS) {
    const v = (patch as Record<string, unknown>)[k];
    merged[k] = v === undefined ? current[k] : v;
  }
  merged.extension = extension;
  if (followAuth) merged.authUser = extension;
  return { ...validUser(merged, current.forwardNumber, patch), media: validMedia(current.media, patch.media) };
}
