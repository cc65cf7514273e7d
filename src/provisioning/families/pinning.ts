// Where a phone (B179, E129, the DECT bases) is told to fetch its configuration from once it has
// talked to this server (SPEC A-15, C-18, A-14), and whether a request came
// through the remote-worker SBC (SPEC §5.9 rules 2 and 4, A-16).
import { bracketHost } from '../../lib/net.ts';
import { normalizeAddress } from '../../sip/transport/stream.ts';
import type { RemoteWorkerSbc, RenderInput } from '../types.ts';

export interface PinnedServer {
  /** The address the phone keeps using: LAN for local requests (and the CLI render), public for remote ones. */
  host: string;
  scheme: 'http' | 'https';
  port: number;
}

/**
 * the private address when the request came from the LAN (or there is
 * no request: `provision render`), the public one when it came from outside
 * and the site has one. A-14: https when SIP over TLS is on; http only when
 * TLS is off and the HTTP listener exists, else https (the only listener).
 */
export function pinnedServer({ site, request }: RenderInput): PinnedServer {
  const host = request !== undefined && !request.local && site.publicAddress !== undefined ? site.publicAddress : site.lanAddress;
  if (site.sipPorts.tls === undefined && site.provisioningPorts.http !== undefined) {
    return { host, scheme: 'http', port: site.provisioningPorts.http };
  }
  return { host, scheme: 'https', port: site.provisioningPorts.https };
}

export function pinnedUrl(p: PinnedServer): string {
  return `${p.scheme}://${bracketHost(p.host)}:${p.port}/`;
}

/** The transport a phone should use: TLS, else TCP, else UDP (SPEC §5.9 rule 6 for the SBC's ports too). */
export function preferredTransport(ports: { udp?: number; tcp?: number; tls?: number }): { protocol: 'TLS' | 'TCP' | 'UDP'; port: number } | undefined {
  if (ports.tls !== undefined) return { protocol: 'TLS', port: ports.tls };
  if (ports.tcp !== undefined) return { protocol: 'TCP', port: ports.tcp };
  if (ports.udp !== undefined) return { protocol: 'UDP', port: ports.udp };
  return undefined;
}

/**
 * §5.9: the SBC in front of this request, when REG and PROV are both set
 * (rule 2: otherwise every RW_* value is ignored), at least one port is set
 * (rule 3) and the request's source is PROV (rule 4).
 */
export function remoteWorkerSbc({ site, request }: RenderInput): RemoteWorkerSbc | undefined {
  const rw = site.remoteWorker;
  if (rw === undefined || rw.reg === '' || rw.prov === '' || request === undefined) return undefined;
  if (rw.tls === undefined && rw.tcp === undefined && rw.udp === undefined) return undefined;
  return normalizeAddress(request.source) === normalizeAddress(rw.prov) ? rw : undefined;
}
