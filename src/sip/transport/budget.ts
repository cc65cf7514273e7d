// The connections TCP and TLS may hold together, and who makes room when
// they are all taken. A slot is held from TCP accept (or connect) to close,
// TLS handshakes included, so the budget counts file descriptors, not
// finished connections. When it is full, a new connection takes the slot of
// the least trusted one held, in this order: a connection that never sent a
// complete message (oldest first), then one that sent messages but whose
// flow never carried an authenticated request (oldest first); our own
// outbound connections rank with the latter: a peer can make us open one (a
// response to its Via), so they must not pile up beyond eviction, and one
// evicted is opened again when next needed. Connections marked trusted (a
// successful REGISTER, a trunk or node known by address) are never evicted.

export interface BudgetLimits {
  /** Connections held in all, inbound and outbound, over TCP and TLS together. */
  maxConnections: number;
  /** Inbound connections from one IP address at once. */
  maxConnectionsPerSource: number;
}

/** Why a connection was refused or closed; each is counted and reported. */
export type LimitKind = 'per-source' | 'budget-full' | 'evicted' | 'incomplete-message' | 'keepalive-flood';

/** Something holding a slot: a connection, or a TLS handshake in progress. */
export interface Slot {
  readonly remoteAddress: string;
  /** Accepted from a peer, not opened by us. */
  readonly inbound: boolean;
  /** Closes it to make room (the slot is given back through release()). */
  evict(): void;
}

type Standing = 'silent' | 'speaking' | 'trusted';

export class ConnectionBudget {
  /** Every limit hit so far, by kind. */
  readonly hits: Record<LimitKind, number> = { 'per-source': 0, 'budget-full': 0, evicted: 0, 'incomplete-message': 0, 'keepalive-flood': 0 };
  private held = 0;
  private readonly perSource = new Map<string, number>();
  /** Eviction candidates in order of arrival (a Set iterates in insertion order). */
  private readonly silent = new Set<Slot>();
  private readonly speaking = new Set<Slot>();
  private readonly standing = new Map<Slot, Standing>();

  constructor(
    readonly limits: BudgetLimits,
    /** Every limit hit, as it happens (the transport counts, logs once per interval and raises the alarm). */
    private readonly onLimit: (kind: LimitKind, detail: string, source: string) => void = () => {},
  ) {}

  get count(): number {
    return this.held;
  }

  /**
   * Takes a slot for a new connection; false when it is refused. Inbound ones
   * are held to the per-source limit and start silent; outbound ones (ours) start speaking.
   */
  admit(slot: Slot): boolean {
    const { remoteAddress: source, inbound } = slot;
    if (inbound) {
      const n = this.perSource.get(source) ?? 0;
      if (n >= this.limits.maxConnectionsPerSource) {
        this.hit('per-source', `refused: ${n} connections from this address`, source);
        return false;
      }
    }
    if (this.held >= this.limits.maxConnections && !this.makeRoom(source)) {
      this.hit('budget-full', `refused: all ${this.limits.maxConnections} connections held by trusted peers`, source);
      return false;
    }
    this.held++;
    if (inbound) this.perSource.set(source, (this.perSource.get(source) ?? 0) + 1);
    this.standing.set(slot, inbound ? 'silent' : 'speaking');
    (inbound ? this.silent : this.speaking).add(slot);
    return true;
  }

  /** A TLS handshake that finished hands its slot to the connection (keeping its standing). */
  replace(from: Slot, to: Slot): void {
    const standing = this.standing.get(from);
    if (standing === undefined) return;
    this.standing.delete(from);
    this.standing.set(to, standing);
    if (this.silent.delete(from)) this.silent.add(to);
  }

  /** The connection sent its first complete message. */
  spoke(slot: Slot): void {
    if (this.standing.get(slot) !== 'silent') return;
    this.standing.set(slot, 'speaking');
    this.silent.delete(slot);
    this.speaking.add(slot);
  }

  /** Its flow carried an authenticated request: it is never evicted. */
  trust(slot: Slot): void {
    if (!this.standing.has(slot)) return;
    this.standing.set(slot, 'trusted');
    this.silent.delete(slot);
    this.speaking.delete(slot);
  }

  isTrusted(slot: Slot): boolean {
    return this.standing.get(slot) === 'trusted';
  }

  /** Gives the slot back (idempotent). */
  release(slot: Slot): void {
    if (!this.standing.delete(slot)) return;
    this.held--;
    this.silent.delete(slot);
    this.speaking.delete(slot);
    if (!slot.inbound) return;
    const n = (this.perSource.get(slot.remoteAddress) ?? 1) - 1;
    if (n <= 0) this.perSource.delete(slot.remoteAddress);
    else this.perSource.set(slot.remoteAddress, n);
  }

  /** Counts and reports a limit hit found elsewhere (deadlines, keep-alive floods). */
  hit(kind: LimitKind, detail: string, source: string): void {
    this.hits[kind]++;
    this.onLimit(kind, detail, source);
  }

  private makeRoom(newcomer: string): boolean {
    const victim = first(this.silent) ?? first(this.speaking);
    if (victim === undefined) return false;
    this.hit('evicted', `closed a ${this.standing.get(victim)} connection from ${victim.remoteAddress} to admit one from ${newcomer}`, victim.remoteAddress);
    victim.evict();
    // evict() normally releases at once; make sure the slot is free even if it did not.
    this.release(victim);
    return true;
  }
}

function first<T>(set: Set<T>): T | undefined {
  for (const v of set) return v;
  return undefined;
}
