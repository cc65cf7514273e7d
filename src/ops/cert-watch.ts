// The certificate alarms' schedule (SPEC EC-12, B-23; issue 14 item 1):
// the identities, the root and the clock are checked at start, after every
// reload and once a day on the server's timers (manual time in tests moves
// it), and the AlarmCenter raises or clears what the checks say.
import type { Logger } from '../lib/log.ts';
import type { TimerHandle, TimerQueue } from '../lib/timer-queue.ts';
import { certificateOverview, type OverviewInput } from '../security/cert-overview.ts';
import type { SiteAddresses } from '../security/client-families.ts';
import type { AlarmCenter } from './alarms.ts';

const DAY_MS = 86_400_000;

export interface CertificateWatchOptions {
  dataDir: string;
  site: () => SiteAddresses;
  /** Epoch ms: the server's clock. */
  now: () => number;
  timers: TimerQueue;
  alarms: AlarmCenter;
  log: Logger;
  /** The provisioned devices, whose client families the identity must serve. */
  devices?: OverviewInput['devices'];
}

export class CertificateWatch {
  private timer: TimerHandle | undefined;
  private running: Promise<void> | undefined;
  private again = false;

  constructor(private readonly o: CertificateWatchOptions) {}

  /** Checks now, then once a day. */
  async start(): Promise<void> {
    await this.check();
    this.schedule();
  }

  stop(): void {
    this.o.timers.cancel(this.timer);
    this.timer = undefined;
  }

  /** One check; a failure to read the certificates is logged, not thrown (the alarms stay as they were). */
  check(): Promise<void> {
    // Asked again while one runs (a reload, days of manual time at once): one more runs after it, at the time then.
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.loop().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      await this.run();
    } while (this.again);
  }

  private async run(): Promise<void> {
    try {
      const overview = await certificateOverview({ dataDir: this.o.dataDir, site: this.o.site(), now: new Date(this.o.now()), devices: this.o.devices });
      this.o.alarms.certificateChecks(overview.warnings);
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message }, 'certificate check failed');
    }
  }

  private schedule(): void {
    this.timer = this.o.timers.schedule(DAY_MS, () => {
      void this.check();
      this.schedule();
    });
  }
}
