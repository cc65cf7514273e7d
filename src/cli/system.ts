// `switchboard system set|show`: system-wide media settings, stored as
// overrides in the database. The running server polls them, so they apply to
// its next call; users set to "system" follow them.
import type { Command } from 'commander';
import { DATA_DIR_OPTION, STORE_OPTION, CliError, print, withStore } from './common.ts';
import { addMediaOptions, mediaPatchOf } from './media-options.ts';

/** Settings keys of the media options (the config file's media.* names). */
export function mediaSettingKey(key: string): string {
  return `media.${key}`;
}

export function registerSystemCommands(program: Command): void {
  const system = program.command('system').description('system-wide settings');
  addMediaOptions(system.command('set').description('change system media settings (takes effect on a running server for new calls)'), false)
    .option(...DATA_DIR_OPTION)
    .option(...STORE_OPTION)
    .action(async (o: Record<string, unknown> & { dataDir?: string; store?: string }) => {
      const patch = mediaPatchOf(o, false);
      if (Object.keys(patch).length === 0) throw new CliError('system set: give at least one setting to change (see --help)');
      const entries: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(patch)) entries[mediaSettingKey(k)] = v;
      await withStore(o, async (s) => await s.admin.settings.set(entries));
      print(`updated ${Object.keys(entries).join(', ')}`);
    });
  system
    .command('show')
    .description('settings saved in the database (over the config file)')
    .option(...DATA_DIR_OPTION)
    .option(...STORE_OPTION)
    .option('--json', 'print as JSON')
    .action(async (o: { dataDir?: string; store?: string; json?: boolean }) => {
      const all = await withStore(o, async (s) => await s.admin.settings.getAll());
      if (o.json) print(JSON.stringify(all));
      else for (const [k, v] of Object.entries(all).sort()) print(`${k} ${JSON.stringify(v)}`);
    });
}
