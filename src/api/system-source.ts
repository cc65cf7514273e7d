// The running server as the System page's routes see it (routes/system.ts):
// in a cluster, the management worker asks every worker over the link.
import type { LogRing } from '../lib/log-ring.ts';
import type { ConnectionCaps } from '../ops/file-limit.ts';
import type { Server } from '../server.ts';
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
