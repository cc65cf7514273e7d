// `switchboard gateway status [--json]` and `switchboard gateway reregister
// <ext...>|--all` (issue 15 interface, B-32, B-14): read from the running
// server over its control socket, since the state lives in the process that
// registers the lines.
import type { Command } from 'commander';
import type { GatewayStatus, LineStatus } from '../model/gateway.ts';
import { CliError, DATA_DIR_OPTION, print, resolveDataDir } from './common.ts';
import { askControl } from './status.ts';

/** Extensions per control-socket request (its requests are bounded to 4 KiB). */
const REREGISTER_BATCH = 200;

function when(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

/** One line per user, then the counters (SPEC B.1 List Users). */
export function formatGatewayStatus(s: GatewayStatus): string[] {
  const out = [`gateway mode ${s.mode} profile ${s.profile}`];
  for (const p of s.proxies) {
    const targets = p.targets.map((t) => `${t.target}${t.blacklistedUntil ? ` blacklisted until ${when(t.blacklistedUntil)}` : ''}`);
    out.push(`proxy ${p.uri} priority ${p.priority} weight ${p.weight} ${targets.join(', ') || '-'}`);
  }
  for (const l of s.lines) out.push(formatLine(l));
  const c = s.counters;
  out.push(`SIP users ${c.sipUsers}  subscribed ${c.subscribed}  registered ${c.registered}  total ${c.total}`);
  return out;
}

function formatLine(l: LineStatus): string {
  const parts = [`user ${l.extension}`, `upstream ${l.aor || l.upstreamUser}`];
  if (l.displayName) parts.push(`name ${JSON.stringify(l.displayName)}${l.displayNameInherited ? " (the user's)" : ''}`);
  parts.push(l.registration);
  if (l.registeredVia) parts.push(`via ${l.registeredVia}`, `until ${when(l.expiresAt)}`);
  parts.push(`mwi ${l.mwi}${l.messagesWaiting ? ' (messages waiting)' : ''}`, `handset ${l.subscribed ? 'subscribed' : 'not subscribed'}`, `activity ${when(l.latestActivity)}`);
  if (l.failure) parts.push(`reason ${l.failure.code}: ${l.failure.text}`);
  return parts.join('  ');
}

/** Finds the `gateway` command (the settings commands make it) or makes it. */
function gatewayCommand(program: Command): Command {
  return program.commands.find((c) => c.name() === 'gateway') ?? program.command('gateway').description('the handset gateway: settings, proxies, upstream lines and their status');
}

export function registerGatewayStatusCommands(program: Command): void {
  const gw = gatewayCommand(program);
  gw.command('status')
    .description('per gateway user: upstream registration state, registered proxy, last failure reason, MWI state, latest activity; counters')
    .option(...DATA_DIR_OPTION)
    .option('--json', 'print the status as JSON')
    .action(async (opts: { dataDir?: string; json?: boolean }) => {
      const answer = await askControl<{ gateway?: GatewayStatus }>(resolveDataDir(opts.dataDir), { op: 'gateway-status' });
      if (!answer.gateway) throw new CliError('the server refused the request: no answer', 1);
      if (opts.json) print(JSON.stringify(answer.gateway, null, 2));
      else for (const line of formatGatewayStatus(answer.gateway)) print(line);
    });
  gw.command('reregister')
    .description('register gateway lines upstream again now (B-14 bulk re-register)')
    .argument('[extensions...]', 'the users whose lines re-register')
    .option('--all', 'every line')
    .option(...DATA_DIR_OPTION)
    .action(async (extensions: string[], opts: { dataDir?: string; all?: boolean }) => {
      if (opts.all === (extensions.length > 0)) throw new CliError('name the extensions, or --all (not both)', 2);
      const dataDir = resolveDataDir(opts.dataDir);
      let lines = 0;
      if (opts.all) {
        lines = (await askControl<{ lines: number }>(dataDir, { op: 'gateway-reregister' })).lines;
      } else {
        for (let i = 0; i < extensions.length; i += REREGISTER_BATCH) {
          lines += (await askControl<{ lines: number }>(dataDir, { op: 'gateway-reregister', extensions: extensions.slice(i, i + REREGISTER_BATCH) })).lines;
        }
      }
      print(`${lines} line(s) registering again`);
    });
}
