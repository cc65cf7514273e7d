// What one line registers as (issue 15 item 1, B-01, B-04, D-06): its AoR,
// registrar domain, credentials, Contact user and instance id, from the
// line and the gateway's settings; and whether it registers at all.
import { createHash } from 'node:crypto';
import { lineDisplayName, type GatewaySettings } from '../model/gateway.ts';
import type { LineWithSecret } from '../store/gateway-types.ts';

export interface LinePlan {
  extension: string;
  upstreamUser: string;
  domain: string;
  /** sip(s):user@domain. */
  aor: string;
  secure: boolean;
  /** Undefined in trusted-server mode (mutual TLS instead, D-06). */
  credentials: { username: string; password: string } | undefined;
  /** The line's own display name, else the local user's name ('' when neither has one). */
  displayName: string;
  /**
   * Our Contact user: the upstream user itself. Registrars such as IP Office
   * and Lync expect the AoR user there, and the upstream addresses its
   * INVITEs to it; fromUpstream() tells two lines with the same user apart by
   * where the request came from.
   */
  contactUser: string;
  /** urn:uuid, stable across restarts: derived from the gateway's own UUID and the extension. */
  instanceId: string;
  /** Everything that, when changed, needs a new registration. */
  key: string;
}

/** Why a line does not register (undefined: it registers). */
export type Idle = 'disabled' | 'no-domain' | 'off';

/** Lines register in gateway and both modes only, when enabled and with a domain. */
export function planLine(line: LineWithSecret, s: GatewaySettings, gatewayUuid: string): LinePlan | Idle {
  if (s.mode === 'call-server') return 'off';
  if (line.disabled) return 'disabled';
  const domain = line.upstreamDomain || s.defaultDomain;
  if (!domain) return 'no-domain';
  const secure = s.sips;
  const credentials = s.trustedServer ? undefined : { username: line.authUser || line.upstreamUser, password: line.password };
  const aor = `${secure ? 'sips' : 'sip'}:${line.upstreamUser}@${domain}`;
  const instanceId = lineInstanceId(gatewayUuid, line.extension);
  const displayName = lineDisplayName(line);
  // Settings that change the REGISTER or the way to the upstream; a change re-registers.
  const key = JSON.stringify([
    aor, credentials?.username, credentials?.password, displayName, s.transport, s.dnsMethod, s.registerExpiresSec, s.gruu,
    s.tlsAllowInsecure, s.legacyTls, s.tcpEphemeralContact, s.trustedServer, s.maxForwards, s.clientTransactionTimeoutMs, s.separatePorts,
  ]);
  return {
    extension: line.extension, upstreamUser: line.upstreamUser, domain, aor, secure, credentials, displayName,
    contactUser: line.upstreamUser, instanceId, key,
  };
}

/** A name-based UUID (RFC 9562 v5 layout over SHA-1) of the gateway's UUID and the extension. */
export function lineInstanceId(gatewayUuid: string, extension: string): string {
  const h = createHash('sha1').update(gatewayUuid).update('\0').update(extension).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `urn:uuid:${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}
