// `switchboard bans`: the lockouts in force on the running server (SIP bans
// of every worker, administrator login locks), and lifting one.
import type { Command } from 'commander';
import type { Ban, BanKind, BanScope } from '../security/bans.ts';
import { CliError, DATA_DIR_OPTION, print, resolveDataDir } from './common.ts';
import { askControl } from './status.ts';

/** One line per ban, each saying what it is and how to name it for `bans lift`. */
export function formatBans(bans: readonly Ban[], now: number): string[] {
  return bans.map((b) => {
    const left = Math.max(0, Math.ceil((b.until - now) / 1000));
    const attack = b.attackSince === undefined ? '' : ` attack-since=${new Date(b.attackSince).toISOString()} renewals=${b.renewals ?? 0}`;
    const workers = b.workers ? ` workers=${b.workers.join(',')}` : '';
    return `ban ${b.kind} ${b.scope}${b.user === undefined ? '' : ` user=${JSON.stringify(b.user)}`}${b.ip === undefined ? '' : ` ip=${b.ip}`} ${b.effect} ${left}s${attack}${workers}`;
  });
}

export function registerBansCommands(program: Command): void {
  const bans = program
    .command('bans')
    .description('lockouts in force on the running server (`bans list`, the default) and lifting one (`bans lift`)');
  bans
    .command('list', { isDefault: true })
    .description('lockouts in force: SIP bans (pair, user, ip) and administrator login locks (pair, source, account)')
    .option(...DATA_DIR_OPTION)
    .option('--json', 'print them as JSON')
    .action(async (opts: { dataDir?: string; json?: boolean }) => {
      const { bans: list } = await askControl<{ bans: Ban[] }>(resolveDataDir(opts.dataDir), { op: 'bans' });
      if (opts.json) print(JSON.stringify(list, null, 2));
      else if (list.length === 0) print('no bans');
      else for (const line of formatBans(list, Date.now())) print(line);
    });
  bans
    .command('lift <kind> <scope>')
    .description('lift one lockout now, named as `switchboard bans` lists it: kind sip|admin, scope pair|user|ip (sip) or pair|source|account (admin)')
    .option(...DATA_DIR_OPTION)
    .option('--user <name>', 'SIP authentication name or administrator account name')
    .option('--ip <address>', 'source address')
    .action(async (kind: string, scope: string, opts: { dataDir?: string; user?: string; ip?: string }) => {
      if (kind !== 'sip' && kind !== 'admin') throw new CliError('kind: sip or admin', 2);
      const target = { kind: kind as BanKind, scope: scope as BanScope, user: opts.user, ip: opts.ip };
      const { lifted } = await askControl<{ lifted: number }>(resolveDataDir(opts.dataDir), { op: 'lift-ban', target });
      if (lifted === 0) throw new CliError('no such ban in force', 1);
      print(`lifted ${lifted}`);
    });
}
