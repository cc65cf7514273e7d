// Trusted servers (SPEC D-06, B-19): peers whose verified TLS client
// certificate names one of these FQDNs are authenticated by the transport,
// with no digest, for the users of our directory. Kept as the `sip.trustedPeers`
// config list plus the list the CLI and API store in the settings table,
// which a running server polls (so a change applies to new requests without a restart).
import type { Logger } from '../lib/log.ts';
import type { SettingsRepository } from '../store/admin-types.ts';
import type { TlsPeer } from '../sip/transport/tls-peer.ts';

/** The settings key of the list the CLI and API manage. */
export const TRUSTED_PEERS_SETTING = 'sip.trustedPeers';
/** Server-to-server links are few; a longer list is a mistake. */
export const MAX_TRUSTED_PEERS = 64;

const FQDN = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/;

/**
 * The canonical form of a trusted-peer name (lower case, no trailing dot),
 * or undefined when it is no fully qualified DNS name. Wildcards are
 * refused: D-06 trusts a peer whose identity EQUALS a configured FQDN, and a
 * wildcard would let every host under a domain act for all our users.
 */
export function trustedPeerName(input: string): string | undefined {
  let n = input.trim().toLowerCase();
  if (n.endsWith('.')) n = n.slice(0, -1);
  // An all-digit last label is an IP address, not a name (RFC 3696 §2).
  return FQDN.test(n) && !/\.[0-9]+$/.test(n) ? n : undefined;
}

export const TRUSTED_PEER_NAME_HINT = 'expected a fully qualified DNS name such as gw.example.com (no wildcard, no IP address)';

/**
 * The trusted name a verified peer proves, or undefined. A certificate
 * name "*.example.com" does not match "gw.example.com": names are compared
 * exactly (case was folded when both were read).
 */
export function matchTrustedPeer(peer: TlsPeer | undefined, trusted: ReadonlySet<string>): string | undefined {
  if (peer === undefined || trusted.size === 0) return undefined;
  for (const n of peer.names) if (trusted.has(n)) return n;
  return undefined;
}

/** The stored list, cleaned: invalid entries (hand-edited, older versions) are dropped. */
export function parseStoredPeers(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  const out: string[] = [];
  for (const v of value) {
    const n = typeof v === 'string' ? trustedPeerName(v) : undefined;
    if (n !== undefined && !out.includes(n)) out.push(n);
  }
  return out.slice(0, MAX_TRUSTED_PEERS);
}

export interface TrustedPeerEntry {
  name: string;
  /** "config": in the config file (change it there); "store": added by the CLI or API. */
  source: 'config' | 'store';
}

/** The effective list: the config file's, then the stored ones not already in it. */
export function mergePeers(fromConfig: readonly string[], stored: readonly string[]): TrustedPeerEntry[] {
  const out: TrustedPeerEntry[] = fromConfig.map((name) => ({ name, source: 'config' }));
  for (const name of stored) if (!fromConfig.includes(name)) out.push({ name, source: 'store' });
  return out;
}

/** Adds one name to the stored list; returns the new list. Throws on a bad name or a full list. */
export async function addTrustedPeer(repo: SettingsRepository, input: string): Promise<string[]> {
  const name = trustedPeerName(input);
  if (name === undefined) throw new TrustedPeerError(`${JSON.stringify(input)}: ${TRUSTED_PEER_NAME_HINT}`);
  const list = parseStoredPeers(await repo.get(TRUSTED_PEERS_SETTING));
  if (list.includes(name)) return list;
  if (list.length >= MAX_TRUSTED_PEERS) throw new TrustedPeerError(`at most ${MAX_TRUSTED_PEERS} trusted peers`);
  list.push(name);
  await repo.set({ [TRUSTED_PEERS_SETTING]: list });
  return list;
}

/** Removes one name from the stored list; false when it was not there. */
export async function removeTrustedPeer(repo: SettingsRepository, input: string): Promise<boolean> {
  const name = trustedPeerName(input) ?? input.trim().toLowerCase();
  const list = parseStoredPeers(await repo.get(TRUSTED_PEERS_SETTING));
  const i = list.indexOf(name);
  if (i < 0) return false;
  list.splice(i, 1);
  await repo.set({ [TRUSTED_PEERS_SETTING]: list.length > 0 ? list : null });
  return true;
}

export class TrustedPeerError extends Error {
  override name = 'TrustedPeerError';
}

/**
 * The running server's list: the config's and the stored ones, re-read every
 * pollMs. Once started, `onChange` runs when the list goes from empty to not empty or back
 * (the TLS listener then starts or stops asking for client certificates).
 */
export class TrustedPeers {
  current: ReadonlySet<string>;
  private timer: NodeJS.Timeout | undefined;
  private lastKey: string;
  /** Before start() the listener is not built yet: it reads `active` itself. */
  private started = false;

  constructor(
    private readonly fromConfig: readonly string[],
    private readonly repo: SettingsRepository | undefined,
    private readonly log: Logger,
    private readonly onChange: (active: boolean) => void = () => {},
  ) {
    this.current = new Set(fromConfig);
    this.lastKey = [...this.current].join(' ');
  }

  get active(): boolean {
    return this.current.size > 0;
  }

  /** The trusted name a request's verified TLS peer proves, or undefined. Cheap: a set lookup per certificate name. */
  match(peer: TlsPeer | undefined): string | undefined {
    return matchTrustedPeer(peer, this.current);
  }

  async start(pollMs = 1000): Promise<void> {
    await this.poll();
    this.started = true;
    this.timer = setInterval(() => void this.poll(), pollMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  async poll(): Promise<void> {
    if (!this.repo) return;
    let stored: unknown;
    try {
      stored = await this.repo.get(TRUSTED_PEERS_SETTING);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'trusted peers: cannot read the store');
      return;
    }
    const names = mergePeers(this.fromConfig, parseStoredPeers(stored)).map((e) => e.name);
    const key = names.join(' ');
    if (key === this.lastKey) return;
    const wasActive = this.active;
    this.lastKey = key;
    this.current = new Set(names);
    this.log.info({ trustedPeers: names }, 'trusted peers changed');
    if (this.started && wasActive !== this.active) this.onChange(this.active);
  }
}
