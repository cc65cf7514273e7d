// One worker of a cluster (`switchboard start --workers N` forks N of these):
// a whole server on the shared SIP ports, told its number and the cluster's
// secret by the supervisor, answering its status questions over IPC.
import type { Config } from '../config/schema.ts';
import type { Logger } from '../lib/log.ts';
import { Server } from '../server.ts';
import type { ClusterMember } from '../server.ts';
import { setLocalOwner } from '../sip/owner.ts';
import type { FromWorker, ToWorker } from './ipc.ts';
import { gatewayControl } from '../gateway/control.ts';
import { NO_GATEWAY } from '../pbx/status/control-socket.ts';

export interface WorkerStart {
  config: Config;
  dataDir: string;
  logger: Logger;
  pinnedSettings: string[];
  member: ClusterMember;
  /** The server is up (e.g. to reload it on SIGHUP). */
  onStarted?: (server: Server) => void;
}

/** Runs until SIGTERM/SIGINT or until the supervisor goes away, then stops the server cleanly. */
export async function runWorker(opts: WorkerStart): Promise<void> {
  const { member } = opts;
  // Before anything mints an identifier: every branch, tag and connection id names this worker.
  setLocalOwner(member.worker);
  const server = await Server.start({ config: opts.config, dataDir: opts.dataDir, logger: opts.logger, pinnedSettings: opts.pinnedSettings, cluster: member, trimHeap: true });
  opts.onStarted?.(server);
  const send = (msg: FromWorker): void => {
    if (process.connected) process.send!(msg);
  };
  process.on('message', (msg: ToWorker) => {
    if (msg?.type === 'status') {
      send({ type: 'status', id: msg.id, status: server.status.snapshot(), summary: server.workerSummary() });
    } else if (msg?.type === 'bans') {
      const { id, lift } = msg;
      const bans = server.commandLineBans;
      const answer = lift ? bans.lift(lift).then((lifted) => ({ lifted })) : bans.list().then((list) => ({ bans: list }));
      void answer.then((a) => send({ type: 'bans', id, ...a }), (err: Error) => send({ type: 'bans', id, error: err.message }));
    } else if (msg?.type === 'reload') {
      const { id } = msg;
      server.requestReload().then((report) => send({ type: 'reload', id, report }), (err: Error) => send({ type: 'reload', id, error: err.message }));
    } else if (msg?.type === 'drain') {
      void server.drainCalls().finally(() => send({ type: 'drained', worker: member.worker }));
    } else if (msg?.type === 'gateway') {
      const { id, reregister } = msg;
      const lines = server.gateway.lines;
      if (!lines) return send({ type: 'gateway', id, error: NO_GATEWAY });
      const ops = gatewayControl(lines);
      send(reregister ? { type: 'gateway', id, lines: ops.reregister(reregister.extensions) } : { type: 'gateway', id, status: ops.status() });
    } else if (msg?.type === 'extension') {
      const { id } = msg;
      server.extensions.detail(msg.extension).then((d) => send({ type: 'extension', id, detail: d ?? null }), (err: Error) => send({ type: 'extension', id, error: err.message }));
    }
  });
  const stopped = new Promise<void>((resolve) => {
    const done = (): void => resolve();
    process.once('SIGTERM', done);
    process.once('SIGINT', done);
    // A supervisor that died leaves nobody to stop us: we stop ourselves.
    process.once('disconnect', done);
  });
  const http = server.http?.address();
  const adminPassword = server.takeInitialAdminPassword() ?? undefined;
  send({
    type: 'ready',
    worker: member.worker,
    listeners: server.listening(),
    http: http && { address: http.address, port: http.port, scheme: server.config.http.allowHttp ? 'http' : 'https' },
    provisioning: server.provisioning ? { address: server.provisioning.https.address, port: server.provisioning.https.port } : undefined,
    adminPassword,
  });
  await stopped;
  try {
    await server.stop();
  } finally {
    // The IPC channel would keep this process alive (half stopped, after a
    // failed stop too): the supervisor waits for it to exit.
    if (process.connected) process.disconnect();
  }
}
