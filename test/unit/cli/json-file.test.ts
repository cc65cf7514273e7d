// Keys given twice in one object of a command's JSON file are found (JSON.parse would keep the last silently).
import { describe, expect, it } from 'vitest';
import { duplicateKey } from '../../../src/cli/json-file.ts';

describe('duplicateKey', () => {
  it('names a key twice in one object by its path', () => {
    expect(duplicateKey('{"name":"x","options":{"1":{"type":"hangup"},"2":{"type":"repeat"},"1":{"type":"repeat"}}}')).toBe('options.1');
    expect(duplicateKey('{"a":1,"a":2}')).toBe('a');
    expect(duplicateKey('{"a":[{"x":1},{"x":2,"x":3}]}')).toBe('a.x');
    expect(duplicateKey('{"a":{"b":{"c":1}},"d":{"c":2,"c":3}}')).toBe('d.c');
  });

  it('takes the same key in different objects, keys inside strings and escaped quotes', () => {
    expect(duplicateKey('{"options":{"1":{"type":"menu","target":"8101"},"2":{"type":"menu","target":"8102"}},"onTimeout":{"type":"repeat"}}')).toBeUndefined();
    expect(duplicateKey('{"name":"say \\"name\\": twice","greeting":"{\\"name\\":1}"}')).toBeUndefined();
    expect(duplicateKey('{"a\\"b":1,"a\\"b":2}')).toBe('a"b');
    expect(duplicateKey('[{"a":1},{"a":2}]')).toBeUndefined();
  });
});
