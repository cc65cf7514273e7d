// The running server as the System page's routes see it (routes/system.ts):
// in a cluster, the management worker asks every worker over the link.
import type { LogRing } from '../lib/log-ring.ts';
import type { ConnectionCaps } from '../ops/file-limit.ts';
import type { Server } from '../server.ts';
import { siteAddresses } from '../server-config.ts';
import { askControlSocket, controlSocketPath } from '../pbx/status/control-socket.ts';
import type { ControlReload } from '../pbx/status/control-socket.ts';

/** A reload may issue a due identity (RSA key generation) in every worker. */
const RELOAD_TIMEOUT_MS = 60_000;
import type { SystemSource } from './routes/system.ts';

export function systemSource(server: Server, o: { dataDir: string; logRing: LogRing; caps: ConnectionCaps; node: string; startedAt: number; workers: number }): SystemSource {
  const { config } = server;
  const relay = config.media.relay;
  return {
    dataDir: o.dataDir,
    startedAt: o.startedAt,
    node: o.node,
    listeners: () => {
      const sip = server.listening();
      const http = server.http?.address();
      return http ? [...sip, { transport: config.http.allowHttp ? 'http' : 'https', ...http }] : sip;
    },
    workers: async () => (server.cluster ? server.cluster.summaries() : [server.workerSummary()]),
    logs: async () => (server.cluster ? server.cluster.logs() : o.logRing.list()),
    counts: () => ({ users: server.directory.size, registrations: server.location.count }),
    site: () => siteAddresses(config),
    // In a cluster the supervisor reloads every worker (this one too): it is asked over its control socket.
    applyCertificates: async () => (server.cluster
      ? (await askControlSocket<{ reload: ControlReload }>(controlSocketPath(o.dataDir), { op: 'reload' }, RELOAD_TIMEOUT_MS)).reload
      : server.requestReload()),
    limits: {
      workers: o.workers,
      sipConnectionsPerWorker: o.caps.sipConnections,
      sipConnectionsPerSource: o.caps.sipPerSource,
      httpConnections: o.caps.httpConnections,
      openFilesPerWorker: o.caps.fileLimit,
      contactsPerUser: config.registrar.maxContactsPerAor,
      callsPerUser: config.calls.maxCallsPerUser,
      ...(config.media.backend === 'builtin' ? { relayPorts: relay.portMax - relay.portMin + 1 } : {}),
    },
  };
}
