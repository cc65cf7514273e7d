// `switchboard trunk ...` and `switchboard did ...`. The running server polls
// the trunk revision and reloads both lists when it moves.
import type { Command } from 'commander';
import type { Did, Trunk } from '../store/types.ts';
import { DATA_DIR_OPTION, STORE_OPTION, print, withStore } from './common.ts';
import { asOptions, storeAsOptions, integer } from './options.ts';

/** Store field -> option, for error messages. */
const TRUNK_OPTION_OF: Record<string, string> = {
  name: '--name',
  host: '--host',
  port: '--port',
  transport: '--transport',
  registerUser: '--register-user',
  registerPassword: '--register-password',
  outboundProxy: '--outbound-proxy',
  prefix: '--prefix',
  strip: '--strip',
  addPrefix: '--add-prefix',
  fallbackTrunk: '--fallback',
  probeIntervalSec: '--probe-interval',
};

const DID_OPTION_OF: Record<string, string> = { number: '--number', extension: '--ext' };

/** What `trunk list` shows of a trunk: never the credentials, only whether there are any. */
function trunkView(t: Trunk) {
  return {
    name: t.name,
    host: t.host,
    port: t.port,
    transport: t.transport,
    register: t.registerUser !== null,
    outboundProxy: t.outboundProxy,
    prefix: t.prefix,
    strip: t.strip,
    addPrefix: t.addPrefix,
    fallbackTrunk: t.fallbackTrunk,
    probeIntervalSec: t.probeIntervalSec,
    enabled: t.enabled,
  };
}

function trunkLine(t: Trunk): string {
  const host = t.host.includes(':') ? `[${t.host}]` : t.host;
  return [
    t.name, `${host}:${t.port}/${t.transport}`, `prefix=${t.prefix}`, `strip=${t.strip}`, `add-prefix=${t.addPrefix}`,
    `register=${t.registerUser !== null ? 'yes' : 'no'}`, `proxy=${t.outboundProxy ?? '-'}`, `fallback=${t.fallbackTrunk ?? '-'}`,
    `probe=${t.probeIntervalSec === null ? 'default' : t.probeIntervalSec === 0 ? 'off' : `${t.probeIntervalSec}s`}`,
    t.enabled ? 'enabled' : 'disabled',
  ].join('\t');
}

function didView(d: Did) {
  return { number: d.number, extension: d.extension };
}

interface TrunkAddOptions {
  name: string;
  host: string;
  port?: string;
  transport?: string;
  registerUser?: string;
  registerPassword?: string;
  outboundProxy?: string;
  prefix?: string;
  strip?: string;
  addPrefix?: string;
  fallback?: string;
  probeInterval?: string;
  dataDir?: string; store?: string;
}

/** `--probe-interval SEC|default|off`: its own period, the system's, or not probed. */
function probeOption(v: string | undefined): number | null | undefined {
  if (v === undefined) return undefined;
  if (v === 'default') return null;
  return v === 'off' ? 0 : integer('--probe-interval', v, 5, 3600);
}

/** `--fallback none` clears it. */
function fallbackOption(v: string | undefined): string | null | undefined {
  return v === undefined ? undefined : v === 'none' ? null : v;
}

