// `switchboard user show --ext N`: why an extension's phones work or not,
// asked of the running server over its control socket (registrations,
// refusals and probes live in the server's memory, not in the store).
import type { Command } from 'commander';
import type { ExtensionDetail, RegistrationFailure } from '../model/extension-detail.ts';
import { askControl } from './status.ts';
import { DATA_DIR_OPTION, STORE_OPTION, print, resolveDataDir, withStore } from './common.ts';
import { lineText } from './gateway.ts';

const time = (ms: number | null): string => (ms === null ? '-' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19) + ' UTC');
const host = (address: string, port: number): string => `${address.includes(':') ? `[${address}]` : address}${port ? `:${port}` : ''}`;

function failureLine(f: RegistrationFailure): string {
  return `${time(f.at)}  ${f.text}  ${f.method} from ${f.transport} ${host(f.address, f.port)}${f.userAgent ? ` ua=${JSON.stringify(f.userAgent)}` : ''}`;
}

/** The detail as an administrator reads it: one fact per line. */
export function formatDetail(d: ExtensionDetail, now: number): string[] {
  const lines = [
    `extension ${d.extension}${d.name ? ` (${d.name})` : ''}${d.enabled ? '' : ' DISABLED'}`,
    `registration ${d.registered ? `registered, ${d.contacts.length} contact(s)` : 'not registered'}`,
  ];
  for (const c of d.contacts) {
    const r = c.reachability;
    const reach = r.state === 'unknown' ? 'reachability unknown' : `${r.state}${r.rttMs !== null ? ` rtt=${r.rttMs}ms` : ''} probed ${time(r.lastProbeAt)}`;
    lines.push(`  contact ${c.transport} ${host(c.address, c.port)} ${c.userAgent ? JSON.stringify(c.userAgent) : '-'} expires in ${Math.max(0, Math.round((c.expiresAt - now) / 1000))}s, last REGISTER ${time(c.registeredAt)}, ${reach}`);
  }
  lines.push(`last failure ${d.lastFailure ? failureLine(d.lastFailure) : '-'}`);
  for (const f of d.recentFailures.slice(1)) lines.push(`  earlier ${failureLine(f)}`);
  for (const f of d.tlsFailures) lines.push(`  tls ${failureLine(f)}`);
  lines.push(`last seen ${d.lastSeen ? `${time(d.lastSeen.at)} ${d.lastSeen.method} from ${d.lastSeen.transport} ${host(d.lastSeen.address, d.lastSeen.port)}` : '-'}`);
  lines.push(`state ${d.state}, media ${d.mediaStream}`);
  const f = d.features;
  const fwd = [
    f.forwardUnconditional && `always -> ${f.forwardUnconditional}`,
    f.forwardBusy && `busy -> ${f.forwardBusy}`,
    f.forwardNoAnswer && `no answer -> ${f.forwardNoAnswer}`,
    f.followMe && `follow me -> ${f.followMe}`,
  ].filter(Boolean);
  lines.push(`do not disturb ${f.dnd ? 'on' : 'off'}, forwarding ${fwd.length ? fwd.join(', ') : 'off'}`);
  const vm = d.voicemail;
  lines.push(`voicemail ${vm.enabled ? 'on' : 'off'}, ${vm.new} new, ${vm.saved} saved`);
  for (const c of d.calls) lines.push(`  call now ${c.ref} ${c.state} ${c.caller} -> ${c.callee} ${c.durationSec}s ${c.connectionType}`);
  for (const c of d.recentCalls) lines.push(`  recent call ${time(c.startedAt)} ${c.direction} ${c.caller} -> ${c.callee} ${c.disposition} (${c.status})`);
  return lines;
}

export function registerUserShowCommand(user: Command): void {
  user
    .command('show')
    .description("why an extension's phones work or not: registrations, reachability, last failures, last seen, calls (asks the running server)")
    .requiredOption('--ext <extension>', 'the extension')
    .option(...DATA_DIR_OPTION)
    .option(...STORE_OPTION)
    .option('--json', 'print the detail as JSON')
    .action(async (opts: { ext: string; dataDir?: string; store?: string; json?: boolean }) => {
      const { detail } = await askControl<{ detail: ExtensionDetail }>(resolveDataDir(opts.dataDir), { op: 'extension', extension: opts.ext });
      // The stored side of the user's handset gateway line (its live state is `gateway status`); never its password.
      const gatewayLine = (await withStore(opts, (s) => s.gateway.getLine(detail.extension))) ?? null;
      if (opts.json) print(JSON.stringify({ ...detail, gatewayLine }, null, 2));
      else {
        for (const line of formatDetail(detail, Date.now())) print(line);
        print(`gateway line ${gatewayLine ? lineText(gatewayLine) : '-'}`);
      }
    });
}
