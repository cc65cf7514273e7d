// CPU time of a process and its descendants, read from /proc (Linux only).
// Servers here are process trees (Kamailio's workers, a Node front plus
// workers), so a figure for the root alone would flatter multi-process ones.
import { readdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

let clkTck: number | null = null;

/** Clock ticks per second for /proc/<pid>/stat times (almost always 100). */
export function clockTicks(): number {
  if (clkTck === null) {
    const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const n = Number(r.stdout.trim());
    clkTck = Number.isFinite(n) && n > 0 ? n : 100;
  }
  return clkTck;
}

interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime, ticks */
  self: number;
  /** stime alone (kernel: syscalls such as sendmsg/recvmsg), ticks */
  sys: number;
  /** cutime + cstime (reaped children), ticks */
  reaped: number;
}

/** Fields after the command name, which is in parentheses and may hold spaces. */
export function parseProcStat(text: string): ProcStat | null {
  const close = text.lastIndexOf(')');
  const open = text.indexOf('(');
  if (close < 0 || open < 0) return null;
  const pid = Number(text.slice(0, open).trim());
  const f = text.slice(close + 2).split(' ');
  // f[0] is field 3 (state); utime is field 14 -> f[11].
  const n = (i: number): number => Number(f[i] ?? NaN);
  const stat = { pid, ppid: n(1), self: n(11) + n(12), sys: n(12), reaped: n(13) + n(14) };
  return Number.isFinite(stat.self) && Number.isFinite(stat.reaped) ? stat : null;
}

function readStat(pid: number): ProcStat | null {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/**
 * CPU seconds used so far by root and every live descendant, plus children
 * they already reaped. null when root no longer exists.
 */
export function treeCpuSeconds(root: number): number | null {
  return treeCpu(root)?.total ?? null;
}

/** Like treeCpuSeconds, with the kernel share of live processes apart. */
export function treeCpu(root: number): { total: number; sys: number } | null {
  const tree = treeStats(root);
  if (tree === null) return null;
  let ticks = 0;
  let sysTicks = 0;
  for (const st of tree) {
    ticks += st.self + st.reaped;
    sysTicks += st.sys;
  }
  return { total: ticks / clockTicks(), sys: sysTicks / clockTicks() };
}

/** The pids of a process and its live descendants (a supervisor and its workers). */
export function treePids(root: number): number[] {
  return treeStats(root)?.map((st) => st.pid) ?? [];
}

function treeStats(root: number): ProcStat[] | null {
  const rootStat = readStat(root);
  if (rootStat === null) return null;
  const byParent = new Map<number, ProcStat[]>();
  for (const name of readdirSync('/proc')) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const st = readStat(Number(name));
    if (st === null) continue;
    const list = byParent.get(st.ppid);
    if (list === undefined) byParent.set(st.ppid, [st]);
    else list.push(st);
  }
  const out: ProcStat[] = [];
  const stack: ProcStat[] = [rootStat];
  const seen = new Set<number>();
  while (stack.length > 0) {
    const st = stack.pop() as ProcStat;
    if (seen.has(st.pid)) continue;
    seen.add(st.pid);
    out.push(st);
    for (const child of byParent.get(st.pid) ?? []) stack.push(child);
  }
  return out;
}

/** Samples a tree at the start of a window; finish() gives CPU % over it. */
export function cpuWindow(root: number): { finish(): number | null; finishSplit(): { total: number; sys: number } | null } {
  const t0 = Date.now();
  const c0 = treeCpu(root);
  const split = (): { total: number; sys: number } | null => {
    const c1 = treeCpu(root);
    const wall = (Date.now() - t0) / 1000;
    if (c0 === null || c1 === null || wall <= 0) return null;
    return { total: ((c1.total - c0.total) / wall) * 100, sys: ((c1.sys - c0.sys) / wall) * 100 };
  };
  return {
    finish: () => split()?.total ?? null,
    finishSplit: split,
  };
}
