// Shared building blocks of the resource models (user, trunk, hunt group,
// short code...). Numbering lives here because users, hunt groups and short
// codes share one dialling namespace and must agree on what a number is.
import { z } from 'zod';
import './messages.ts';

// RFC 3261 user part (SPEC 1.A: "41510", "jim.kander"): unreserved and
// user-unreserved characters, minus ";" "?" "/" which naive URI handling (and
// voicemail file names) misread, and minus "%" so the stored extension is
// already the decoded user part. It starts with a letter, a digit, "*" (the
// short-code space, where the store refuses a clash) or "+" and a digit (a
// number in international form): never with = - @ or a lone +, which a
// spreadsheet takes for a formula, nor with other punctuation.
export const EXTENSION_RE = /^(?=[A-Za-z0-9*]|\+[0-9])[A-Za-z0-9\-_.!~*'()&=+$,]{1,64}$/;
export const EXTENSION_RULE = "must be 1-64 letters, digits or -_.!~*'()&=+$, starting with a letter, a digit, * or + and a digit";

/**
 * A user extension, a hunt group number, or any number a call can be sent to:
 * what the store can hold. The numbering plan an administrator sets for new
 * user extensions (digits only by default) is src/model/user-rules.ts.
 */
export const extensionSchema = z.string().min(1, { error: 'must not be empty', abort: true }).regex(EXTENSION_RE, EXTENSION_RULE);

/**
 * Where a forward, follow me or overflow sends a call: an extension, a hunt
 * group or an outside number (routed through the trunks like a dialled one).
 */
export const targetSchema = extensionSchema;

// eslint-disable-next-line no-control-regex
export const CONTROL_RE = /[\x00-\x1f\x7f]/;

/** Free text without control characters. */
export const textSchema = (min: number, max: number) =>
  z.string().min(min).max(max).refine((s) => !CONTROL_RE.test(s), 'must not contain control characters');

/** Null, or a whole number in [min, max]. */
export const nullableInt = (min: number, max: number) => z.number().int().min(min).max(max).nullable();

/** A list without repeats. */
export const uniqueList = <T extends z.ZodType<string>>(item: T, max: number) =>
  z.array(item).max(max).refine((l) => new Set(l).size === l.length, 'must not list a value twice');
