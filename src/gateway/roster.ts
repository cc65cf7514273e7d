// Who the handset gateway speaks for (issue 15), known synchronously in
// every process: the gateway users (an enabled line, mode gateway or both)
// and the upstream users their lines register as (the Contact user the
// upstream addresses its INVITEs to). A cluster places those users' new
// calls on the worker that runs the lines; the MWI counts source reads the
// same rule.
import type { GatewaySettings, LineView } from '../model/gateway.ts';
import type { GatewayRepository } from '../store/gateway-types.ts';
import type { ChangeWatcher } from '../store/types.ts';

export interface Roster {
  /** Extensions of the gateway users. */
  extensions: Set<string>;
  /** Upstream users of their lines. */
  upstreamUsers: Set<string>;
}

/** The gateway users of these lines and settings: none in call-server mode, a disabled line's user is local. */
export function rosterOf(lines: readonly LineView[], settings: Pick<GatewaySettings, 'mode'>): Roster {
  const out: Roster = { extensions: new Set(), upstreamUsers: new Set() };
  if (settings.mode === 'call-server') return out;
  for (const l of lines) {
    if (l.disabled) continue;
    out.extensions.add(l.extension);
    out.upstreamUsers.add(l.upstreamUser);
  }
  return out;
}

/** The roster read from the store, again on every settings or lines change (another process's too). */
export class GatewayRoster {
  private current: Roster = rosterOf([], { mode: 'call-server' });
  private watcher: ChangeWatcher | undefined;

  constructor(private readonly deps: { repo: Pick<GatewayRepository, 'listLines' | 'settings' | 'watch'>; pollMs?: number }) {}

  async start(): Promise<void> {
    await this.load();
    this.watcher = this.deps.repo.watch(async (c) => {
      if (c.config) await this.load();
    }, { intervalMs: this.deps.pollMs });
  }

  /** Looks for a change now instead of at the next poll. */
  async refresh(): Promise<void> {
    await this.watcher?.poll();
  }

  stop(): void {
    this.watcher?.stop();
    this.watcher = undefined;
  }

  /** A new call from or to the gateway: From user a gateway user, or Request-URI user a line's upstream user. */
  concerns(fromUser: string | undefined, requestUser: string | undefined): boolean {
    const r = this.current;
    return (fromUser !== undefined && r.extensions.has(fromUser)) || (requestUser !== undefined && r.upstreamUsers.has(requestUser));
  }

  private async load(): Promise<void> {
    const { repo } = this.deps;
    const [lines, settings] = await Promise.all([repo.listLines(), repo.settings()]);
    this.current = rosterOf(lines, settings);
  }
}
