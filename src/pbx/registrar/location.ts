import type { Binding, RegistrationRepository } from '../../store/types.ts';
import { InternTable, decodeBinding, encodeBinding, recordExpiresAt, recordHasContact } from './binding-codec.ts';

/**
 * A binding as the store keeps it, plus the stream connection it arrived on
 * (connection ids do not survive a restart, so they are never persisted),
 * and whether another node registered it (mirrored from the store).
 */
export type LiveBinding = Binding & { connectionId?: number; remote?: boolean };

/** The part of the registration repository the location service writes behind to. */
export type BindingPersistence = Pick<RegistrationRepository, 'loadAll' | 'enqueueUpsert' | 'enqueueDelete' | 'whenDurable'>;

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

/** An AOR's bindings as held: one record (the usual case, no array) or several. */
type Records = string | string[];

function asList(r: Records | undefined): readonly string[] {
  return r === undefined ? [] : typeof r === 'string' ? [r] : r;
}

/** Largest number held as a key: V8's small integers need no object of their own. */
const SMALL_MAX = 0x3fffffff;

/**
 * AOR -> records. An AOR `sip:<n>@<domain>` (a numbered extension, in the
 * domain of the first such AOR seen) is held under the number n, which V8
 * keeps in the map's slot itself; any other AOR under its string. A million
 * AOR strings would cost ~40 MB in every worker.
 */
class AorMap<V> {
  private readonly map = new Map<string | number, V>();
  private domain: string | undefined;

  get size(): number {
    return this.map.size;
  }

  get(aor: string): V | undefined {
    return this.map.get(this.key(aor));
  }

  set(aor: string, v: V): void {
    this.map.set(this.key(aor), v);
  }

  delete(aor: string): void {
    this.map.delete(this.key(aor));
  }

  *entries(): IterableIterator<[string, V]> {
    for (const [k, v] of this.map) yield [typeof k === 'number' ? `sip:${k}@${this.domain!}` : k, v];
  }

  private key(aor: string): string | number {
    if (!aor.startsWith('sip:')) return aor;
    let n = 0;
    let i = 4;
    for (; i < aor.length; i++) {
      const d = aor.charCodeAt(i) - 0x30;
      if (d < 0 || d > 9) break;
      n = n * 10 + d;
    }
    const digits = i - 4;
    // Only the one spelling of n: no leading zero, no empty user part, nothing past SMALL_MAX.
    if (digits === 0 || digits > 10 || (digits > 1 && aor.charCodeAt(4) === 0x30) || n > SMALL_MAX || aor.charCodeAt(i) !== 0x40 /* @ */) return aor;
    if (this.domain === undefined) this.domain = aor.slice(i + 1);
    const domain = this.domain;
    return aor.length === i + 1 + domain.length && aor.endsWith(domain) ? n : aor;
  }
}

/**
 * The location index: AOR -> bindings, in memory, with every change queued to
 * the persistence layer. Expired bindings are invisible at once and removed by
 * sweep().
 *
 * Each binding is held as one string record (binding-codec.ts) and decoded
 * when asked for: a million contacts cost a million strings, not a million
 * objects. The AOR last decoded is remembered, as a REGISTER reads its AOR
 * several times.
 */
export class LocationService {
  private readonly byAor = new AorMap<Records>();
  private readonly table = new InternTable();
  private total = 0;
  /** No binding expires before this, so sweep() need not look before then. */
  private earliestExpiry = Infinity;
  private memoAor: string | undefined;
  private memo: readonly LiveBinding[] = [];

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

  /**
   * Calls back once the changes made so far are on disk (at once without
   * persistence), or with the error that kept them off it: a registrar
   * acknowledges a REGISTER only then (issue 11 item 3).
   */
  whenDurable(done: (err?: Error) => void): void {
    if (this.persistence) this.persistence.whenDurable(done);
    else done();
  }

  /** Live bindings of an AOR, best q first (RFC 3261 §16.6 ordering for forking). */
  lookup(aor: string): LiveBinding[] {
    const list = this.raw(aor);
    if (list.length === 0) return [];
    const t = this.now();
    const live = list.filter((b) => b.expiresAt > t);
    return live.sort((a, b) => (b.q ?? 1) - (a.q ?? 1));
  }

  /** Whether the AOR has a binding that has not expired, decoding none (the status list of every extension). */
  isRegistered(aor: string): boolean {
    const t = this.now();
    for (const r of asList(this.byAor.get(aor))) if (recordExpiresAt(r) > t) return true;
    return false;
  }

  /** All bindings including not-yet-swept expired ones (for the registrar's own bookkeeping). */
  raw(aor: string): readonly LiveBinding[] {
    if (this.memoAor === aor) return this.memo;
    const records = this.byAor.get(aor);
    if (records === undefined) return [];
    const list = typeof records === 'string' ? [this.decode(aor, records)] : records.map((r) => this.decode(aor, r));
    this.memoAor = aor;
    this.memo = list;
    return list;
  }

