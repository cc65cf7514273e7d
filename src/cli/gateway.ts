// `switchboard gateway ...`: the handset gateway's settings, upstream proxies
// and lines as stored (issue 15; SPEC 1.B B.1 tables). `gateway set` has one
// option per setting of gatewaySettingsSchema, made from the schema: the
// option is the key in kebab case ("Sec" dropped: the help says seconds), a
// boolean takes on|off, a list takes commas. A running server follows the
// store's gateway feed, so a change applies without a restart.
import { Option, type Command } from 'commander';
import {
  GATEWAY_DEFAULTS, gatewaySettingsSchema, inheritsUserName, lineDisplayName, type GatewaySettings, type GatewaySettingsPatch, type LineView, type ProxyView,
} from '../model/gateway.ts';
import { readFile } from 'node:fs/promises';
import { GatewayUsersError, MAX_GATEWAY_FILE_BYTES } from '../provisioning/gateway-users.ts';
import { importGatewayLines } from '../provisioning/gateway-lines-import.ts';
import { setLinesDisabled } from '../store/gateway-bulk.ts';
import { CliError, DATA_DIR_OPTION, STORE_OPTION, print, withStore, type StoreLocation } from './common.ts';
import { onOff, storeAsOptions } from './options.ts';

type SettingKey = keyof GatewaySettings;

/** Where the kebab-case rule gives a clumsy name. */
const OPTION_NAMES: Partial<Record<SettingKey, string>> = {
  maxPendingRegistrations: 'max-pending',
};

function optionName(key: SettingKey): string {
  return OPTION_NAMES[key] ?? key.replace(/Sec$/, '').replace(/[A-Z]/g, (m) => `-${m.toLowerCase()}`);
}

