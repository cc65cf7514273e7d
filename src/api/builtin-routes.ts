// The routes every server mounts beside the REST API: /metrics and /healthz,
// the live status (REST and WebSocket) and the web UI. Separate from
// http-server.ts because they need the running server's parts.
import type { Server } from '../server.ts';
import type { ExtraRoutes } from './http-server.ts';
import { liveRoutes } from './live.ts';
import { extensionRoutes } from './extension-routes.ts';
import { opsRoutes } from './ops-routes.ts';
import { webUiRoutes } from './web-ui.ts';
import { deviceRoutes } from './routes/devices.ts';
import { provisioningRoutes } from './routes/provisioning.ts';
import { buildSite, configuredProvisioningPorts, configuredSipPorts } from '../provisioning/site.ts';

export function builtInRoutes(server: Server, now: () => number): ExtraRoutes[] {
  const http = server.config.http;
  // With the provisioning server off, the site as it would be with the configured ports.
  const provisioningSite = () => server.provisioning?.site() ?? buildSite({
    config: server.config, media: () => server.systemMedia.current, certificates: () => server.certificates,
    sipPorts: () => configuredSipPorts(server.config), provisioningPorts: () => configuredProvisioningPorts(server.config),
  });
  return [
    opsRoutes({
      metrics: () => server.metrics(),
      metricsContentType: () => server.metricsContentType,
      health: () => server.health(),
      metricsToken: http.metricsToken,
    }),
    liveRoutes({
      // In a cluster, every worker's calls (the management worker hears them all).
      status: server.cluster?.status ?? server.status,
      // Each worker's registrations and overload, asked over the link as the request comes.
      fullSnapshot: server.cluster && (() => server.cluster!.snapshot()),
      alarms: server.alarms,
      sessions: server.store.admin.sessions,
      cdrs: server.store.cdrs,
      idleMs: Math.round(http.sessionIdleMinutes * 60_000),
      now,
      timers: server.timers,
    }),
    extensionRoutes(server.extensions),
    deviceRoutes({ site: provisioningSite, recent: () => server.provisioning?.recent() ?? [] }),
    provisioningRoutes({ site: provisioningSite, running: () => server.provisioning !== null }),
    webUiRoutes(),
  ];
}
