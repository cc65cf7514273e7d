// `switchboard trusted-peer add|list|remove <fqdn>`: the trusted servers of
// SPEC D-06, stored in the database; a running server picks changes up
// within a second (src/security/trusted-peers.ts).
import type { Command } from 'commander';
import { DATA_DIR_OPTION, STORE_OPTION, CliError, print, withStore } from './common.ts';
import {
  TRUSTED_PEERS_SETTING, TrustedPeerError, addTrustedPeer, parseStoredPeers, removeTrustedPeer,
} from '../security/trusted-peers.ts';

type Where = { dataDir?: string; store?: string };

async function cliErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof TrustedPeerError) throw new CliError(err.message);
    throw err;
  }
}

export function registerTrustedPeerCommands(program: Command): void {
  const peers = program.command('trusted-peer').description('servers trusted over mutual TLS: their requests for our users need no digest (D-06)');
  peers.command('add <fqdn>')
    .description('trust the server whose TLS client certificate names FQDN (its CA must be ours or imported with `cert trust add`)')
    .option(...DATA_DIR_OPTION).option(...STORE_OPTION)
    .action(async (fqdn: string, o: Where) => {
      const list = await cliErrors(() => withStore(o, async (s) => await addTrustedPeer(s.admin.settings, fqdn)));
      print(`trusted peers: ${list.join(', ')}`);
    });
  peers.command('remove <fqdn>')
    .description('stop trusting a server added with `trusted-peer add` (open connections lose the trust with their next request)')
    .option(...DATA_DIR_OPTION).option(...STORE_OPTION)
    .action(async (fqdn: string, o: Where) => {
      const removed = await withStore(o, async (s) => await removeTrustedPeer(s.admin.settings, fqdn));
      if (!removed) throw new CliError(`${fqdn} is not a stored trusted peer (names in the config file's sip.trustedPeers are changed there)`);
      print(`removed ${fqdn}`);
    });
  peers.command('list')
    .description('the stored trusted peers (the config file\'s sip.trustedPeers apply besides them)')
    .option(...DATA_DIR_OPTION).option(...STORE_OPTION)
    .option('--json', 'print as JSON')
    .action(async (o: Where & { json?: boolean }) => {
      const list = parseStoredPeers(await withStore(o, async (s) => await s.admin.settings.get(TRUSTED_PEERS_SETTING)));
      if (o.json) print(JSON.stringify(list));
      else for (const name of list) print(name);
    });
}
