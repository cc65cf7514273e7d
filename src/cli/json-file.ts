// A JSON file a command reads (`ivr set --file menu.json`): one object, at
// most 1 MB, and no key twice in one object, which JSON.parse would take
// silently, keeping the last (two actions for key "1" would lose one).
import { readFile, stat } from 'node:fs/promises';
import { CliError } from './common.ts';

const MAX_BYTES = 1024 * 1024;

/** The first key that appears twice in one object of valid JSON text, with the path of that object, or undefined. */
export function duplicateKey(text: string): string | undefined {
  // Per open object: its keys so far; per open array: null. Strings are read whole, escapes skipped.
  const stack: (Set<string> | null)[] = [];
  const names: string[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const top = stack[stack.length - 1];
      if (expectKey && top) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.has(key)) return [...names.slice(0, stack.length - 1), key].filter((n) => n !== undefined).join('.');
        top.add(key);
        names[stack.length - 1] = key;
      }
      i = j;
      expectKey = false;
    } else if (c === '{') {
      stack.push(new Set());
      expectKey = true;
    } else if (c === '[') {
      stack.push(null);
    } else if (c === '}' || c === ']') {
      stack.pop();
      names.length = Math.max(0, stack.length - 1);
    } else if (c === ',') {
      expectKey = stack[stack.length - 1] !== null;
    }
  }
  return undefined;
}

/** The text of a command's input file of at most 1 MB, or a CLI error naming the option and the file. */
export async function readInputFile(path: string, option = '--file'): Promise<string> {
  try {
    if ((await stat(path)).size > MAX_BYTES) throw new CliError(`${option}: ${path} is larger than 1 MB`);
    return await readFile(path, 'utf8');
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`${option}: cannot read ${path}: ${(err as Error).message}`);
  }
}

/** The file's object, or a CLI error naming the file and what is wrong. */
export async function readJsonObject(path: string, what: string): Promise<Record<string, unknown>> {
  const text = await readInputFile(path);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new CliError(`--file: ${path} is not JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new CliError(`--file: ${path} must hold a JSON object (${what})`);
  const twice = duplicateKey(text);
  if (twice !== undefined) throw new CliError(`--file: ${path} names ${twice} twice`);
  return value as Record<string, unknown>;
}
