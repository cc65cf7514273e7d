// Sums a V8 .heapsnapshot by kind of object (constructor name for objects,
// node type for strings, arrays, code...) and, given a second snapshot,
// prints what grew between them: the per-contact cost of each kind when the
// snapshots were taken before and after registering N contacts.
//
//   node --import tsx bench/lib/heap-top.ts BEFORE.heapsnapshot AFTER.heapsnapshot [--per N] [--top K]
//   node --import tsx bench/lib/heap-top.ts ONE.heapsnapshot [--top K]
//
// Self sizes only (no retained sizes): a sliced string is tiny itself, the
// message text it keeps alive shows up as 'string'.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

export interface KindTotal {
  count: number;
  bytes: number;
}

/** Map of "type:name" (objects) or "type" (everything else) -> totals. */
export function heapByKind(file: string): Map<string, KindTotal> {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const fType = fields.indexOf('type');
  const fName = fields.indexOf('name');
  const fSize = fields.indexOf('self_size');
  const out = new Map<string, KindTotal>();
  const nodes = snap.nodes;
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + fType] as number] ?? '?';
    const size = nodes[i + fSize] as number;
    let key: string;
    if (type === 'object' || type === 'closure') key = `${type}:${snap.strings[nodes[i + fName] as number] ?? '?'}`;
    else key = type;
    const t = out.get(key);
    if (t === undefined) out.set(key, { count: 1, bytes: size });
    else {
      t.count++;
      t.bytes += size;
    }
  }
  return out;
}

function main(argv: string[]): number {
  const files: string[] = [];
  let per = 0;
  let top = 25;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--per') per = Number(argv[++i]);
    else if (a === '--top') top = Number(argv[++i]);
    else files.push(a);
  }
  if (files.length < 1 || files.length > 2 || !(per >= 0) || !(top >= 1)) {
    console.error('usage: heap-top.ts [BEFORE] AFTER.heapsnapshot [--per N] [--top K]');
    return 2;
  }
  const after = heapByKind(files.at(-1) as string);
  const before = files.length === 2 ? heapByKind(files[0] as string) : new Map<string, KindTotal>();
  const rows = [...after.entries()].map(([k, a]) => {
    const b = before.get(k) ?? { count: 0, bytes: 0 };
    return { k, count: a.count - b.count, bytes: a.bytes - b.bytes };
  });
  rows.sort((x, y) => y.bytes - x.bytes);
  const total = rows.reduce((s, r) => s + r.bytes, 0);
  const mb = (b: number): string => (b / 2 ** 20).toFixed(1).padStart(8);
  console.log(`${files.length === 2 ? 'growth' : 'total'}: ${mb(total)} MiB${per > 0 ? `, ${(total / per).toFixed(0)} bytes per unit (${per})` : ''}`);
  console.log(`     MiB     count${per > 0 ? '  bytes/unit' : ''}  kind`);
  for (const r of rows.slice(0, top)) {
    console.log(`${mb(r.bytes)} ${String(r.count).padStart(9)}${per > 0 ? (r.bytes / per).toFixed(0).padStart(12) : ''}  ${r.k}`);
  }
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = main(process.argv.slice(2));
}
