// Parsing of option values for the setting commands (user set, trunk, did,
// calls). Errors name the option as typed, not the store field, since that is
// what the person at the shell can fix.
import { isStoreError } from '../store/errors.ts';
import { CliError } from './common.ts';

export function onOff(option: string, value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  const v = value.toLowerCase();
  if (v === 'on') return true;
  if (v === 'off') return false;
  throw new CliError(`${option}: must be on or off, not ${JSON.stringify(value)}`);
}

export function integer(option: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = /^[0-9]{1,9}$/.test(value) ? Number(value) : NaN;
  if (!(n >= min && n <= max)) throw new CliError(`${option}: must be an integer from ${min} to ${max}, not ${JSON.stringify(value)}`);
  return n;
}

/** "default" resets a setting to the system default (null). */
export function integerOrDefault(option: string, value: string | undefined, min: number, max: number): number | null | undefined {
  if (value?.toLowerCase() === 'default') return null;
  try {
    return integer(option, value, min, max);
  } catch {
    throw new CliError(`${option}: must be an integer from ${min} to ${max} or "default", not ${JSON.stringify(value)}`);
  }
}

/**
 * Runs fn, turning a StoreError about a field listed in options into a CLI
 * error naming the option ("--max-calls: ..."). Other errors pass through
 * (withStore prints store errors as they are).
 */
export function asOptions<T>(options: Record<string, string>, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw optionError(options, err);
  }
}

/** asOptions for a store call. */
export async function storeAsOptions<T>(options: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw optionError(options, err);
  }
}

function optionError(options: Record<string, string>, err: unknown): unknown {
  if (isStoreError(err) && err.code === 'invalid' && options[err.field]) {
    const reason = err.message.startsWith(`${err.field}: `) ? err.message.slice(err.field.length + 2) : err.message;
    return new CliError(`${options[err.field]}: ${reason}`);
  }
  return err;
}
