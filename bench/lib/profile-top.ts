// Reads a V8 .cpuprofile (written by `node --cpu-prof`) and lists the
// functions with the most self time, so a profile can be summed up in a
// README without opening DevTools. Self time of a node = its samples times
// the mean sampling interval; nodes of one function (same name, file, line)
// are summed, since V8 splits a function into one node per call path.
//
//   node --import tsx bench/lib/profile-top.ts FILE.cpuprofile [--top N] [--by-file] [--by-total]
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import type { SourceMapPayload } from 'node:module';
import { tmpdir, userInfo } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  /** 0-based */
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface TopEntry {
  /** "name file:line" */
  label: string;
  selfMs: number;
  /** Time with this function anywhere on the stack. */
  totalMs: number;
  /** Share of all samples, idle included. */
  pct: number;
}

export interface ProfileSummary {
  totalMs: number;
  /** (idle) samples: the event loop waiting for I/O. */
  idleMs: number;
  entries: TopEntry[];
}

interface TsxEntry {
  lines: string[];
  map: SourceMapPayload;
  sourceMap?: SourceMap;
}

/**
 * tsx hands V8 the TypeScript transpiled and squeezed onto few lines, so
 * profile lines say little. tsx caches each transpiled file with its source
 * map in <tmpdir>/tsx-<uid>/ (JSON {code, map}); we map positions back
 * through it. A file edited since may have several cache entries: the one
 * that ran is the one whose code has the profile's function names at the
 * profile's positions (V8 puts a function's column right after its name).
 */
class TsxLines {
  private byPath: Map<string, TsxEntry[]> | null = null;
  private chosen = new Map<string, TsxEntry | null>();

  private load(): Map<string, TsxEntry[]> {
    const out = new Map<string, TsxEntry[]>();
    const dir = join(tmpdir(), `tsx-${userInfo().uid}`);
    if (!existsSync(dir)) return out;
    for (const f of readdirSync(dir)) {
      try {
        const e = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { code?: unknown; map?: SourceMapPayload };
        const src = e.map?.sources?.[0];
        // The CommonJS flavour (wrapped in __filename=...) is not what an ESM server runs.
        if (typeof e.code !== 'string' || e.map === undefined || src === undefined || e.code.startsWith('__filename=')) continue;
        const list = out.get(src) ?? [];
        list.push({ lines: e.code.split('\n'), map: e.map });
        out.set(src, list);
      } catch {
        // Not a cache entry we understand: skip it.
      }
    }
    return out;
  }

  /** Picks the cache entry of `file` that fits the named frames best. */
  choose(file: string, frames: readonly CallFrame[]): void {
    this.byPath ??= this.load();
    const list = this.byPath.get(file) ?? [];
    let best: TsxEntry | null = null;
    let bestScore = -1;
    for (const e of list) {
      let score = 0;
      for (const f of frames) {
        const n = f.functionName;
        if (n !== '' && e.lines[f.lineNumber]?.slice(f.columnNumber - n.length, f.columnNumber) === n) score++;
      }
      if (score > bestScore) {
        best = e;
        bestScore = score;
      }
    }
    this.chosen.set(file, best);
  }

  /** 1-based line in the .ts source, or null when no cache entry fits. */
  line(file: string, f: CallFrame): number | null {
    const e = this.chosen.get(file);
    if (e === undefined || e === null) return null;
    e.sourceMap ??= new SourceMap(e.map);
    const found = e.sourceMap.findEntry(f.lineNumber, f.columnNumber) as { originalLine?: number };
    return typeof found.originalLine === 'number' ? found.originalLine + 1 : null;
  }
}

function isTs(url: string): boolean {
  return url.startsWith('file://') && url.endsWith('.ts');
}

function shortUrl(url: string, root: string): string {
  if (url === '') return '';
  if (url.startsWith('file://')) {
    try {
      const rel = relative(root, fileURLToPath(url));
      return rel.startsWith('..') ? fileURLToPath(url) : rel;
    } catch {
      return url;
    }
  }
  return url;
}

export interface SummarizeOptions {
  /** Group by file instead of by function. */
  byFile?: boolean;
  /** Only samples taken in [fromUs, toUs] on the monotonic clock (process.hrtime
   * in µs, which is what V8 stamps profiles with on Linux): the load phase
   * without start-up and shutdown. */
  fromUs?: number;
  toUs?: number;
}

/**
 * Self and total (inclusive) time per function, or per file with byFile;
 * entries sorted by self time. Recursion counts once per sample in total.
 */
