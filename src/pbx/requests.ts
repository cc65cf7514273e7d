// The PBX as an application on the user-agent core (src/sip/ua/core.ts): the
// methods and option tags it implements, and which component takes which
// request. The core does the generic checks of RFC 3261 §8.2, CANCEL, the
// default OPTIONS answer and in-dialog dispatch through its dialog table.
import type { Endpoint, SipRequest, SipResponse } from '../sip/message.ts';
import type { Inbound } from '../sip/transport/types.ts';
import type { InviteServerTransaction } from '../sip/transaction/types.ts';
import { statelessResponse } from '../sip/transaction/stateless.ts';
import { tagOf } from '../sip/name-addr.ts';
import { createResponse } from '../sip/serializer.ts';
import { UserAgentCore } from '../sip/ua/core.ts';
import type { UasRefusal } from '../sip/ua/core.ts';
import type { Registrar } from './registrar/registrar.ts';
import { registerRefusal } from './registrar/registrar.ts';
import type { CallEngine } from './call/engine.ts';
import { inviteRefusal } from './call/engine.ts';
import type { AuthRejection, Authenticator } from './auth/authenticator.ts';
import type { PeerLinks } from './peers/peer-links.ts';

/** Sources whose INVITEs carry no credentials: trunk peers and the other nodes, trusted by address. */
export interface TrustedSources {
  fromSource(source: Endpoint): unknown;
}

/**
 * Methods this server implements; the Allow header of every 405/501/OPTIONS
 * answer. NOTIFY: the gateway's upstream subscriptions (message-summary) take
 * them in their dialogs; one outside any dialog gets 481 from the core.
 */
export const ALLOWED_METHODS = ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'REGISTER', 'UPDATE', 'INFO', 'PRACK', 'REFER', 'SUBSCRIBE', 'NOTIFY'] as const;
/**
 * Option tags we support (RFC 3261 §8.2.2.3): Path (RFC 3327), reliable
 * provisionals (RFC 3262), session timers (RFC 4028), Replaces (RFC 3891),
 * norefersub (RFC 4488). GRUU (RFC 5627) is not offered: requests to a GRUU
 * would not reach one device only.
 */
export const SUPPORTED_OPTIONS = ['path', '100rel', 'timer', 'replaces', 'norefersub'] as const;

export function pbxCore(): UserAgentCore {
  return new UserAgentCore({ allowedMethods: ALLOWED_METHODS, supportedOptions: SUPPORTED_OPTIONS });
}

/**
 * Hands the core's out-of-dialog requests to the registrar and the call
 * engine. A peer node's OPTIONS (its link keepalive) is answered with a
 * Contact whose user part names this node.
 */
export function servePbx(core: UserAgentCore, registrar: Registrar, calls: CallEngine, peers?: PeerLinks): void {
  if (peers !== undefined) {
    core.handle('OPTIONS', (req, tx, inbound) => {
      const headers = core.capabilityHeaders();
      if (peers.fromSource(inbound.source) !== undefined) headers.push(peers.contactHeader({ transport: inbound.local.transport, address: inbound.local.address, port: inbound.local.port }));
      tx.respond(createResponse(req, 200, 'OK', { extraHeaders: headers }));
    });
  }
  core.handle('REGISTER', (req, tx, inbound) => registrar.handle(req, inbound, (status, reason, extra) => tx.respond(createResponse(req, status, reason, { extraHeaders: extra }))));
  core.handle('INVITE', (req, tx, inbound) => calls.invite(req, tx as InviteServerTransaction, inbound));
  // A transfer is asked for inside the call it transfers; on its own a REFER names nothing of ours.
  core.handle('REFER', (req, tx) => tx.respond(createResponse(req, 403, 'REFER Only Inside A Call')));
  core.onCancel = (inviteTx) => calls.cancel(inviteTx);
}

/**
 * The transaction layer's screen: new REGISTERs, SUBSCRIBEs and out-of-dialog INVITEs
 * that are not from a trunk peer are authenticated before any transaction
 * exists, and the challenge or refusal goes back statelessly (RFC 3261
 * §8.2.7, §22), so a flood of unauthenticated requests keeps nothing and a
 * spoofed source gets one answer per request, never retransmissions. What
 * the core's checks or the handler refuse before authentication is answered
 * first, as it is without the screen, so answers and lockout counts stay
 * what they were.
 */
export function pbxScreen(
  core: UserAgentCore, auth: Authenticator, trusted: TrustedSources,
  /** An INVITE whose credentials were refused (the call log records it, bounded). */
  inviteAuthFailed?: (req: SipRequest, inbound: Inbound, rejection: AuthRejection) => void,
): (req: SipRequest, inbound: Inbound) => SipResponse | undefined {
  return (req, inbound) => {
    const method = req.method;
    // In-dialog re-INVITEs belong to their call; trunk peers and our other nodes are trusted by address.
    // A new SUBSCRIBE (message-summary) is a user's, from wherever it comes; refreshes belong to their subscription.
    if (method === 'SUBSCRIBE') {
      if (tagOf(req.to) !== undefined) return undefined;
    } else if (method === 'INVITE' ? tagOf(req.to) !== undefined || trusted.fromSource(inbound.source) !== undefined : method !== 'REGISTER') return undefined;
    const refusal: UasRefusal | undefined = core.refusal(req) ?? (method === 'REGISTER' ? registerRefusal(req) : method === 'INVITE' ? inviteRefusal(req) : undefined);
    if (refusal !== undefined) return statelessResponse(req, refusal.status, refusal.reason, refusal.headers);
    const rejection = auth.screen(req, inbound.source, method === 'REGISTER' ? 'registrar' : 'proxy');
    if (rejection?.failed !== undefined && method === 'INVITE') inviteAuthFailed?.(req, inbound, rejection);
    return rejection === undefined ? undefined : statelessResponse(req, rejection.status, rejection.reason, rejection.headers);
  };
}
