// `switchboard device ...` (the provisioned phones and DECT bases) and
// `switchboard provision render` (the files a device would get). Secrets
// are printed once, when made; never in lists.
import type { Command } from 'commander';
import { DEVICE_FAMILIES, type DeviceCreate, type DevicePatch, type DeviceView } from '../model/device.ts';
import { configSchema, type Config } from '../config/schema.ts';
import { configWithStoredSettings } from '../api/management.ts';
import { silentLogger } from '../lib/log.ts';
import { checkDeviceForFamily } from '../provisioning/device-check.ts';
import { generatorFor } from '../provisioning/families/index.ts';
import { deviceLines, renderDevice } from '../provisioning/render.ts';
import { siteFromDataDir, tokenUrl } from '../provisioning/site.ts';
import { ProvisioningRefusal } from '../provisioning/types.ts';
import type { Store } from '../store/types.ts';
import { CliError, DATA_DIR_OPTION, STORE_OPTION, print, resolveDataDir, withStore } from './common.ts';
import { onOff, storeAsOptions } from './options.ts';
import { provisionCommand } from './provision.ts';
import { loadConfig } from './start.ts';
import { runningConfig } from './status.ts';

const OPTION_OF: Record<string, string> = {
  mac: '--mac', family: '--family', extensions: '--ext', model: '--model', label: '--label', options: '--option', enabled: '--enabled',
};

interface DeviceOptions {
  mac: string;
  family?: string;
  ext?: string;
  model?: string;
  label?: string;
  option?: string[];
  enabled?: string;
  json?: boolean;
  reset?: boolean;
  file?: string;
  showSecrets?: boolean;
  config?: string;
  dataDir?: string;
  store?: string;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];
const extensions = (v: string | undefined) => (v === undefined ? undefined : v.split(',').map((x) => x.trim()).filter((x) => x !== ''));

/** "k=v" pairs; each value as the family's option schema takes it (text, number, true/false). */
function parseOptions(family: string | undefined, pairs: readonly string[] | undefined): Record<string, string | number | boolean> | undefined {
  if (pairs === undefined) return undefined;
  const shape = (generatorFor(family as DeviceView['family'])?.options as { shape?: Record<string, { safeParse(v: unknown): { success: boolean } }> } | undefined)?.shape;
  const out: Record<string, string | number | boolean> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CliError(`--option: expected KEY=VALUE, not ${JSON.stringify(pair)}`);
    const key = pair.slice(0, eq);
    const text = pair.slice(eq + 1);
    const candidates: (string | number | boolean)[] = [text];
    if (/^-?\d+(\.\d+)?$/.test(text)) candidates.push(Number(text));
    if (text === 'true' || text === 'false') candidates.push(text === 'true');
    const field = shape?.[key];
    out[key] = candidates.find((c) => field?.safeParse(c).success) ?? (typeof candidates.at(-1) === 'boolean' ? candidates.at(-1)! : text);
  }
  return out;
}

/** The config the files are rendered with: --config, else the running server's (start flags included), else the defaults. */
async function cliConfig(o: DeviceOptions): Promise<Config> {
  const base = o.config ? await loadConfig({ config: o.config }) : (await runningConfig(resolveDataDir(o.dataDir))) ?? configSchema.parse({});
  return o.store === undefined ? configWithStoredSettings(base, resolveDataDir(o.dataDir), [], silentLogger) : base;
}

function deviceLine(d: DeviceView): string {
  const last = d.lastFetch ? `${new Date(d.lastFetch.at).toISOString()} ${d.lastFetch.file} ${d.lastFetch.status}` : '-';
  return [d.mac, d.family, d.model ?? '-', d.extensions.join(','), d.enabled ? 'enabled' : 'disabled', `last=${last}`, d.label].join('\t').trimEnd();
}

