// RFC 4028 session timers through the B2BUA. Session-Expires and Min-SE ride
// along with the INVITE and its 2xx, so the two parties agree end to end and
// their refreshes (re-INVITE/UPDATE) are relayed like any other. The B2BUA
// keeps its own watch: without a refresh before expiry the call is torn down
// (a party that vanished must not hold a call and its channel forever), and
// when the callee expects its UAC — us — to refresh while the caller does not
// do session timers, we send the refreshes ourselves.
import type { TimerHandle } from '../../lib/timer-queue.ts';
import { parseValueWithParams } from '../../sip/headers.ts';
import type { CallContext } from './context.ts';
import type { Leg } from './leg.ts';

export function parseSessionExpires(v: string | undefined): { seconds: number; refresher: 'uac' | 'uas' | undefined } | undefined {
  if (v === undefined) return undefined;
  const p = parseValueWithParams(v);
  if (!p || !/^\d{1,9}$/.test(p.value)) return undefined;
  const seconds = Number(p.value);
  if (seconds < 1) return undefined;
  const r = p.params.get('refresher');
  return { seconds, refresher: r === 'uac' || r === 'uas' ? r : undefined };
}

export class SessionTimer {
  private expiry: TimerHandle | undefined;
  private refresh: TimerHandle | undefined;
  private seconds = 0;
  private refreshLeg: Leg | undefined;
  /** Taken over from a previous bridge (continueFor): not ours to end when our refresh is refused. */
  private carried = false;

  constructor(
    private readonly ctx: CallContext,
    private readonly onExpired: () => void,
  ) {}

  get interval(): number {
    return this.seconds;
  }

  /** When the session ends unless refreshed (server clock ms), or undefined when no timer runs. */
  get expiresAt(): number | undefined {
    return this.expiry?.deadline;
  }

  /** The callee's 2xx to the initial INVITE arrived with this Session-Expires (or none). */
  negotiated(value: string | undefined, callerDoesTimers: boolean, calleeLeg: Leg): void {
    const se = parseSessionExpires(value);
    if (!se) return;
    this.seconds = se.seconds;
    if (se.refresher === 'uac' && !callerDoesTimers) this.refreshLeg = calleeLeg;
    this.arm();
  }

  /**
   * A transfer, pickup or unpark put `leg` in a new bridge: the session it
   * negotiated goes on, but whoever refreshed it may be gone. We refresh it
   * ourselves (UPDATE every half interval), so a party that enforces its
   * timer does not hang up the re-paired call (RFC 4028 §10).
   */
  continueFor(previous: SessionTimer, leg: Leg): void {
    if (previous.seconds <= 0) return;
    this.seconds = previous.seconds;
    this.refreshLeg = leg;
    this.carried = true;
    this.arm();
  }

  /** A re-INVITE or UPDATE succeeded: the session was refreshed. */
  refreshed(): void {
    if (this.seconds > 0) this.arm();
  }

  stop(): void {
    if (this.expiry) this.ctx.timers.cancel(this.expiry);
    if (this.refresh) this.ctx.timers.cancel(this.refresh);
    this.expiry = this.refresh = undefined;
  }

  private arm(): void {
    this.stop();
    // §10: the side that does not refresh ends the session min(32, SE/3) seconds before expiry.
    const guard = Math.min(32, this.seconds / 3);
    this.expiry = this.ctx.timers.schedule((this.seconds - guard) * 1000, () => {
      this.expiry = undefined;
      this.onExpired();
    });
    const leg = this.refreshLeg;
    if (leg) {
      this.refresh = this.ctx.timers.schedule((this.seconds / 2) * 1000, () => {
        this.refresh = undefined;
        leg.sendInDialog('UPDATE', { headers: [{ name: 'session-expires', value: `${this.seconds};refresher=uac` }] }, {
          onResponse: (res) => {
            if (res.status >= 200 && res.status < 300) this.refreshed();
            // A carried-over session we could not refresh is left to the party rather than ended by us.
            else if (res.status >= 300 && this.carried) this.stop();
          },
          onTimeout() {},
          onTransportError() {},
        });
      });
    }
  }
}