  get count(): number {
    return this.total;
  }

  get aorCount(): number {
    return this.byAor.size;
  }

  *all(): IterableIterator<LiveBinding> {
    for (const [aor, records] of this.byAor.entries()) {
      for (const r of asList(records)) yield this.decode(aor, r);
    }
  }

  put(b: LiveBinding): void {
    this.store(b);
    this.persistence?.enqueueUpsert(b);
    this.events.onChange?.(b.aor, this.raw(b.aor));
    this.events.onPublish?.({ aor: b.aor, put: b });
  }

  remove(aor: string, contactUri: string, publish = true): void {
    if (!this.drop(aor, contactUri)) return;
    this.persistence?.enqueueDelete(aor, contactUri);
    this.events.onChange?.(aor, this.raw(aor));
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
    const uri = 'put' in change ? change.put.contactUri : change.remove;
    const mine = this.raw(aor).find((x) => x.contactUri === uri);
    if ('put' in change) {
      if (mine && mine.updatedAt > change.put.updatedAt) return;
      this.store(change.put);
    } else {
      if (!mine || mine.updatedAt > change.at) return;
      this.drop(aor, uri);
    }
    this.events.onChange?.(aor, this.raw(aor));
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
    const list = this.raw(aor);
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
    this.total -= list.length;
    this.set(aor, next);
    this.events.onChange?.(aor, this.raw(aor));
  }

  /** Drops expired bindings; returns how many. */
  sweep(): number {
    const t = this.now();
    if (t < this.earliestExpiry) return 0;
    let n = 0;
    let earliest = Infinity;
    const expired: string[] = [];
    for (const [aor, records] of this.byAor.entries()) {
      for (const r of asList(records)) {
        const at = recordExpiresAt(r);
        if (at <= t) expired.push(aor, r);
        else if (at < earliest) earliest = at;
      }
    }
    for (let i = 0; i < expired.length; i += 2) {
      const aor = expired[i]!;
      this.remove(aor, this.decode(aor, expired[i + 1]!).contactUri, false);
      n++;
    }
    this.earliestExpiry = earliest;
    return n;
  }

  private decode(aor: string, record: string): LiveBinding {
    return decodeBinding(aor, record, this.table);
  }

  private encode(b: LiveBinding): string {
    if (b.expiresAt < this.earliestExpiry) this.earliestExpiry = b.expiresAt;
    return encodeBinding(b, this.table);
  }

  /** Holds b in place of the AOR's record of the same contact, or beside the others. */
  private store(b: LiveBinding): void {
    const records = this.byAor.get(b.aor);
    const i = this.find(records, b.contactUri);
    const record = this.encode(b);
    if (i < 0) this.insert(b, record);
    else if (typeof records === 'string') this.byAor.set(b.aor, record);
    else records![i] = record;
    this.changed(b.aor);
  }

  /** Forgets one contact of an AOR; false when it was not held. */
  private drop(aor: string, contactUri: string): boolean {
    const records = this.byAor.get(aor);
    const i = this.find(records, contactUri);
    if (i < 0) return false;
    if (typeof records === 'string') this.byAor.delete(aor);
    else {
      records!.splice(i, 1);
      if (records!.length === 1) this.byAor.set(aor, records![0]!);
    }
    this.total--;
    this.changed(aor);
    return true;
  }

  /** Index of contactUri's record among an AOR's, or -1. */
  private find(records: Records | undefined, contactUri: string): number {
    if (records === undefined) return -1;
    if (typeof records === 'string') return recordHasContact(records, contactUri) ? 0 : -1;
    for (let i = 0; i < records.length; i++) if (recordHasContact(records[i]!, contactUri)) return i;
    return -1;
  }

  /** An AOR's bindings replaced by these (total already reduced by the old ones). */
  private set(aor: string, bindings: readonly LiveBinding[]): void {
    if (bindings.length === 0) this.byAor.delete(aor);
    else if (bindings.length === 1) this.byAor.set(aor, this.encode(bindings[0]!));
    else this.byAor.set(aor, bindings.map((b) => this.encode(b)));
    this.total += bindings.length;
    this.changed(aor);
  }

  private insert(b: LiveBinding, record = this.encode(b)): void {
    const records = this.byAor.get(b.aor);
    if (records === undefined) this.byAor.set(b.aor, record);
    else if (typeof records === 'string') this.byAor.set(b.aor, [records, record]);
    else records.push(record);
    this.total++;
    this.changed(b.aor);
  }

  /** The remembered decoding of aor is stale. */
  private changed(aor: string): void {
    if (this.memoAor === aor) {
      this.memoAor = undefined;
      this.memo = [];
    }
  }
}
