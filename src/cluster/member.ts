// What a worker of a cluster does differently from a lone server, in one
// place: its slice of the relay ports, where the link sockets live, and
// which duties only one worker has.
import { join } from 'node:path';
import os from 'node:os';
import { MAX_OWNERS } from '../sip/owner.ts';

/** `--workers`: 1..MAX_OWNERS-1, or auto for one per core. @throws RangeError */
export function workerCount(value: string | undefined): number {
  if (value === undefined) return 1;
  const n = value === 'auto' ? os.availableParallelism() : Number(value);
  if (!Number.isInteger(n) || n < 1 || n >= MAX_OWNERS) throw new RangeError(`--workers must be 1..${MAX_OWNERS - 1} or auto, got '${value}'`);
  return n;
}

/** The link sockets of a cluster (src/cluster/link.ts), under the data directory. */
export function clusterSocketDir(dataDir: string): string {
  return join(dataDir, 'cluster');
}

/**
 * Worker `worker` of `workers` relays on its own even-aligned slice of
 * portMin..portMax, so two workers never allocate the same RTP port.
 * @throws RangeError when the range leaves a worker fewer than two RTP/RTCP pairs
 */
export function clusterRelayPorts(portMin: number, portMax: number, worker: number, workers: number): { portMin: number; portMax: number } {
  const first = portMin + (portMin % 2);
  const pairs = Math.floor((portMax - first + 1) / 2);
  const each = Math.floor(pairs / workers);
  if (each < 2) throw new RangeError(`media.relay ports ${portMin}-${portMax} are too few for ${workers} workers`);
  const start = first + (worker - 1) * each * 2;
  return { portMin: start, portMax: start + each * 2 - 1 };
}

/** The worker that holds the singletons (holdsSingletons). */
export const SINGLETONS_WORKER = 1;

/**
 * Duties one worker has for the whole cluster: the management server (one
 * HTTP port, one first-start password) and the registrations to trunks (one
 * upstream registration per trunk, not one per worker).
 */
export function holdsSingletons(worker: number | undefined): boolean {
  return worker === undefined || worker === SINGLETONS_WORKER;
}
