import { setImmediate as nextTurn } from 'node:timers/promises';
import type { ChangeWatcher, User, UserRepository } from '../../store/types.ts';
import type { Logger } from '../../lib/log.ts';
import { ha1 as digestHa1 } from '../../sip/digest.ts';
import type { DigestAlgorithm } from '../../sip/digest.ts';
import { decodeSummary, decodeUser, encodeUser } from './user-codec.ts';

/** Decoded users kept for the lookups that follow one another (a REGISTER asks for its user several times). */
const USER_CACHE_MAX = 1024;
/** Users whose HA1 values are kept; a HA1 is cheap to make again, a HA1 per user of a million is not cheap to hold. */
const HA1_CACHE_MAX = 4096;

/**
 * An extension or auth user as a map key: a plain decimal number below 2^30
 * (no leading zero) as that number, which V8 holds without a string object;
 * anything else as the string itself.
 */
type Key = string | number;

function keyOf(s: string): Key {
  const len = s.length;
  if (len === 0 || len > 9 || (len > 1 && s.charCodeAt(0) === 0x30)) return s;
  let n = 0;
  for (let i = 0; i < len; i++) {
    const d = s.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return s;
    n = n * 10 + d;
  }
  return n < 0x40000000 ? n : s;
}

/** Drops the oldest entry of a map used as a bounded cache once it holds max. */
function makeRoom<K, V>(m: Map<K, V>, max: number): void {
  if (m.size < max) return;
  const first = m.keys().next();
  if (!first.done) m.delete(first.value);
}

/** Users read per turn of the event loop when the directory is reloaded. */
const RELOAD_PAGE = 1000;

function indexInto(byExt: Map<Key, string>, byAuth: Map<Key, string>, u: User): void {
  const key = keyOf(u.extension);
  byExt.set(key, encodeUser(u));
  if (u.authUser !== u.extension) byAuth.set(keyOf(u.authUser), u.extension);
  else byAuth.delete(key);
}

/**
 * The users the SIP path looks up, held in memory and kept in step with the
 * store's change log, so a REGISTER never waits on the database and users
 * added by the CLI in another process show up within one poll interval.
 *
 * Each user is held as one short string record (user-codec.ts) and decoded
 * when looked up; the most recent decodings and HA1 values are cached, and
 * both caches drop a user whenever it changes.
 */
export class Directory {
  /** Extension -> record. */
  private byExt = new Map<Key, string>();
  /** Auth user -> extension, for the users whose auth user is not their extension. */
  private byAuth = new Map<Key, string>();
  private readonly decoded = new Map<Key, User>();
  /** Auth user -> (algorithm + realm -> HA1). */
  private readonly ha1Cache = new Map<string, Map<string, string>>();
  private watcher?: ChangeWatcher;

  /** Called after a user changed, with the user as it is now (undefined once removed). */
  onUserChanged?: (extension: string, user: User | undefined) => void;

  constructor(
    private readonly users: UserRepository,
    private readonly log: Logger,
  ) {}

  async start(pollIntervalMs = 500): Promise<void> {
    const seq = await this.users.eachUser((u) => this.index(u));
    this.watcher = this.users.watchChanges(
      async (changes, reset) => {
        if (reset) {
          await this.reload();
          return;
        }
        for (const c of changes) await this.refresh(c.extension);
      },
      { intervalMs: pollIntervalMs, afterSeq: seq },
    );
  }

  stop(): void {
    this.watcher?.stop();
    this.watcher = undefined;
  }

  /** Checks the store for changes now instead of waiting for the next poll. */
  async poll(): Promise<void> {
    await this.watcher?.poll();
  }

  get size(): number {
    return this.byExt.size;
  }

  byExtension(extension: string): User | undefined {
    const key = keyOf(extension);
    const cached = this.decoded.get(key);
    if (cached !== undefined) return cached;
    const record = this.byExt.get(key);
    if (record === undefined) return undefined;
    const user = decodeUser(extension, record);
    makeRoom(this.decoded, USER_CACHE_MAX);
    this.decoded.set(key, user);
    return user;
  }

  /** Every extension (the status list of all extensions); no user is decoded. */
  *extensions(): Generator<string> {
    for (const key of this.byExt.keys()) yield String(key);
  }

  /** An extension's display name and enabled flag without decoding (nor caching) its user; undefined for none. */
  summary(extension: string): { name: string; enabled: boolean } | undefined {
    const record = this.byExt.get(keyOf(extension));
    return record === undefined ? undefined : decodeSummary(record);
  }

  byAuthUser(authUser: string): User | undefined {
    const ext = this.byAuth.get(keyOf(authUser));
    const user = this.byExtension(ext ?? authUser);
    return user?.authUser === authUser ? user : undefined;
  }

  /** HA1 for digest verification; undefined for unknown or disabled users. */
  ha1(authUser: string, realm: string, algorithm: DigestAlgorithm): string | undefined {
    const user = this.byAuthUser(authUser);
    if (!user || !user.enabled) return undefined;
    let perUser = this.ha1Cache.get(authUser);
    if (!perUser) {
      perUser = new Map();
      makeRoom(this.ha1Cache, HA1_CACHE_MAX);
      this.ha1Cache.set(authUser, perUser);
    }
    const key = algorithm + realm;
    let h = perUser.get(key);
    if (h === undefined) {
      h = digestHa1(user.authUser, realm, user.password, algorithm);
      perUser.set(key, h);
    }
    return h;
  }

  /**
   * Reads every user again (the change log was trimmed past what we saw):
   * a page per turn of the event loop into new maps, swapped in at the end,
   * so SIP is answered from the old ones meanwhile instead of waiting seconds
   * for 450,000 users. A user changed during the reload is changed again by
   * the change log entries that follow (the watcher waits for us).
   */
  private async reload(): Promise<void> {
    const byExt = new Map<Key, string>();
    const byAuth = new Map<Key, string>();
    for (let after = 0; ;) {
      const page = await this.users.afterId(after, RELOAD_PAGE);
      for (const u of page) indexInto(byExt, byAuth, u);
      if (page.length < RELOAD_PAGE) break;
      after = page[page.length - 1]!.id;
      await nextTurn();
    }
    this.byExt = byExt;
    this.byAuth = byAuth;
    this.decoded.clear();
    this.ha1Cache.clear();
    this.log.info({ users: this.byExt.size }, 'directory reloaded');
  }

  private async refresh(extension: string): Promise<void> {
    const old = this.byExtension(extension);
    if (old) this.unindex(old);
    const current = await this.users.getByExtension(extension);
    // index() overwrites any stale holder of the same auth user: the store keeps auth users unique.
    if (current) this.index(current);
    this.onUserChanged?.(extension, current);
  }

  private index(u: User): void {
    const key = keyOf(u.extension);
    indexInto(this.byExt, this.byAuth, u);
    this.decoded.delete(key);
    this.ha1Cache.delete(u.authUser);
  }

  private unindex(u: User): void {
    const key = keyOf(u.extension);
    this.byExt.delete(key);
    this.decoded.delete(key);
    this.ha1Cache.delete(u.authUser);
    const auth = keyOf(u.authUser);
    if (this.byAuth.get(auth) === u.extension) this.byAuth.delete(auth);
  }
}
