// Hands each inbound SIP message to the worker that owns it (src/sip/owner.ts):
// a response to the worker whose Via branch it carries, an in-dialog request
// (and the ACK or CANCEL of a final answer) to the worker whose tag is in its
// To. A new request stays where the kernel delivered it: that worker takes it.

import type { Endpoint, SipMessage } from '../sip/message.ts';
import type { Inbound } from '../sip/transport/types.ts';
import { MAGIC_COOKIE } from '../sip/ids.ts';
import { localOwner, ownerOfId } from '../sip/owner.ts';
import { tagOf } from '../sip/name-addr.ts';
import { serializeMessage } from '../sip/serializer.ts';

/** The worker a message belongs to, or 0 when it names none (new requests, identifiers of other agents). */
export function ownerOfMessage(m: SipMessage): number {
  if (m.kind === 'response') {
    const branch = m.via[0]?.params.get('branch');
    return branch != null && branch.startsWith(MAGIC_COOKIE) ? ownerOfId(branch, MAGIC_COOKIE.length) : 0;
  }
  return ownerOfId(tagOf(m.to));
}

export interface RouterDeps {
  /** Workers in the cluster: owners above it (a forged identifier) are taken here. */
  workers: number;
  /** Passes the message on to this worker's transaction layer. */
  local: (inbound: Inbound) => void;
  /** Hands the message to worker `to`; false when it cannot (then it is handled here). */
  forward: (to: number, source: Endpoint, data: Buffer) => boolean;
}

export class WorkerRouter {
  /** Messages handed to other workers. */
  forwarded = 0;

  constructor(private readonly deps: RouterDeps) {}

  receive(inbound: Inbound): void {
    const owner = ownerOfMessage(inbound.message);
    if (owner !== 0 && owner !== localOwner() && owner <= this.deps.workers) {
      // The message as received (with received/rport already noted in its Via); the owner parses it again.
      if (this.deps.forward(owner, inbound.source, serializeMessage(inbound.message))) {
        this.forwarded++;
        return;
      }
    }
    this.deps.local(inbound);
  }
}
