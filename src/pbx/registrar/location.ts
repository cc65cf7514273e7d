import type { Binding, RegistrationRepository } from '../../store/types.ts';

/**
 * A binding as the store keeps it, plus the stream connection it arrived on
 * (connection ids do not survive a restart, so they are never persisted),
 * and whether another node registered it (mirrored from the store).
 */
export type LiveBinding = Binding & { connectionId?: number; remote?: boolean };

/** The part of the registration repository the location service writes behind to. */
export type BindingPersistence = Pick<RegistrationRepository, 'loadAll' | 'enqueueUpsert' | 'enqueueDelete'>;

/**
 * One contact's change made by one worker of a cluster: the binding as it now
 * is, or its removal at a time. Per contact, not the AOR's whole list: two
 * workers changing one AOR at once (a phone unregistering on one while
 * another registers on the other) must not undo each other.
 */
export type LocationChange =
  | { aor: string; put: LiveBinding }
  | { aor: string; remove: string; at: number };

export interface LocationEvents {
  onChange?(aor: string, bindings: readonly LiveBinding[]): void;
  /**
   * A change made here (a REGISTER, a removal), for the other workers of a
   * cluster: not the expiry sweep, which every worker runs on its own copy,
   * nor changes they sent us (applyRemote).
   */
  onPublish?(change: LocationChange): void;
}

/**
 * The location index: AOR -> bindings, in memory, with every change queued to
 * the persistence layer. Expired bindings are invisible at once and removed by
 * sweep().
 */
export class LocationService {
  private readonly byAor = new Map<string, LiveBinding[]>();
  private total = 0;

  constructor(
    private readonly persistence: BindingPersistence | undefined,
    private readonly now: () => number,
    private readonly events: LocationEvents = {},
  ) {}

  /** Loads what was registered before a restart, dropping what expired meanwhile. */
  async load(): Promise<number> {
    if (!this.persistence) return 0;
    const t = this.now();
    for (const b of await this.persistence.loadAll()) {
      if (b.expiresAt <= t) {
        this.persistence.enqueueDelete(b.aor, b.contactUri);
        continue;
      }
      this.insert(b);
    }
    return this.total;
  }

  /** Live bindings of an AOR, best q first (RFC 3261 §16.6 ordering for forking). */
  lookup(aor: string): LiveBinding[] {
    const list = this.byAor.get(aor);
    if (!list) return [];
    const t = this.now();
    const live = list.filter((b) => b.expiresAt > t);
    return live.sort((a, b) => (b.q ?? 1) - (a.q ?? 1));
  }

  /** All bindings including not-yet-swept expired ones (for the registrar's own bookkeeping). */
  raw(aor: string): readonly LiveBinding[] {
    return this.byAor.get(aor) ?? [];
  }

  get count(): number {
    return this.total;
  }

  get aorCount(): number {
    return this.byAor.size;
  }

  *all(): IterableIterator<LiveBinding> {
    for (const list of this.byAor.values()) yield* list;
  }

  put(b: LiveBinding): void {
    const list = this.byAor.get(b.aor);
    const i = list ? list.findIndex((x) => x.contactUri === b.contactUri) : -1;
    if (list && i >= 0) list[i] = b;
    else this.insert(b);
    this.persistence?.enqueueUpsert(b);
    this.events.onChange?.(b.aor, this.byAor.get(b.aor)!);
    this.events.onPublish?.({ aor: b.aor, put: b });
  }

  remove(aor: string, contactUri: string, publish = true): void {
    const list = this.byAor.get(aor);
    if (!list) return;
    const i = list.findIndex((x) => x.contactUri === contactUri);
    if (i < 0) return;
    list.splice(i, 1);
    this.total--;
    if (list.length === 0) this.byAor.delete(aor);
    this.persistence?.enqueueDelete(aor, contactUri);
    this.events.onChange?.(aor, list);
    if (publish) this.events.onPublish?.({ aor, remove: contactUri, at: this.now() });
  }

  /**
   * A contact as another worker of the cluster changed it (that worker wrote
   * it to the store already). The newer write of a contact wins: news that
   * arrives late neither brings back a contact removed here since nor drops
   * one registered here since.
   */
  applyRemote(change: LocationChange): void {
    const aor = change.aor;
    const list = this.byAor.get(aor);
    const uri = 'put' in change ? change.put.contactUri : change.remove;
    const i = list ? list.findIndex((x) => x.contactUri === uri) : -1;
    const mine = i >= 0 ? list![i]! : undefined;
    if ('put' in change) {
      if (mine && mine.updatedAt > change.put.updatedAt) return;
      if (mine) list![i] = change.put;
      else this.insert(change.put);
    } else {
      if (!mine || mine.updatedAt > change.at) return;
      list!.splice(i, 1);
      this.total--;
      if (list!.length === 0) this.byAor.delete(aor);
    }
    this.events.onChange?.(aor, this.byAor.get(aor) ?? []);
  }

  removeAll(aor: string): void {
    for (const b of [...this.raw(aor)]) this.remove(aor, b.contactUri);
  }

  /**
   * Takes in what the store holds for aor after another node (sharing the
   * database) wrote it: contacts new to us or newer there are adopted as
   * remote; remote ones gone from the store go here too. Contacts registered
   * here stay unless the store has a newer write of them (the phone moved).
   * Nothing is written back: the other node already did.
   */
  mirror(aor: string, stored: readonly Binding[]): void {
    const list = this.byAor.get(aor) ?? [];
    const fromStore = new Map(stored.map((b) => [b.contactUri, b]));
    const next: LiveBinding[] = [];
    let changed = false;
    for (const b of list) {
      const s = fromStore.get(b.contactUri);
      fromStore.delete(b.contactUri);
      if (s && s.updatedAt > b.updatedAt) {
        next.push({ ...s, remote: true });
        changed = true;
      } else if (s || !b.remote) {
        next.push(b);
      } else {
        changed = true; // the other node removed it
      }
    }
    for (const s of fromStore.values()) {
      next.push({ ...s, remote: true });
      changed = true;
    }
    if (!changed) return;
    this.total += next.length - list.length;
    if (next.length > 0) this.byAor.set(aor, next);
    else this.byAor.delete(aor);
    this.events.onChange?.(aor, next);
  }

  /** Drops expired bindings; returns how many. */
  sweep(): number {
    const t = this.now();
    let n = 0;
    for (const [aor, list] of this.byAor) {
      for (const b of [...list]) {
        if (b.expiresAt <= t) {
          this.remove(aor, b.contactUri, false);
          n++;
        }
      }
    }
    return n;
  }

  private insert(b: LiveBinding): void {
    const list = this.byAor.get(b.aor);
    if (list) list.push(b);
    else this.byAor.set(b.aor, [b]);
    this.total++;
  }
}
