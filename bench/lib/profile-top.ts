// Reads a V8 .cpuprofile (written by `node --cpu-prof`) and lists the
// functions with the most self time, so a profile can be summed up in a
// README without opening DevTools. Self time of a node = its samples times
// the mean sampling interval; nodes of one function (same name, file, line)
// are summed, since V8 splits a function into one node per call path.
//
//   node --import tsx bench/lib/profile-top.ts FILE.cpuprofile [--top N] [--by-file]
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
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
  /** Share of all samples, idle included. */
  pct: number;
}

export interface ProfileSummary {
  totalMs: number;
  /** (idle) samples: the event loop waiting for I/O. */
  idleMs: number;
  entries: TopEntry[];
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

/** Self time per function (or per file with byFile), largest first. */
export function summarize(p: CpuProfile, root: string, byFile = false): ProfileSummary {
  // Self samples per node id: from samples[] when present (exact), else hitCount.
  const hits = new Map<number, number>();
  let sampleCount = 0;
  if (p.samples !== undefined && p.samples.length > 0) {
    for (const id of p.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
    sampleCount = p.samples.length;
  } else {
    for (const n of p.nodes) {
      hits.set(n.id, n.hitCount ?? 0);
      sampleCount += n.hitCount ?? 0;
    }
  }
  const totalMs = (p.endTime - p.startTime) / 1000;
  const msPerSample = sampleCount > 0 ? totalMs / sampleCount : 0;
  const byKey = new Map<string, number>();
  let idle = 0;
  for (const n of p.nodes) {
    const h = hits.get(n.id) ?? 0;
    if (h === 0) continue;
    const f = n.callFrame;
    if (f.functionName === '(idle)') {
      idle += h;
      continue;
    }
    const file = shortUrl(f.url, root);
    const where = file === '' ? '' : ` ${file}:${f.lineNumber + 1}`;
    const key = byFile ? file || f.functionName || '(anonymous)' : `${f.functionName || '(anonymous)'}${where}`;
    byKey.set(key, (byKey.get(key) ?? 0) + h);
  }
  const entries = [...byKey.entries()]
    .map(([label, h]) => ({ label, selfMs: h * msPerSample, pct: sampleCount > 0 ? (h / sampleCount) * 100 : 0 }))
    .sort((a, b) => b.selfMs - a.selfMs);
  return { totalMs, idleMs: idle * msPerSample, entries };
}

export function formatSummary(s: ProfileSummary, top: number): string[] {
  const busy = s.totalMs - s.idleMs;
  const lines = [
    `profile: ${(s.totalMs / 1000).toFixed(1)} s, idle ${((s.idleMs / s.totalMs) * 100).toFixed(1)}%, busy ${(busy / 1000).toFixed(1)} s`,
    'self ms   %all  %busy  function file:line',
  ];
  for (const e of s.entries.slice(0, top)) {
    const pctBusy = busy > 0 ? (e.selfMs / busy) * 100 : 0;
    lines.push(
      `${e.selfMs.toFixed(0).padStart(7)} ${e.pct.toFixed(1).padStart(6)} ${pctBusy.toFixed(1).padStart(6)}  ${e.label}`,
    );
  }
  return lines;
}

function main(argv: string[]): number {
  const files: string[] = [];
  let top = 25;
  let byFile = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--top') top = Number(argv[++i]);
    else if (a === '--by-file') byFile = true;
    else files.push(a);
  }
  if (files.length === 0 || !Number.isInteger(top) || top < 1) {
    console.error('usage: profile-top.ts FILE.cpuprofile [--top N] [--by-file]');
    return 2;
  }
  const root = process.cwd();
  for (const f of files) {
    const p = JSON.parse(readFileSync(f, 'utf8')) as CpuProfile;
    console.log(`# ${f}`);
    for (const l of formatSummary(summarize(p, root, byFile), top)) console.log(l);
  }
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = main(process.argv.slice(2));
}
