// The TLS peer (SPEC D-06) of messages another worker forwards: it crosses
// the worker link as JSON, so each message would bring a new object, while
// what the server keeps per peer (the trusted-server log line, once per
// connection) is keyed by that object, as in one process where it lives as
// long as its connection.
import type { TlsPeer } from '../sip/transport/tls-peer.ts';
import type { InboundSource } from '../sip/transport/types.ts';

/** Connections remembered; beyond it the oldest is forgotten (its peer is then logged again on its next message). */
const MAX_CONNECTIONS = 1024;

export class ForwardedPeers {
  /** By connection id, which is unique in the cluster and names the worker holding the connection (sip/owner.ts). */
  private readonly byConnection = new Map<number, TlsPeer>();

  /** Puts the connection's one TlsPeer object in `source` (fresh from the link, so ours to change). */
  adopt(source: InboundSource): InboundSource {
    const peer = source.tlsPeer;
    const id = source.connectionId;
    if (peer === undefined || id === undefined) return source;
    const known = this.byConnection.get(id);
    // A worker that restarted mints its connection ids anew: the same id with other names is another connection.
    if (known !== undefined && sameNames(known.names, peer.names)) {
      source.tlsPeer = known;
      return source;
    }
    if (known === undefined && this.byConnection.size >= MAX_CONNECTIONS) this.byConnection.delete(this.byConnection.keys().next().value!);
    this.byConnection.set(id, peer);
    return source;
  }
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
