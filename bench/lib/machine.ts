// What a benchmark figure was measured on: printed with every run so figures
// from different machines are never compared unknowingly.
import { cpus, totalmem } from 'node:os';

export interface MachineInfo {
  date: string;
  cpuModel: string;
  cores: number;
  memGiB: number;
  node: string;
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    date: new Date().toISOString(),
    cpuModel: (list[0]?.model ?? 'unknown').replace(/\s+/g, ' ').trim(),
    cores: list.length,
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
}

export function machineLines(m: MachineInfo = machineInfo()): string[] {
  return [`date: ${m.date}`, `machine: ${m.cpuModel}, ${m.cores} cores, ${m.memGiB} GiB, node ${m.node}`];
}
