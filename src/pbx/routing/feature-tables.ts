// The hunt groups, the short-code table, IVR menus, conference rooms and the
// music-on-hold choice as routing and the media apps read them: in memory,
// so routing a call costs no database query. They are reloaded when the
// store's change feed says they moved (the CLI, the API, another process or
// node changed them); changes this process makes go to the store first and
// into memory at once.
import type { ChangeWatcher, HuntGroup, HuntGroupRepository, ShortCode, ShortCodeRepository } from '../../store/types.ts';
import type { ShortCodeMatch } from '../../model/short-code.ts';
import type { AppStore, ConferenceRoom, IvrMenu } from '../../store/app-types.ts';
import { matchShortCode } from '../../model/short-code.ts';
import type { Logger } from '../../lib/log.ts';

/** Hunt groups as the call path reads them: synchronously, from memory. */
export interface HuntGroupTable {
  get(number: string): HuntGroup | undefined;
  /** Rotary: remembers the member rung last (persisted in the background). */
  setLastMember(number: string, extension: string | null): void;
  /** *45*G# / *46*G#. @throws StoreError as the repository does. */
  setMemberLoggedIn(number: string, extension: string, loggedIn: boolean): Promise<HuntGroup>;
}

/** The short-code table as the call path reads it. */
export interface ShortCodeTable {
  match(dialled: string): ShortCodeMatch | undefined;
}

/** IVR menus, rooms and the MoH choice as the call path reads them. */
export interface AppTable {
  ivrByNumber(number: string): IvrMenu | undefined;
  roomByNumber(number: string): ConferenceRoom | undefined;
  /** The audio file held parties hear (its bytes: store.audioFiles.read); null: the default that ships. */
  mohFile(): string | null;
}

export class FeatureTables implements HuntGroupTable, ShortCodeTable, AppTable {
  private groups = new Map<string, HuntGroup>();
  private codes: readonly ShortCode[] = [];
  private menus = new Map<string, IvrMenu>();
  private rooms = new Map<string, ConferenceRoom>();
  private moh: string | null = null;
  private watchers: ChangeWatcher[] = [];

  constructor(
    private readonly store: { huntGroups: HuntGroupRepository; shortCodes: ShortCodeRepository } & AppStore,
    private readonly log: Logger,
  ) {}

  /** Loads the tables and follows the store's change feeds (`pollMs`: SQLite's poll period). */
  async start(pollMs = 500): Promise<void> {
    this.watchers = [
      this.store.huntGroups.watch(async () => {
        this.groups = new Map((await this.store.huntGroups.list()).map((x) => [x.number, x]));
      }, { intervalMs: pollMs }),
      this.store.shortCodes.watch(async () => {
        this.codes = await this.store.shortCodes.list();
      }, { intervalMs: pollMs }),
      this.store.ivrMenus.watch(async () => {
        this.menus = new Map((await this.store.ivrMenus.list()).map((x) => [x.number, x]));
      }, { intervalMs: pollMs }),
      this.store.conferenceRooms.watch(async () => {
        this.rooms = new Map((await this.store.conferenceRooms.list()).map((x) => [x.number, x]));
      }, { intervalMs: pollMs }),
      this.store.audioFiles.watch(async () => {
        this.moh = await this.store.audioFiles.moh();
      }, { intervalMs: pollMs }),
    ];
    // The first look always loads (watchRevision); a failed one is reported
    // through the store's onError and retried on the next tick or notification.
    const loaded = await Promise.all(this.watchers.map((w) => w.poll()));
    if (loaded.includes(false)) this.log.error({}, 'hunt groups / short codes / IVR menus / rooms not loaded yet; retrying');
  }

  stop(): void {
    for (const w of this.watchers) w.stop();
    this.watchers = [];
  }

  /** Reloads what changed in the store since the last look. */
  async poll(): Promise<void> {
    await Promise.all(this.watchers.map((w) => w.poll()));
  }

  get(number: string): HuntGroup | undefined {
    return this.groups.get(number);
  }

  match(dialled: string): ShortCodeMatch | undefined {
    return matchShortCode(this.codes, dialled);
  }

  ivrByNumber(number: string): IvrMenu | undefined {
    return this.menus.get(number);
  }

  roomByNumber(number: string): ConferenceRoom | undefined {
    return this.rooms.get(number);
  }

  mohFile(): string | null {
    return this.moh;
  }

  /** Another worker of the cluster rang a rotary group: where it left off (that worker saved it). */
  onLastMember: ((number: string, extension: string | null) => void) | undefined;

  /** Rotary: the member rung last (persisted for restarts; it does not move the store's revision). */
  setLastMember(number: string, extension: string | null): void {
    this.applyLastMember(number, extension);
    this.onLastMember?.(number, extension);
    this.store.huntGroups.setLastMember(number, extension).catch((err: unknown) => {
      this.log.warn({ err: (err as Error).message, group: number }, 'hunt group: last member not saved');
    });
  }

  /** Where a rotary group left off, as another worker rang it: memory only. */
  applyLastMember(number: string, extension: string | null): void {
    const g = this.groups.get(number);
    if (g) this.groups.set(number, { ...g, lastMember: extension });
  }

  async setMemberLoggedIn(number: string, extension: string, loggedIn: boolean): Promise<HuntGroup> {
    const g = await this.store.huntGroups.setMemberLoggedIn(number, extension, loggedIn);
    this.groups.set(g.number, g);
    return g;
  }
}
