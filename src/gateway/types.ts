// What the parts of the handset gateway offer each other (issue 15): the
// lines manager (lines.ts) owns the upstream registrations; calls
// (calls.ts), MWI (mwi.ts) and status views use it through these.
import type { Endpoint, NameAddr, SipRequest, SipUri } from '../sip/message.ts';
import type { Inbound } from '../sip/transport/types.ts';
import type { GatewaySettings, GatewayStatus, LineStatus } from '../model/gateway.ts';

/** How a request of a line reaches the upstream (a new dialog: INVITE, SUBSCRIBE). */
export interface UpstreamRoute {
  /** The line's AoR (sip: or sips: per B-04): From of our requests. */
  aor: NameAddr;
  /** Request-URI for a number dialled on the handset: sip(s):<dialled>@<domain>. */
  requestUri(dialled: string): SipUri;
  /** Next hop: the registrar that holds the registration when sendToCurrentRegistrar is on, else the best proxy now. */
  dest: Endpoint;
  /** Pre-loaded Route set (a proxy, or the Service-Route/Path the registrar returned). */
  routes: string[];
  /** Digest credentials; undefined in trusted-server mode (MTLS). */
  credentials: { username: string; password: string } | undefined;
  /** Our Contact for dialogs of this line (the user part the upstream sends INVITEs to). */
  contact: SipUri;
  /** Whether the line uses sips: (every hop TLS). */
  secure: boolean;
}

/** A request from the upstream matched to the line it is for. */
export interface UpstreamMatch {
  extension: string;
  /** The line's user part the upstream addressed (our Contact user, or the AoR user). */
  lineUser: string;
}

export interface GatewayLines {
  /** The current settings (the store's, as last loaded). */
  readonly settings: GatewaySettings;
  /** Whether `extension` is a gateway user (has an enabled line) — its calls go upstream. */
  isGatewayUser(extension: string): boolean;
  /** Where a new request of the line goes; undefined when the line is not registered (or no proxy is reachable). */
  route(extension: string): UpstreamRoute | undefined;
  /**
   * A request that came from the upstream for one of our lines (by the
   * Request-URI user = our Contact user, from an address of a proxy/registrar
   * of that line or over its flow); undefined when it is not one.
   */
  fromUpstream(req: SipRequest, inbound: Inbound): UpstreamMatch | undefined;
  /** The line's status (B-32). */
  lineStatus(extension: string): LineStatus | undefined;
  status(): GatewayStatus;
  /** Re-register now (bulk re-register, B-14); every line when no list is given. */
  reregister(extensions?: readonly string[]): void;
  /** Something a status view shows changed (registration, failure, MWI state). */
  onChange(listener: (extension: string) => void): () => void;
  /** Records SIP activity of a line's handset or upstream side (latest activity). */
  touch(extension: string): void;
}
