// After a `switchboard cert` command changed the data directory: the running
// server (if any) reloads its identity at once, as on SIGHUP, and the command
// says what each listener now presents (SPEC §4.3: reload, not restart).
import type { ControlReload } from '../pbx/status/control-socket.ts';
import { describeChanges } from '../security/tls-consumers.ts';
import { print } from './common.ts';
import { askControl, NoServerError } from './status.ts';

/** A reload may issue a due identity (RSA key generation) in every worker. */
const RELOAD_TIMEOUT_MS = 60_000;

/** Asks the server on dataDir to reload; null when none runs. @throws CliError when it refused (the old identity stays). */
export async function reloadRunningServer(dataDir: string): Promise<ControlReload | null> {
  try {
    return (await askControl<{ reload: ControlReload }>(dataDir, { op: 'reload' }, RELOAD_TIMEOUT_MS)).reload;
  } catch (err) {
    if (err instanceof NoServerError) return null;
    throw err;
  }
}

/** The lines a command prints after its change: what the server now presents, or that it applies at the next start. */
export function describeApplied(reload: ControlReload | null): string[] {
  if (reload === null) return ['no server running: applies at the next start'];
  const lines = describeChanges(reload.listeners).map((l) => `applied: ${l}`);
  if (lines.length === 0) lines.push(`applied: the server now presents ${reload.fingerprint}`);
  if (reload.renewed) lines.push(`the server issued a new identity while reloading (${reload.renewed})`);
  if (reload.restartNeeded.length > 0) lines.push(`these settings apply at the next start: ${reload.restartNeeded.join(', ')}`);
  return lines;
}

/** Reloads the running server and prints what changed. */
export async function applyAndReport(dataDir: string): Promise<ControlReload | null> {
  const reload = await reloadRunningServer(dataDir);
  for (const line of describeApplied(reload)) print(line);
  return reload;
}
