// The models (src/model) validate with zod; the repositories speak StoreError.
// This turns the first zod issue into the StoreError the CLI and the API
// already map to an option name or an HTTP issue, message "field: reason".
import type { z } from 'zod';
import { StoreError } from './errors.ts';

/** @throws StoreError invalid naming the field (dotted path under `prefix`) */
export function parseModel<S extends z.ZodType>(schema: S, value: unknown, prefix = ''): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const keys = issue.code === 'unrecognized_keys' ? [issue.keys[0]] : [];
  const path = [prefix, ...issue.path.map(String), ...keys].filter((p) => p !== '').join('.') || 'value';
  // Array items ("dndExceptions.0") are reported on the list itself.
  const field = path.replace(/\.\d+$/, '');
  const message = issue.code === 'unrecognized_keys' ? 'unknown field' : issue.message;
  throw new StoreError('invalid', field, `${field}: ${message}`);
}
