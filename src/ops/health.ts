// Health report for GET /healthz (issue 5 item 6): cheap checks only, so a
// load balancer may poll it every second.

export interface HealthCheck {
  ok: boolean;
  detail: string;
}

export interface HealthReport {
  status: 'ok' | 'degraded';
  checks: Record<string, HealthCheck>;
}

export interface HealthSources {
  /** Transports that should be listening (from the config), and those that are. */
  expectedListeners: readonly string[];
  listening: () => ReadonlyArray<{ transport: string; address: string; port: number }>;
  /** Throws or returns a problem text when the database cannot take writes; undefined when fine. */
  database?: () => string | undefined;
  /** The registration write-behind queue: entries waiting, and since when writes have been failing (epoch ms). */
  writeBehind?: () => { pending: number; failingSince: number | undefined };
  /** Write-behind failing for longer than this is "stuck" (default 30 s). */
  stuckAfterMs?: number;
  now?: () => number;
}

export function health(s: HealthSources): HealthReport {
  const checks: Record<string, HealthCheck> = {};
  checks.listeners = run(() => {
    const up = new Set(s.listening().map((l) => l.transport));
    const missing = s.expectedListeners.filter((t) => !up.has(t));
    return missing.length === 0
      ? { ok: true, detail: `${[...up].sort().join(', ') || 'none'} listening` }
      : { ok: false, detail: `not listening: ${missing.join(', ')}` };
  });
  if (s.database) {
    const db = s.database;
    checks.database = run(() => {
      const problem = db();
      return problem === undefined ? { ok: true, detail: 'writable' } : { ok: false, detail: problem };
    });
  }
  if (s.writeBehind) {
    const wb = s.writeBehind;
    checks.writeBehind = run(() => {
      const { pending, failingSince } = wb();
      const now = (s.now ?? Date.now)();
      if (failingSince !== undefined && now - failingSince >= (s.stuckAfterMs ?? 30_000)) {
        return { ok: false, detail: `${pending} registration change(s) unwritten; writes failing for ${Math.round((now - failingSince) / 1000)} s` };
      }
      return { ok: true, detail: `${pending} pending` };
    });
  }
  const ok = Object.values(checks).every((c) => c.ok);
  return { status: ok ? 'ok' : 'degraded', checks };
}

function run(check: () => HealthCheck): HealthCheck {
  try {
    return check();
  } catch (err) {
    return { ok: false, detail: err instanceof Error ? err.message : String(err) };
  }
}