export function registerTrunkCommands(program: Command): void {
  const trunk = program.command('trunk').description('manage SIP trunks (outbound peers and their dialled-number prefixes)');

  trunk
    .command('add')
    .description('add a trunk')
    .requiredOption('--name <name>', 'trunk name (letters, digits, _.-)')
    .requiredOption('--host <host>', 'host name or IP address of the peer')
    .option('--port <port>', 'port of the peer (default 5060, 5061 for tls)')
    .option('--transport <udp|tcp|tls>', 'transport (default udp)')
    .option('--register-user <user>', 'register to the peer with this user (needs --register-password)')
    .option('--register-password <secret>', 'password for registering and answering the peer\'s challenges')
    .option('--outbound-proxy <host:port>', 'send requests here instead of host:port')
    .option('--prefix <digits>', 'dialled numbers starting with this go to this trunk (default: every number)')
    .option('--strip <n>', 'digits removed from the front of the dialled number (default 0)')
    .option('--add-prefix <digits>', 'digits put in front after stripping')
    .option('--fallback <trunk>', 'trunk that takes the calls while this one is down (no answer to OPTIONS); default none: they get 503')
    .option('--probe-interval <sec|default|off>', 'seconds between OPTIONS probes (default: trunkHealth.intervalSec); off for a peer that ignores OPTIONS')
    .option(...DATA_DIR_OPTION)
    .option(...STORE_OPTION)
    .action(async (o: TrunkAddOptions) => {
      const port = integer('--port', o.port, 1, 65535);
      const strip = integer('--strip', o.strip, 0, 32);
      const t = await withStore(o, (s) =>
        storeAsOptions(TRUNK_OPTION_OF, async () =>
          await s.trunks.add({
            name: o.name,
            host: o.host,
            port,
            transport: o.transport as Trunk['transport'] | undefined,
            registerUser: o.registerUser ?? null,
            registerPassword: o.registerPassword ?? null,
            outboundProxy: o.outboundProxy ?? null,
            prefix: o.prefix,
            strip,
            addPrefix: o.addPrefix,
            fallbackTrunk: fallbackOption(o.fallback) ?? null,
            probeIntervalSec: probeOption(o.probeInterval) ?? null,
          }),
        ),
      );
      print(`added trunk ${t.name}`);
    });

  trunk
    .command('set')
    .description("change a trunk's health settings: its fallback and its probe period")
    .requiredOption('--name <name>', 'trunk name')
    .option('--fallback <trunk|none>', "trunk that takes the calls while this one is down; 'none' for none")
    .option('--probe-interval <sec|default|off>', 'seconds between OPTIONS probes; default: the system\'s; off: not probed')
    .option(...DATA_DIR_OPTION)
    .option(...STORE_OPTION)
    .action(async (o: { name: string; fallback?: string; probeInterval?: string; dataDir?: string; store?: string }) => {
      const probeIntervalSec = probeOption(o.probeInterval);
      const t = await withStore(o, (s) => storeAsOptions(TRUNK_OPTION_OF, async () =>
        await s.trunks.update(o.name, { fallbackTrunk: fallbackOption(o.fallback), probeIntervalSec })));
      const probe = t.probeIntervalSec === null ? 'default' : t.probeIntervalSec === 0 ? 'off' : `${t.probeIntervalSec}s`;
      print(`trunk ${t.name}: fallback ${t.fallbackTrunk ?? 'none'}, probe ${probe}`);
    });

  trunk
    .command('list')
    .description('list trunks (credentials shown only as register=yes/no)')
    .option('--json', 'print JSON')
    .option(...DATA_DIR_OPTION)
    .option(...STORE_OPTION)
    .action(async (o: { json?: boolean; dataDir?: string; store?: string }) => {
      const trunks = await withStore(o, async (s) => await s.trunks.list());
      if (o.json) print(JSON.stringify(trunks.map(trunkView)));
      else for (const t of trunks) print(trunkLine(t));
    });

  trunk
    .command('remove')
    .description('remove a trunk')
    .requiredOption('--name <name>', 'trunk name')
    .option(...DATA_DIR_OPTION)
    .option(...STORE_OPTION)
    .action(async (o: { name: string; dataDir?: string; store?: string }) => {
      const t = await withStore(o, async (s) => await s.trunks.remove(o.name));
      print(`removed trunk ${t.name}`);
    });

  const did = program.command('did').description('manage inbound numbers (DIDs) arriving from trunks');

  did
    .command('add')
    .description('route calls for a number arriving from a trunk to an extension')
    .requiredOption('--number <number>', "the DID, digits with an optional leading '+'")
    .requiredOption('--ext <extension>', "extension to ring (or an IVR menu's number)")
    .option(...DATA_DIR_OPTION)
    .option(...STORE_OPTION)
    .action(async (o: { number: string; ext: string; dataDir?: string; store?: string }) => {
      const d = await withStore(o, (s) => storeAsOptions(DID_OPTION_OF, async () => await s.trunks.addDid(o.number, o.ext)));
      print(`added DID ${d.number} -> ${d.extension}`);
    });

  did
    .command('list')
    .description('list DIDs')
    .option('--json', 'print JSON')
    .option(...DATA_DIR_OPTION)
    .option(...STORE_OPTION)
    .action(async (o: { json?: boolean; dataDir?: string; store?: string }) => {
      const dids = await withStore(o, async (s) => await s.trunks.listDids());
      if (o.json) print(JSON.stringify(dids.map(didView)));
      else for (const d of dids) print(`${d.number}\t${d.extension}`);
    });

  did
    .command('remove')
    .description('remove a DID')
    .requiredOption('--number <number>', 'the DID')
    .option(...DATA_DIR_OPTION)
    .option(...STORE_OPTION)
    .action(async (o: { number: string; dataDir?: string; store?: string }) => {
      const d = await withStore(o, async (s) => await s.trunks.removeDid(o.number));
      print(`removed DID ${d.number}`);
    });
}
