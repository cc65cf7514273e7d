// The SIP links between the nodes of one solution (SPEC: the SCN
// lines between call-server nodes). Nodes share users and registrations
// through the store; a call for a phone another node holds goes to that node
// over its link, and the node holding the phone delivers it. Each link is
// watched with OPTIONS (RFC 3261 §11): the answer names the peer node (the
// user part of its Contact), and a link that stops answering is down, so calls
// stop going its way until it answers again.
import type { Endpoint, Header, SipUri, TransportName } from '../../sip/message.ts';
import type { Logger } from '../../lib/log.ts';
import type { TimerHandle, TimerQueue } from '../../lib/timer-queue.ts';
import type { UacTransport } from '../../sip/ua/uac.ts';
import { sendUacRequest } from '../../sip/ua/uac.ts';
import { optionsRequest } from '../../sip/ua/options.ts';
import { generateCallId, generateTag } from '../../sip/ids.ts';
import { newVia } from '../../sip/dialog.ts';
import { getContacts } from '../../sip/headers.ts';
import { formatUri, parseUri } from '../../sip/uri.ts';
import { bracketHost, resolveAddresses, unbracketHost } from '../../lib/net.ts';

export type PeerLinkState = 'connecting' | 'up' | 'down';

export interface PeerLinkStatus {
  /** As configured, e.g. sip:10.0.0.2:5061;transport=tls */
  uri: string;
  /** The peer node's name, learnt from its answer (null until it answered once). */
  node: string | null;
  state: PeerLinkState;
  /** Epoch ms the state began. */
  since: number;
  /** Round trip of the last answered OPTIONS. */
  rttMs: number | null;
  /** Why the link is down ('' when up). */
  reason: string;
}

/** A peer as configured: where its requests go. */
export interface PeerTarget {
  uri: SipUri;
  transport: TransportName;
  host: string;
  port: number;
}

/**
 * A peer URI as the configuration gives it: sip: or sips:, a host and
 * optional port, `transport` udp/tcp/tls (sips: means TLS; sip: without one
 * means UDP, RFC 3263 §4.1 for a numeric port). Undefined when unusable.
 */
export function parsePeerUri(text: string): PeerTarget | undefined {
  const uri = parseUri(text.trim());
  if (!uri || (uri.scheme !== 'sip' && uri.scheme !== 'sips') || uri.host === '') return undefined;
  const param = uri.params.get('transport')?.toLowerCase();
  if (param !== undefined && param !== 'udp' && param !== 'tcp' && param !== 'tls') return undefined;
  if (uri.scheme === 'sips' && param !== undefined && param !== 'tls') return undefined;
  const transport: TransportName = uri.scheme === 'sips' ? 'tls' : ((param as TransportName | undefined) ?? 'udp');
  return { uri, transport, host: unbracketHost(uri.host), port: uri.port ?? (transport === 'tls' ? 5061 : 5060) };
}

export interface PeerLinksDeps {
  /** This node's name: what our answers to a peer's OPTIONS say. */
  self: string;
  /** The peers' URIs (validated by the config schema). */
  peers: readonly string[];
  /** How often each link is probed. */
  keepaliveMs: number;
  domain: string;
  transactions: UacTransport;
  timers: TimerQueue;
  now(): number;
  log: Logger;
  localEndpoint(transport: TransportName): { address: string; port: number } | undefined;
  /** A link went up or down (alarms). */
  onState?(status: Readonly<PeerLinkStatus>): void;
}

class PeerLink {
  status: PeerLinkStatus;
  /** Addresses the peer's host resolves to: requests from them are the peer's. */
  addresses: string[] = [];
  dest: Endpoint | undefined;
  private timer: TimerHandle | undefined;
  /** The last probe has had no answer yet: at the next one the link is down. */
  private awaiting = false;
  private readonly callId = generateCallId();
  private readonly tag = generateTag();
  private cseq = 0;
  private stopped = false;

  constructor(
    readonly target: PeerTarget,
    private readonly deps: PeerLinksDeps,
  ) {
    this.status = { uri: formatUri(target.uri), node: null, state: 'connecting', since: deps.now(), rttMs: null, reason: '' };
  }

  async start(): Promise<void> {
    this.addresses = await resolveAddresses(this.target.host);
    const address = this.addresses[0];
    if (address !== undefined) this.dest = { transport: this.target.transport, address, port: this.target.port };
    if (!this.stopped) this.probe();
  }

  stop(): void {
    this.stopped = true;
    this.deps.timers.cancel(this.timer);
  }

