// RFC 5626 §4.4.1 CRLF keep-alive on the TCP/TLS flows of the lines: one
// ping per flow per interval (however many lines share it); a flow that
// closes, or leaves two pings unanswered (then closed here), is reported
// dead so its lines re-register over a new one.
import type { TimerHandle, TimerQueue } from '../lib/timer-queue.ts';
import type { Flow } from '../sip/transport/types.ts';

interface Kept {
  users: Set<string>;
  timer: TimerHandle | undefined;
  lastSeen: number;
  unsubscribe: (() => void)[];
}

export class FlowKeeper {
  private readonly flows = new Map<Flow, Kept>();
  private readonly flowOf = new Map<string, Flow>();

  constructor(
    private readonly timers: TimerQueue,
    private readonly now: () => number,
    private intervalMs: () => number,
    /** The flow is gone: every user of it (extension) should register again. */
    private readonly dead: (users: readonly string[], flow: Flow, err?: Error) => void,
  ) {}

  /** `user` (an extension) now uses flow; a user on another flow is moved. */
  use(flow: Flow, user: string): void {
    this.leave(user, flow);
    let k = this.flows.get(flow);
    if (!k) {
      k = { users: new Set(), timer: undefined, lastSeen: this.now(), unsubscribe: [] };
      this.flows.set(flow, k);
      const kept = k;
      kept.unsubscribe.push(
        flow.onClose((err) => this.gone(flow, err)),
        flow.onPong(() => {
          kept.lastSeen = this.now();
        }),
      );
      if (flow.transport !== 'udp') this.arm(flow, kept);
    }
    k.users.add(user);
    this.flowOf.set(user, flow);
  }

  /** `user` stopped using its flow (other than `except`). */
  leave(user: string, except?: Flow): void {
    const flow = this.flowOf.get(user);
    if (flow === undefined || flow === except) return;
    this.flowOf.delete(user);
    const k = this.flows.get(flow);
    if (k && k.users.delete(user) && k.users.size === 0) this.forget(flow, k);
  }

  get size(): number {
    return this.flows.size;
  }

  close(): void {
    for (const [flow, k] of this.flows) this.forget(flow, k);
  }

  private arm(flow: Flow, k: Kept): void {
    const ms = this.intervalMs();
    if (ms <= 0) return;
    k.timer = this.timers.schedule(ms, () => {
      k.timer = undefined;
      if (!flow.open) return this.gone(flow);
      // Two intervals without a pong (or any bytes): the path is dead though no FIN came (NAT, link down).
      if (this.now() - k.lastSeen > 2 * ms + 1000) return this.gone(flow, new Error('keep-alive unanswered'));
      flow.ping();
      this.arm(flow, k);
    });
  }

  private gone(flow: Flow, err?: Error): void {
    const k = this.flows.get(flow);
    if (!k) return;
    const users = [...k.users];
    this.forget(flow, k);
    // Unanswered pings: the connection looks open but leads nowhere. Closed before the lines
    // re-register, or the pool would hand them this one again until TCP gives up on it.
    if (flow.open) flow.close();
    this.dead(users, flow, err);
  }

  private forget(flow: Flow, k: Kept): void {
    this.timers.cancel(k.timer);
    for (const u of k.unsubscribe) u();
    for (const user of k.users) if (this.flowOf.get(user) === flow) this.flowOf.delete(user);
    this.flows.delete(flow);
  }
}
