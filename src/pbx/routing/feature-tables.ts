// The hunt groups and the short-code table as routing reads them: in memory,
// so routing a call costs no database query. They are reloaded when the
// store's revision moves (the CLI, the API or another process changed them),
// checked on the same poll as the directory; changes this process makes go
// to the store first and into memory at once.
import type { HuntGroup, HuntGroupRepository, ShortCode, ShortCodeRepository } from '../../store/types.ts';
import type { ShortCodeMatch } from '../../model/short-code.ts';
import { matchShortCode } from '../../model/short-code.ts';
import type { Logger } from '../../lib/log.ts';

export class FeatureTables {
  private groups = new Map<string, HuntGroup>();
  private codes: readonly ShortCode[] = [];
  private groupRev = -1;
  private codeRev = -1;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: { huntGroups: HuntGroupRepository; shortCodes: ShortCodeRepository },
    private readonly log: Logger,
  ) {}

  /** Loads the tables and follows the store's changes every `pollMs` (real time: other processes' edits). */
  start(pollMs = 500): void {
    this.poll();
    this.timer = setInterval(() => this.poll(), pollMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Reloads what changed in the store since the last look. */
  poll(): void {
    try {
      const g = this.store.huntGroups.revision();
      if (g !== this.groupRev) {
        this.groups = new Map(this.store.huntGroups.list().map((x) => [x.number, x]));
        this.groupRev = g;
      }
      const c = this.store.shortCodes.revision();
      if (c !== this.codeRev) {
        this.codes = this.store.shortCodes.list();
        this.codeRev = c;
      }
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'hunt groups / short codes not reloaded');
    }
  }

  get(number: string): HuntGroup | undefined {
    return this.groups.get(number);
  }

  match(dialled: string): ShortCodeMatch | undefined {
    return matchShortCode(this.codes, dialled);
  }

  /** Rotary: the member rung last (persisted for restarts; it does not move the store's revision). */
  setLastMember(number: string, extension: string | null): void {
    const g = this.groups.get(number);
    if (g) this.groups.set(number, { ...g, lastMember: extension });
    this.store.huntGroups.setLastMember(number, extension);
  }

  /** *45*G# / *46*G#. @throws StoreError as the repository does. */
  setMemberLoggedIn(number: string, extension: string, loggedIn: boolean): HuntGroup {
    const g = this.store.huntGroups.setMemberLoggedIn(number, extension, loggedIn);
    this.groups.set(g.number, g);
    return g;
  }
}
