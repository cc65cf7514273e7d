import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { extensionSchema } from '../../../src/model/common.ts';
import { userCreateSchema } from '../../../src/model/user.ts';
import '../../../src/model/messages.ts';

const messages = (s: z.ZodType, v: unknown) => (s.safeParse(v).error?.issues ?? []).map((i) => `${i.path.join('.')}: ${i.message}`);

describe('validation messages in plain words', () => {
  it("replaces zod's defaults for every model", () => {
    const s = z.object({
      a: z.string().min(1), b: z.string().max(3), c: z.number().int().min(5), d: z.enum(['udp', 'tcp']), e: z.array(z.string()).min(1),
      f: z.string(), g: z.boolean(), h: z.number().max(9),
    }).strict();
    expect(messages(s, { a: '', b: 'long', c: 1.5, d: 'sctp', e: [], g: 'yes', h: 10, x: 1 })).toEqual([
      'a: must not be empty', 'b: must have at most 3 characters', 'c: must be a whole number', 'd: must be one of: udp, tcp',
      'e: must list at least one item', 'f: is required', 'g: must be true or false', 'h: must be at most 9', ': unknown field "x"',
    ]);
    expect(messages(z.number().int().min(5), 3)).toEqual([': must be at least 5']);
  });

  it('keeps a model\'s own messages, and says "must not be empty" for an empty extension', () => {
    expect(messages(extensionSchema, '')).toEqual([': must not be empty']);
    expect(messages(userCreateSchema, { extension: '1001', maxCalls: 0 })).toEqual([
      'password: is required', 'maxCalls: must be a whole number from 1 to 100, or empty for the system default',
    ]);
    const all = JSON.stringify(messages(userCreateSchema, { extension: '', password: '', codecs: [], enabled: 'x', name: 5 }));
    expect(all).not.toMatch(/Too small|Too big|Invalid input|expected string/);
  });
});
