// Validation messages in an administrator's words (issue 12 item 8): the
// messages zod writes where a model gives none ("Too small: expected string
// to have >=1 characters") replaced once, for every model, the config file
// and the API's query strings alike. A model's own message still wins. Each
// message follows the field's name, as "extension: must not be empty".
import { z } from 'zod';

const KIND: Record<string, string> = {
  string: 'text', number: 'a number', int: 'a whole number', boolean: 'true or false', array: 'a list', object: 'an object',
  bigint: 'a whole number', date: 'a date', null: 'empty',
};

const list = (values: readonly unknown[]) => values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ');

type Issue = z.core.$ZodRawIssue;

/** The message of an issue the model left without one; undefined keeps zod's (none here should). */
export function plainMessage(issue: Issue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      return `must be ${KIND[issue.expected] ?? issue.expected}`;
    case 'too_small': {
      const n = Number(issue.minimum);
      if (issue.origin === 'string') return n === 1 ? 'must not be empty' : `must have at least ${n} characters`;
      if (issue.origin === 'array' || issue.origin === 'set') return n === 1 ? 'must list at least one item' : `must list at least ${n} items`;
      return issue.inclusive === false ? `must be more than ${n}` : `must be at least ${n}`;
    }
    case 'too_big': {
      const n = Number(issue.maximum);
      if (issue.origin === 'string') return `must have at most ${n} characters`;
      if (issue.origin === 'array' || issue.origin === 'set') return `must list at most ${n} items`;
      return issue.inclusive === false ? `must be less than ${n}` : `must be at most ${n}`;
    }
    case 'invalid_value':
      return issue.values.length === 1 ? `must be ${list(issue.values)}` : `must be one of: ${list(issue.values)}`;
    case 'invalid_format':
      return issue.format === 'regex' ? 'is not in the expected form' : `must be a valid ${issue.format === 'url' ? 'URL' : issue.format.toUpperCase()}`;
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}`;
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k: string) => `"${k}"`).join(', ')}`;
    case 'invalid_union':
    case 'invalid_key':
    case 'invalid_element':
    case 'custom':
      return 'is not valid';
    default:
      return undefined;
  }
}

z.config({ customError: plainMessage });
