import type { ChangeWatcher, User, UserRepository } from '../../store/types.ts';
import type { Logger } from '../../lib/log.ts';
import { ha1 as digestHa1 } from '../../sip/digest.ts';
import type { DigestAlgorithm } from '../../sip/digest.ts';

/**
 * The users the SIP path looks up, held in memory and kept in step with the
 * store's change log, so a REGISTER never waits on the database and users
 * added by the CLI in another process show up within one poll interval.
 * HA1 values are cached per user, realm and algorithm and dropped whenever
 * the user changes.
 */
export class Directory {
  private readonly byExt = new Map<string, User>();
  private readonly byAuth = new Map<string, User>();
  /** Keyed by the user object itself: a changed user is a new object, so its old HA1s simply become garbage. */
  private ha1Cache = new WeakMap<User, Map<string, string>>();
  private watcher?: ChangeWatcher;

  /** Called after a user changed, with the user as it is now (undefined once removed). */
  onUserChanged?: (extension: string, user: User | undefined) => void;

  constructor(
    private readonly users: UserRepository,
    private readonly log: Logger,
  ) {}

  async start(pollIntervalMs = 500): Promise<void> {
    const { users, seq } = await this.users.snapshot();
    for (const u of users) this.index(u);
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
    return this.byExt.get(extension);
  }

  byAuthUser(authUser: string): User | undefined {
    return this.byAuth.get(authUser);
  }

  /** HA1 for digest verification; undefined for unknown or disabled users. */
  ha1(authUser: string, realm: string, algorithm: DigestAlgorithm): string | undefined {
    const user = this.byAuth.get(authUser);
    if (!user || !user.enabled) return undefined;
    let perUser = this.ha1Cache.get(user);
    if (!perUser) {
      perUser = new Map();
      this.ha1Cache.set(user, perUser);
    }
    const key = algorithm + realm;
    let h = perUser.get(key);
    if (h === undefined) {
      h = digestHa1(user.authUser, realm, user.password, algorithm);
      perUser.set(key, h);
    }
    return h;
  }

  private async reload(): Promise<void> {
    this.byExt.clear();
    this.byAuth.clear();
    this.ha1Cache = new WeakMap();
    for (const u of (await this.users.snapshot()).users) this.index(u);
    this.log.info({ users: this.byExt.size }, 'directory reloaded');
  }

  private async refresh(extension: string): Promise<void> {
    const old = this.byExt.get(extension);
    if (old) this.unindex(old);
    const current = await this.users.getByExtension(extension);
    // index() overwrites any stale holder of the same auth user: the store keeps auth users unique.
    if (current) this.index(current);
    this.onUserChanged?.(extension, current);
  }

  private index(u: User): void {
    this.byExt.set(u.extension, u);
    this.byAuth.set(u.authUser, u);
  }

  private unindex(u: User): void {
    if (this.byExt.get(u.extension) === u) this.byExt.delete(u.extension);
    if (this.byAuth.get(u.authUser) === u) this.byAuth.delete(u.authUser);
  }
}