/** The camelCase property commander gives an option. */
function propertyOf(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** The values an enum setting (or a list's items) takes, from the schema; undefined for other kinds. */
function choicesOf(key: SettingKey): readonly string[] | undefined {
  type Node = { unwrap?: () => unknown; options?: readonly unknown[]; element?: unknown };
  let t = gatewaySettingsSchema.shape[key] as unknown as Node;
  for (;;) {
    if (t.element) t = t.element as Node;
    else if (t.unwrap && !t.options) t = t.unwrap() as Node;
    else break;
  }
  return Array.isArray(t.options) && t.options.every((x) => typeof x === 'string') ? t.options as string[] : undefined;
}

const SETTING_KEYS = Object.keys(gatewaySettingsSchema.shape) as SettingKey[];

export const SETTING_OPTION_OF: Record<string, string> = Object.fromEntries(SETTING_KEYS.map((k) => [k, `--${optionName(k)}`]));

function settingOption(key: SettingKey): Option {
  const def = GATEWAY_DEFAULTS[key];
  const choices = choicesOf(key);
  const shown = Array.isArray(def) ? def.join(',') : typeof def === 'boolean' ? (def ? 'on' : 'off') : def === '' ? 'none' : String(def);
  const arg = typeof def === 'boolean' ? '<on|off>' : Array.isArray(def) ? '<list>' : choices ? `<${choices.join('|')}>` : typeof def === 'number' ? '<n>' : '<value>';
  const unit = key.endsWith('Sec') ? ' (seconds)' : '';
  const items = Array.isArray(def) && choices ? `, comma-separated from ${choices.join(',')}` : '';
  const o = new Option(`--${optionName(key)} ${arg}`, `${key}${unit}${items}, default ${shown}`);
  o.negate = false;
  return o;
}

/** The patch the options ask for. @throws CliError naming the first bad option */
function settingsPatchOf(o: Record<string, unknown>): GatewaySettingsPatch {
  const patch: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) {
    const name = `--${optionName(key)}`;
    const v = o[propertyOf(optionName(key))];
    if (typeof v !== 'string') continue;
    const def = GATEWAY_DEFAULTS[key];
    if (typeof def === 'boolean') patch[key] = onOff(name, v);
    else if (typeof def === 'number') {
      if (!/^-?[0-9]{1,9}$/.test(v)) throw new CliError(`${name}: must be an integer, not ${JSON.stringify(v)}`);
      patch[key] = Number(v);
    } else if (Array.isArray(def)) patch[key] = v.split(',').map((s) => s.trim()).filter((s) => s !== '');
    else patch[key] = v;
  }
  return patch as GatewaySettingsPatch;
}

function settingLines(s: GatewaySettings): string[] {
  return SETTING_KEYS.map((k) => {
    const v = s[k];
    const text = Array.isArray(v) ? v.join(',') : typeof v === 'boolean' ? (v ? 'on' : 'off') : v === '' ? '-' : String(v);
    return `${`--${optionName(k)}`.padEnd(34)}${text}`;
  });
}

function proxyLine(p: ProxyView): string {
  return [String(p.id), p.uri, `priority=${p.priority}`, `weight=${p.weight}`].join('\t');
}

/** One line per gateway line: never the password, only whether there is one; the display name sent upstream. */
export function lineText(l: LineView): string {
  return [
    l.extension, `upstream=${l.upstreamUser}${l.upstreamDomain ? `@${l.upstreamDomain}` : ''}`, `auth-user=${l.authUser || '-'}`,
    `password=${l.hasPassword ? 'set' : 'none'}`, `ipei=${l.ipei ?? '-'}`, `access-code=${l.accessCode ? 'set' : '-'}`,
    `standby=${JSON.stringify(l.standbyText)}`, l.disabled ? 'disabled' : 'enabled',
    `display-name=${JSON.stringify(lineDisplayName(l))}${inheritsUserName(l) ? " (the user's name)" : ''}`,
  ].join('\t');
}

export function registerGatewayCommands(program: Command): void {
  const gateway = program.command('gateway').description('the handset gateway: settings, upstream proxies and lines (issue 15)');

  const set = gateway
    .command('set')
    .description('change gateway settings (applies to a running server; lines re-register where needed)');
  for (const key of SETTING_KEYS) set.addOption(settingOption(key));
  set
    .option(...DATA_DIR_OPTION)
    .option(...STORE_OPTION)
    .action(async (o: Record<string, unknown> & StoreLocation) => {
      const patch = settingsPatchOf(o);
      if (Object.keys(patch).length === 0) throw new CliError('gateway set: give at least one setting to change (see --help)');
      await withStore(o, (s) => storeAsOptions(SETTING_OPTION_OF, () => s.gateway.updateSettings(patch)));
      print(`gateway settings updated: ${Object.keys(patch).map((k) => `--${optionName(k as SettingKey)}`).join(' ')}`);
    });

  gateway
    .command('show')
    .description('show the gateway settings')
    .option('--json', 'print JSON')
    .option(...DATA_DIR_OPTION)
    .option(...STORE_OPTION)
    .action(async (o: { json?: boolean } & StoreLocation) => {
      const s = await withStore(o, (st) => st.gateway.settings());
      if (o.json) print(JSON.stringify(s));
      else for (const line of settingLines(s)) print(line);
    });

  const proxy = gateway.command('proxy').description('upstream proxies (at most 4; lower priority is tried first, weight shares equal priorities)');
  proxy
    .command('add')
    .description('add an upstream proxy')
    .requiredOption('--uri <uri>', 'sip:HOST[:PORT][;transport=udp|tcp|tls] or sips:HOST[:PORT]')
    .option('--priority <n>', 'lower is tried first (default 1)')
    .option('--weight <n>', 'share among proxies of equal priority (default 100)')
    .option(...DATA_DIR_OPTION)
    .option(...STORE_OPTION)
    .action(async (o: { uri: string; priority?: string; weight?: string } & StoreLocation) => {
      const num = (name: string, v: string | undefined) => {
        if (v === undefined) return undefined;
        if (!/^[0-9]{1,5}$/.test(v)) throw new CliError(`${name}: must be an integer from 0 to 65535, not ${JSON.stringify(v)}`);
        return Number(v);
      };
      const input = { uri: o.uri, priority: num('--priority', o.priority), weight: num('--weight', o.weight) };
      const p = await withStore(o, (s) => storeAsOptions({ uri: '--uri', priority: '--priority', weight: '--weight' }, () => s.gateway.addProxy(input)));
      print(`added proxy ${p.id} ${p.uri}`);
    });
  proxy
    .command('list')
    .description('list upstream proxies in the order they are tried')
    .option('--json', 'print JSON')
    .option(...DATA_DIR_OPTION)
    .option(...STORE_OPTION)
    .action(async (o: { json?: boolean } & StoreLocation) => {
      const list = await withStore(o, (s) => s.gateway.listProxies());
      if (o.json) print(JSON.stringify(list));
      else for (const p of list) print(proxyLine(p));
    });
  proxy
    .command('remove')
    .description('remove an upstream proxy')
    .argument('<id|uri>', 'the proxy, by the id `proxy list` shows or by its URI')
    .option(...DATA_DIR_OPTION)
    .option(...STORE_OPTION)
    .action(async (which: string, o: StoreLocation) => {
      const p = await withStore(o, (s) => s.gateway.removeProxy(which));
      print(`removed proxy ${p.id} ${p.uri}`);
    });

  gateway
    .command('lines')
    .description('list the gateway lines as stored (`user set --upstream-*` writes them; the live state is `gateway status`)')
    .option('--json', 'print JSON')
    .option(...DATA_DIR_OPTION)
    .option(...STORE_OPTION)
    .action(async (o: { json?: boolean } & StoreLocation) => {
      const lines = await withStore(o, (s) => s.gateway.listLines());
      if (o.json) print(JSON.stringify(lines));
      else for (const l of lines) print(lineText(l));
    });

  for (const [verb, disabled] of [['enable', false], ['disable', true]] as const) {
    gateway
      .command(verb)
      .description(`${verb} gateway lines (a disabled line is not registered upstream)`)
      .argument('[ext...]', 'extensions whose lines to change')
      .option('--all', 'every line')
      .option(...DATA_DIR_OPTION)
      .option(...STORE_OPTION)
      .action(async (exts: string[], o: { all?: boolean } & StoreLocation) => {
        if (o.all ? exts.length > 0 : exts.length === 0) throw new CliError(`gateway ${verb}: name extensions or give --all (not both)`);
        const changed = await withStore(o, (s) => setLinesDisabled(s, o.all ? 'all' : exts, disabled));
        print(`${verb}d ${changed.length} line(s)${changed.length ? `: ${changed.map((l) => l.extension).join(' ')}` : ''}`);
      });
  }

  gateway
    .command('import')
    .description("read a gateway users file (CSV or JSON, as `provision gateway-users` writes) into lines; a record without a password keeps the stored one, a new line without one starts disabled")
    .argument('<file>', 'the users file')
    .option('--dry-run', 'check every record against the store and report, keeping nothing')
    .option('--json', 'print the result as JSON')
    .option(...DATA_DIR_OPTION)
    .option(...STORE_OPTION)
    .action(async (file: string, o: { dryRun?: boolean; json?: boolean } & StoreLocation) => {
      const bytes = await readFile(file);
      if (bytes.length > MAX_GATEWAY_FILE_BYTES) throw new CliError(`${file}: larger than ${MAX_GATEWAY_FILE_BYTES} bytes`);
      const r = await withStore(o, async (s) => {
        try {
          return await importGatewayLines(s, bytes.toString('utf8'), { dryRun: o.dryRun === true });
        } catch (err) {
          if (err instanceof GatewayUsersError) throw new CliError(`${file}: ${err.message}`);
          throw err;
        }
      });
      if (o.json) print(JSON.stringify(r));
      else {
        for (const row of r.rows) {
          const note = row.error ?? [row.passwordKept && 'password kept', row.needsPassword && 'no password: disabled until one is set'].filter(Boolean).join(', ');
          print(`row ${row.row}\t${row.extension}\t${row.action}${note ? `\t${note}` : ''}`);
        }
        for (const w of r.warnings) print(`warning: ${w}`);
        print(`${r.dryRun ? 'dry run: would have ' : ''}added ${r.added}, updated ${r.updated}, ${r.errors} error(s)${r.dryRun ? '; nothing was changed' : ''}`);
      }
      if (r.errors > 0) process.exitCode = 2;
    });
}