async function mustGet(s: Store, mac: string): Promise<DeviceView> {
  const d = await s.devices.get(mac);
  if (!d) throw new CliError(`no device ${mac}`);
  return d;
}

async function printSecrets(o: DeviceOptions, mac: string, secrets: { password: string; token: string }, s: Store): Promise<void> {
  print(`provisioning user: ${mac}`);
  print(`password: ${secrets.password}`);
  try {
    const site = await siteFromDataDir(await cliConfig(o), resolveDataDir(o.dataDir), s.admin.settings);
    print(`token URL: ${tokenUrl(site, secrets.token)}`);
  } catch {
    print(`token: ${secrets.token} (files at https://SERVER:7443/d/TOKEN/FILE)`);
  }
  print('(shown once; `switchboard device secret --mac M --reset` makes new ones)');
}

export function registerDeviceCommands(program: Command): void {
  const dev = program.command('device').description('manage provisioned devices (phones, DECT bases) and their provisioning secrets');
  const families = DEVICE_FAMILIES.join('|');

  dev.command('add').description('add a device; prints its provisioning user, password and token URL once')
    .requiredOption('--mac <mac>', 'MAC address, e.g. 0004f2aabbcc or 00:04:f2:aa:bb:cc')
    .requiredOption('--family <family>', families)
    .requiredOption('--ext <list>', 'the users it registers, line 1 first, e.g. 1001,1002')
    .option('--model <model>', 'model, e.g. J179, 8441, W60B')
    .option('--label <text>', 'free text for the administrator')
    .option('--option <key=value>', 'a family option (repeatable)', collect)
    .option('--config <file>', 'the server\'s JSON config file (for the token URL)')
    .option(...DATA_DIR_OPTION)
    .option(...STORE_OPTION)
    .action(async (o: DeviceOptions) => {
      await withStore(o, async (s) => {
        const input: DeviceCreate = {
          mac: o.mac, family: o.family as DeviceCreate['family'], extensions: extensions(o.ext) ?? [],
          ...(o.model !== undefined ? { model: o.model } : {}), ...(o.label !== undefined ? { label: o.label } : {}),
          ...(o.option ? { options: parseOptions(o.family, o.option) } : {}),
        };
        const { device, secrets } = await storeAsOptions(OPTION_OF, async () => {
          checkDeviceForFamily({ family: input.family, extensions: input.extensions, options: input.options ?? {} });
          return s.devices.add(input);
        });
        print(`added device ${device.mac} (${device.family}, lines ${device.extensions.join(',')})`);
        await printSecrets(o, device.mac, secrets, s);
      });
    });

  dev.command('set').description("change a device's lines, model, label, options or enabled state")
    .requiredOption('--mac <mac>', 'the device')
    .option('--family <family>', families)
    .option('--ext <list>', 'the users it registers, line 1 first')
    .option('--model <model>', 'model ("" for none)')
    .option('--label <text>', 'free text')
    .option('--option <key=value>', 'a family option (repeatable; replaces all options)', collect)
    .option('--enabled <on|off>', 'off: the device is refused its files (403)')
    .option(...DATA_DIR_OPTION)
    .option(...STORE_OPTION)
    .action(async (o: DeviceOptions) => {
      await withStore(o, async (s) => {
        const cur = await mustGet(s, o.mac);
        const family = (o.family ?? cur.family) as DeviceView['family'];
        const patch: DevicePatch = {
          ...(o.family !== undefined ? { family } : {}),
          ...(o.ext !== undefined ? { extensions: extensions(o.ext) } : {}),
          ...(o.model !== undefined ? { model: o.model === '' ? null : o.model } : {}),
          ...(o.label !== undefined ? { label: o.label } : {}),
          ...(o.option ? { options: parseOptions(family, o.option) } : {}),
          ...(o.enabled !== undefined ? { enabled: onOff('--enabled', o.enabled) } : {}),
        };
        const d = await storeAsOptions(OPTION_OF, async () => {
          checkDeviceForFamily({ family, extensions: patch.extensions ?? cur.extensions, options: patch.options ?? cur.options });
          return s.devices.update(o.mac, patch);
        });
        print(`changed device ${d.mac}`);
      });
    });

  dev.command('list').description('list devices with their last request')
    .option('--json', 'JSON')
    .option(...DATA_DIR_OPTION)
    .option(...STORE_OPTION)
    .action(async (o: DeviceOptions) => {
      const devices = await withStore(o, (s) => s.devices.list());
      if (o.json) print(JSON.stringify(devices, null, 2));
      else for (const d of devices) print(deviceLine(d));
    });

  dev.command('show').description('one device (no secrets)')
    .requiredOption('--mac <mac>', 'the device')
    .option(...DATA_DIR_OPTION)
    .option(...STORE_OPTION)
    .action(async (o: DeviceOptions) => {
      print(JSON.stringify(await withStore(o, (s) => mustGet(s, o.mac)), null, 2));
    });

  dev.command('remove').description('remove a device (its users stay)')
    .requiredOption('--mac <mac>', 'the device')
    .option(...DATA_DIR_OPTION)
    .option(...STORE_OPTION)
    .action(async (o: DeviceOptions) => {
      const d = await withStore(o, (s) => s.devices.remove(o.mac));
      print(`removed device ${d.mac}`);
    });

  dev.command('secret').description('make a new provisioning password and token (the old ones stop working)')
    .requiredOption('--mac <mac>', 'the device')
    .requiredOption('--reset', 'make new ones (required: the current ones are never shown)')
    .option('--config <file>', 'the server\'s JSON config file (for the token URL)')
    .option(...DATA_DIR_OPTION)
    .option(...STORE_OPTION)
    .action(async (o: DeviceOptions) => {
      await withStore(o, async (s) => {
        const d = await mustGet(s, o.mac);
        await printSecrets(o, d.mac, await s.devices.resetSecrets(d.mac), s);
      });
    });

  provisionCommand(program).command('render').description('print the files a device would get (SIP passwords masked unless --show-secrets)')
    .requiredOption('--mac <mac>', 'the device')
    .option('--file <name>', 'only this file')
    .option('--show-secrets', 'print files that carry SIP passwords as they are')
    .option('--config <file>', 'the server\'s JSON config file')
    .option(...DATA_DIR_OPTION)
    .option(...STORE_OPTION)
    .action(async (o: DeviceOptions) => {
      await withStore(o, async (s) => {
        const d = await mustGet(s, o.mac);
        const site = await siteFromDataDir(await cliConfig(o), resolveDataDir(o.dataDir), s.admin.settings);
        let result;
        try {
          result = await renderDevice(s.users, site, d);
        } catch (err) {
          if (err instanceof ProvisioningRefusal) throw new CliError(`refused: ${err.message}`);
          throw err;
        }
        const files = o.file === undefined ? result.files : result.files.filter((f) => f.name.toLowerCase() === o.file!.toLowerCase());
        if (files.length === 0) throw new CliError(`${d.mac} gets no file ${o.file}; it gets ${result.files.map((f) => f.name).join(', ')}`);
        for (const w of result.warnings) process.stderr.write(`warning: ${w}\n`);
        const passwords = (await deviceLines(s.users, d)).map((l) => l.password).filter((p) => p !== '');
        for (const f of files) {
          print(`==> ${f.name} (${f.contentType}${f.credentials ? ', carries credentials' : ''}) <==`);
          if (typeof f.body !== 'string') {
            print(`(${f.body.length} bytes of binary data)`);
            continue;
          }
          // SIP passwords stay off the screen unless asked for.
          const body = f.credentials && !o.showSecrets ? passwords.reduce((t, p) => t.split(p).join('********'), f.body) : f.body;
          process.stdout.write(body.endsWith('\n') ? body : `${body}\n`);
        }
      });
    });
}
