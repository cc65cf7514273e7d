// What the supervisor and its workers say to each other over Node's IPC
// channel (child_process.fork): start-up, status questions, nothing on the
// SIP path (that goes over the worker link, src/cluster/link.ts).
import type { StatusSnapshot } from '../pbx/status/status.ts';
import type { WorkerSummary } from '../pbx/status/control-socket.ts';
import type { Ban, BanTarget } from '../security/bans.ts';
import type { ExtensionDetail } from '../model/extension-detail.ts';
import type { ControlReload } from '../pbx/status/control-socket.ts';
import type { GatewayStatus } from '../model/gateway.ts';

/** Environment a worker is started with: its number, the cluster size, the shared secret (hex). */
export const WORKER_ENV = { worker: 'SWITCHBOARD_WORKER', workers: 'SWITCHBOARD_WORKERS', secret: 'SWITCHBOARD_CLUSTER_SECRET' } as const;

export type ToWorker =
  | { type: 'status'; id: number }
  /** To worker 1 (it asks the others over the link): list the lockouts, or lift `lift` first. */
  | { type: 'bans'; id: number; lift?: BanTarget }
  /** To worker 1: one extension's detail (it asks the others over the link). */
  | { type: 'extension'; id: number; extension: string }
  /** To worker 1 (it runs the handset gateway's lines): `switchboard gateway status`, or re-register these lines (all: none given). */
  | { type: 'gateway'; id: number; reregister?: { extensions?: string[] } }
  /** To every worker: the same reload as SIGHUP (`switchboard cert ...` after a change); answered with 'reload'. */
  | { type: 'reload'; id: number }
  /** The first half of a stop: end every call, the transport still running; answered with 'drained'. */
  | { type: 'drain' };

export type FromWorker =
  | {
      type: 'ready';
      worker: number;
      listeners: { transport: string; address: string; port: number }[];
      /** The management server's address, from the worker that runs it. */
      http?: { address: string; port: number; scheme: string };
      /** The provisioning server's HTTPS address, from the worker that runs it. */
      provisioning?: { address: string; port: number };
      /** The first start's administrator password, from the worker that runs the management server. */
      adminPassword?: string;
    }
  | { type: 'status'; id: number; status: StatusSnapshot; summary: WorkerSummary }
  | { type: 'bans'; id: number; bans?: Ban[]; lifted?: number; error?: string }
  | { type: 'extension'; id: number; detail?: ExtensionDetail | null; error?: string }
  | { type: 'reload'; id: number; report?: ControlReload; error?: string }
  | { type: 'gateway'; id: number; status?: GatewayStatus; lines?: number; error?: string }
  | { type: 'drained'; worker: number };
