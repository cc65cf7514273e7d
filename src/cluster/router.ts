// Hands each inbound SIP message to the worker that owns it (src/sip/owner.ts):
// a response to the worker whose Via branch it carries, an in-dialog request
// (and the ACK or CANCEL of a final answer) to the worker whose tag is in its
// To. A new request stays where the kernel delivered it, unless placement
// (placement.ts) names the worker that holds what it is about; its
// retransmissions and its CANCEL then follow it there.

import type { SipMessage, SipRequest } from '../sip/message.ts';
import type { Inbound, InboundSource } from '../sip/transport/types.ts';
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
  /** Hands the message to worker `to` (source with its TLS peer, D-06); false when it cannot (then it is handled here). */
  forward: (to: number, source: InboundSource, data: Buffer) => boolean;
  /** The worker that should take a new request (0: this one). */
  place?: (req: SipRequest) => number;
  /** Epoch ms, for forgetting where placed requests went. */
  now: () => number;
}

/** How long a placed request's retransmissions and CANCEL are followed: timer B/F, 64*T1. */
const PLACED_TTL_MS = 32_000;
/** Placed requests remembered at most (a flood of them forgets the oldest first). */
const MAX_PLACED = 100_000;

export class WorkerRouter {
  /** Messages handed to other workers. */
  forwarded = 0;
  /** Top Via branch of a placed request -> the worker it went to, oldest first. */
  private readonly placed = new Map<string, { worker: number; at: number }>();

  constructor(private readonly deps: RouterDeps) {}

  receive(inbound: Inbound): void {
    const m = inbound.message;
    let owner = ownerOfMessage(m);
    if (owner === 0 && m.kind === 'request' && m.method !== 'ACK') owner = this.placement(m);
    if (owner !== 0 && owner !== localOwner() && owner <= this.deps.workers) {
      // The bytes as received: the owner parses them and notes received/rport from the same source, as we did.
      if (this.deps.forward(owner, inbound.source, inbound.data ?? serializeMessage(inbound.message))) {
        this.forwarded++;
        return;
      }
    }
    this.deps.local(inbound);
  }

  private placement(req: SipRequest): number {
    const branch = req.via[0]?.params.get('branch');
    if (branch == null || this.deps.place === undefined) return 0;
    const seen = this.placed.get(branch);
    if (seen !== undefined) return seen.worker;
    // A CANCEL shares its INVITE's branch: seen above when the INVITE was placed.
    if (req.method !== 'INVITE') return 0;
    const worker = this.deps.place(req);
    if (worker === 0 || worker === localOwner()) return 0;
    const now = this.deps.now();
    for (const [k, v] of this.placed) {
      if (now - v.at < PLACED_TTL_MS && this.placed.size < MAX_PLACED) break;
      this.placed.delete(k);
    }
    this.placed.set(branch, { worker, at: now });
    return worker;
  }
}
