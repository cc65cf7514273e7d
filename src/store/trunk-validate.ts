// Validation of trunk and DID fields, shared by every store implementation
// (like user-validate.ts). The rules are the trunk model's
// (src/model/trunk.ts); this applies them to add() and to the merged result
// of update(). Administrative writes only, never the SIP path.
import {
  defaultPort, didNumberSchema, storedTrunkSchema, trunkCreateSchema, trunkPatchSchema, trunkProblem, TRUNK_DEFAULTS,
  type TrunkFields,
} from '../model/trunk.ts';
import { StoreError } from './errors.ts';
import { parseModel } from './model-parse.ts';
import type { Trunk, TrunkInput } from './types.ts';

export { defaultPort, type TrunkFields };

// The store's hand-written types must stay what the model says (checked by the compiler).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const sameFields: Same<TrunkFields, Omit<Trunk, 'id' | 'createdAt' | 'updatedAt'>> = true;
const sameInput: Same<Required<TrunkInput>, TrunkFields> = true;
void sameFields;
void sameInput;

function check(f: TrunkFields): TrunkFields {
  const problem = trunkProblem(f);
  if (problem) throw new StoreError('invalid', problem.field, `${problem.field}: ${problem.message}`);
  return f;
}

/** The command line passes the transport as typed: 'TLS' means tls. */
function lowerTransport<T>(input: T): T {
  const t = (input as { transport?: unknown } | null)?.transport;
  return typeof t === 'string' ? { ...input, transport: t.toLowerCase() } : input;
}

function mustObject(value: unknown): void {
  if (value === null || typeof value !== 'object') throw new StoreError('invalid', 'trunk', 'trunk: must be an object');
}

/** Fields of a trunk built from an add() input, defaults applied. @throws StoreError invalid */
export function newTrunkFields(input: TrunkInput): TrunkFields {
  mustObject(input);
  const given = parseModel(trunkCreateSchema, lowerTransport(input));
  const defined = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
  const transport = given.transport ?? TRUNK_DEFAULTS.transport;
  return check({ ...TRUNK_DEFAULTS, port: defaultPort(transport), ...defined } as TrunkFields);
}

/** Fields of an existing trunk with a patch applied (undefined keeps a field). @throws StoreError invalid */
export function patchedTrunkFields(current: Trunk, patch: Partial<TrunkInput>): TrunkFields {
  mustObject(patch);
  const p = parseModel(trunkPatchSchema, lowerTransport(patch));
  const { id: _i, createdAt: _c, updatedAt: _u, ...fields } = current;
  const merged: Record<string, unknown> = { ...fields };
  for (const [k, v] of Object.entries(p)) if (v !== undefined) merged[k] = v;
  return check(parseModel(storedTrunkSchema, merged));
}

/** @throws StoreError invalid (field 'number') */
export function validDidNumber(value: unknown): string {
  return parseModel(didNumberSchema, value, 'number');
}