export function summarize(p: CpuProfile, root: string, o: SummarizeOptions = {}): ProfileSummary {
  const byFile = o.byFile === true;
  // Samples per leaf node id: from samples[] when present (exact), else hitCount.
  const hits = new Map<number, number>();
  let sampleCount = 0;
  let totalUs = p.endTime - p.startTime;
  if (p.samples !== undefined && p.samples.length > 0) {
    const from = o.fromUs ?? -Infinity;
    const to = o.toUs ?? Infinity;
    const deltas = p.timeDeltas ?? [];
    let t = p.startTime;
    let first = Infinity;
    let last = -Infinity;
    for (let i = 0; i < p.samples.length; i++) {
      t += deltas[i] ?? 0;
      if (t < from || t > to) continue;
      const id = p.samples[i] as number;
      hits.set(id, (hits.get(id) ?? 0) + 1);
      sampleCount++;
      if (t < first) first = t;
      if (t > last) last = t;
    }
    if (o.fromUs !== undefined || o.toUs !== undefined) totalUs = sampleCount > 1 ? last - first : 0;
  } else {
    for (const n of p.nodes) {
      hits.set(n.id, n.hitCount ?? 0);
      sampleCount += n.hitCount ?? 0;
    }
  }
  const totalMs = totalUs / 1000;
  const msPerSample = sampleCount > 0 ? totalMs / sampleCount : 0;

  const tsx = new TsxLines();
  const framesByTs = new Map<string, CallFrame[]>();
  for (const n of p.nodes) {
    if (!isTs(n.callFrame.url)) continue;
    const file = fileURLToPath(n.callFrame.url);
    const list = framesByTs.get(file) ?? [];
    list.push(n.callFrame);
    framesByTs.set(file, list);
  }
  for (const [file, frames] of framesByTs) tsx.choose(file, frames);

  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  const keyOf = new Map<number, string>();
  for (const n of p.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
    const f = n.callFrame;
    const file = shortUrl(f.url, root);
    let line = f.lineNumber + 1;
    if (isTs(f.url)) line = tsx.line(fileURLToPath(f.url), f) ?? line;
    const where = file === '' ? '' : ` ${file}:${line}`;
    keyOf.set(n.id, byFile ? file || f.functionName || '(anonymous)' : `${f.functionName || '(anonymous)'}${where}`);
  }

  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let idle = 0;
  for (const [id, h] of hits) {
    if (h === 0) continue;
    const node = byId.get(id);
    if (node === undefined) continue;
    if (node.callFrame.functionName === '(idle)') {
      idle += h;
      continue;
    }
    const leaf = keyOf.get(id) as string;
    self.set(leaf, (self.get(leaf) ?? 0) + h);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const k = keyOf.get(cur) as string;
      if (seen.has(k)) continue;
      seen.add(k);
      total.set(k, (total.get(k) ?? 0) + h);
    }
  }
  const entries = [...total.keys()]
    .map((label) => {
      const h = self.get(label) ?? 0;
      return {
        label,
        selfMs: h * msPerSample,
        totalMs: (total.get(label) ?? 0) * msPerSample,
        pct: sampleCount > 0 ? (h / sampleCount) * 100 : 0,
      };
    })
    .sort((a, b) => b.selfMs - a.selfMs);
  return { totalMs, idleMs: idle * msPerSample, entries };
}

export function formatSummary(s: ProfileSummary, top: number, sortBy: 'self' | 'total' = 'self'): string[] {
  const busy = s.totalMs - s.idleMs;
  const pct = (ms: number): string => (busy > 0 ? ((ms / busy) * 100).toFixed(1) : '0.0').padStart(6);
  const lines = [
    `profile: ${(s.totalMs / 1000).toFixed(1)} s, idle ${((s.idleMs / s.totalMs) * 100).toFixed(1)}%, busy ${(busy / 1000).toFixed(1)} s`,
    ' self ms  self%  total%  function file:line   (% of busy time)',
  ];
  const list = sortBy === 'self' ? s.entries : [...s.entries].sort((a, b) => b.totalMs - a.totalMs);
  for (const e of list.slice(0, top)) {
    lines.push(`${e.selfMs.toFixed(0).padStart(8)} ${pct(e.selfMs)} ${pct(e.totalMs)}   ${e.label}`);
  }
  return lines;
}

function main(argv: string[]): number {
  const files: string[] = [];
  let top = 25;
  let byFile = false;
  let sortBy: 'self' | 'total' = 'self';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--top') top = Number(argv[++i]);
    else if (a === '--by-file') byFile = true;
    else if (a === '--by-total') sortBy = 'total';
    else files.push(a);
  }
  if (files.length === 0 || !Number.isInteger(top) || top < 1) {
    console.error('usage: profile-top.ts FILE.cpuprofile [--top N] [--by-file] [--by-total]');
    return 2;
  }
  const root = process.cwd();
  for (const f of files) {
    const p = JSON.parse(readFileSync(f, 'utf8')) as CpuProfile;
    console.log(`# ${f}`);
    for (const l of formatSummary(summarize(p, root, { byFile }), top, sortBy)) console.log(l);
  }
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = main(process.argv.slice(2));
}
