// Golden files for the generators: the expected output lives in
// test/fixtures/provisioning/golden/<name>. A difference fails the test with
// the diff; UPDATE_GOLDEN=1 rewrites the file instead (review the diff in git
// before committing it).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { expect } from 'vitest';

const DIR = join(import.meta.dirname, '../../fixtures/provisioning/golden');

export function expectGolden(name: string, actual: string | Buffer): void {
  const path = join(DIR, name);
  const text = typeof actual === 'string' ? actual : actual.toString('base64');
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    return;
  }
  if (!existsSync(path)) throw new Error(`no golden file ${path}: run with UPDATE_GOLDEN=1 once and review it`);
  expect(text).toBe(readFileSync(path, 'utf8'));
}