  private probe(): void {
    this.timer = this.deps.timers.schedule(this.deps.keepaliveMs, () => this.probe());
    const dest = this.dest;
    const local = dest && this.deps.localEndpoint(dest.transport);
    if (!dest || !local) {
      this.set('down', dest ? `${this.target.transport.toUpperCase()} is not enabled here` : `${this.target.host} does not resolve`);
      return;
    }
    const req = optionsRequest({
      uri: formatUri(this.target.uri), to: this.target.uri, fromUser: this.deps.self, domain: this.deps.domain, tag: this.tag,
      callId: this.callId, cseq: ++this.cseq, via: newVia(dest.transport, local),
    });
    const sent = this.deps.now();
    // The previous probe is a whole period without an answer: down now, not after its transaction's 32 s.
    if (this.awaiting) this.set('down', 'no answer');
    this.awaiting = true;
    sendUacRequest(req, {
      transactions: this.deps.transactions,
      dest,
      onFinal: (res) => {
        if (this.stopped) return;
        this.awaiting = false;
        const contacts = getContacts(res);
        const node = Array.isArray(contacts) ? contacts[0]?.uri.user : undefined;
        if (node === this.deps.self) {
          // Two nodes with one name would each take the other's phones for its own.
          this.set('down', `peer is also named ${node}: every node needs its own --node-name`);
        } else if (res.status >= 200 && res.status < 300 && node !== undefined && node !== '') {
          this.status.rttMs = this.deps.now() - sent;
          if (this.status.node !== null && this.status.node !== node) this.deps.log.warn({ peer: this.status.uri, was: this.status.node, now: node }, 'peer node renamed');
          this.status.node = node;
          this.set('up', '');
        } else {
          this.set('down', res.status >= 200 && res.status < 300 ? 'answer names no node (not a Switchboard peer)' : `${res.status} ${res.reason}`);
        }
      },
      onFailure: (kind, _uac, err) => {
        if (this.stopped) return;
        this.awaiting = false;
        this.set('down', kind === 'timeout' ? 'no answer' : (err?.message ?? 'transport error'));
      },
    });
  }

  private set(state: PeerLinkState, reason: string): void {
    const s = this.status;
    if (s.state === state && s.reason === reason) return;
    if (s.state !== state) {
      const log = { peer: s.uri, node: s.node, reason: reason || undefined };
      if (state === 'up') this.deps.log.info(log, 'peer link up');
      else this.deps.log.warn(log, 'peer link down');
      s.since = this.deps.now();
    }
    s.state = state;
    s.reason = reason;
    this.deps.onState?.(s);
  }
}

/** The links to every configured peer node. */
export class PeerLinks {
  private readonly links: PeerLink[];

  constructor(private readonly deps: PeerLinksDeps) {
    this.links = [];
    for (const text of deps.peers) {
      const target = parsePeerUri(text);
      if (!target) continue;
      // A peer's requests are trusted by source address, which only a connection proves.
      if (target.transport === 'udp') deps.log.warn({ peer: text }, 'peer link over UDP: its source address can be spoofed; use transport=tls');
      this.links.push(new PeerLink(target, deps));
    }
  }

  get self(): string {
    return this.deps.self;
  }

  get size(): number {
    return this.links.length;
  }

  async start(): Promise<void> {
    await Promise.all(this.links.map((l) => l.start()));
  }

  stop(): void {
    for (const l of this.links) l.stop();
  }

  /**
   * The peer a request came from, by its source address and transport (and
   * over UDP its port, which peers send from): requests from a peer carry no
   * credentials, the node that sent them authenticated its caller.
   */
  fromSource(source: Endpoint): PeerLinkStatus | undefined {
    for (const l of this.links) {
      const t = l.target;
      if (t.transport !== source.transport || !l.addresses.includes(source.address)) continue;
      if (source.transport === 'udp' && source.port !== t.port) continue;
      return l.status;
    }
    return undefined;
  }

  /** Where requests for phones held by `node` go: its link, while up. */
  routeTo(node: string): Endpoint | undefined {
    for (const l of this.links) if (l.status.node === node && l.status.state === 'up') return l.dest;
    return undefined;
  }

  list(): PeerLinkStatus[] {
    return this.links.map((l) => ({ ...l.status }));
  }

  /** Our answer's Contact to a peer's OPTIONS: the user part names this node. */
  contactHeader(local: { transport: TransportName; address: string; port: number }): Header {
    const transport = local.transport === 'udp' ? '' : `;transport=${local.transport}`;
    return { name: 'contact', value: `<sip:${this.deps.self}@${bracketHost(local.address)}:${local.port}${transport}>` };
  }
}
