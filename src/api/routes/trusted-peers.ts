// /api/trusted-peers: the servers trusted over mutual TLS (SPEC D-06). The
// stored list is the one the CLI edits; the config file's sip.trustedPeers
// are listed beside it and changed there. A running server polls the store.
import { z } from 'zod';
import {
  TRUSTED_PEERS_SETTING, TrustedPeerError, addTrustedPeer, mergePeers, parseStoredPeers, removeTrustedPeer,
} from '../../security/trusted-peers.ts';
import { audit, type ApiContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import type { RouteTable } from '../route.ts';

const peerSchema = z.object({
  name: z.string().describe('FQDN the peer\'s TLS client certificate must name (DNS subjectAltName, or CN without one)'),
  source: z.enum(['config', 'store']).describe('config: the config file\'s sip.trustedPeers (change it there); store: added by the CLI or API'),
});
const listSchema = z.object({ items: z.array(peerSchema) });
const nameParams = z.object({ name: z.string().min(1).max(253) }).strict();

export function trustedPeerRoutes(t: RouteTable, ctx: ApiContext): void {
  const list = async () => ({
    items: mergePeers(ctx.config.sip.trustedPeers, parseStoredPeers(await ctx.admin.settings.get(TRUSTED_PEERS_SETTING))),
  });

  t.add({
    method: 'GET', url: '/api/trusted-peers', tag: 'settings', access: 'read',
    summary: 'Servers trusted over mutual TLS',
    description: 'Requests over a TLS connection whose client certificate chains to our CA or an imported trusted CA and names ' +
      'one of these FQDNs are authenticated without a digest for the users of the directory (D-06). While the list is not ' +
      'empty the SIP TLS listener asks clients for a certificate; phones without one still connect and use their password.',
    response: { description: 'config file entries first', schema: listSchema },
    handler: list,
  });

  t.add({
    method: 'POST', url: '/api/trusted-peers', tag: 'settings', access: 'security',
    summary: 'Trust a server',
    description: 'Applies to new requests within a second, without a restart.',
    body: z.object({ name: z.string().min(1).max(254) }).strict(),
    response: { description: 'the list after the change', schema: listSchema },
    errors: [400],
    handler: async (req) => {
      const before = parseStoredPeers(await ctx.admin.settings.get(TRUSTED_PEERS_SETTING));
      try {
        await addTrustedPeer(ctx.admin.settings, req.body.name);
      } catch (err) {
        if (err instanceof TrustedPeerError) throw new ApiError(400, 'validation', err.message);
        throw err;
      }
      const after = await list();
      await audit(ctx, req, 'trusted-peers', before, after.items.map((p) => p.name), 'trust server');
      return after;
    },
  });

  t.add({
    method: 'DELETE', url: '/api/trusted-peers/:name', tag: 'settings', access: 'security',
    summary: 'Stop trusting a server',
    description: 'Removes a stored entry; its open connections lose the trust with their next request. Config file entries are removed there.',
    params: nameParams,
    response: { description: 'the list after the change', schema: listSchema },
    errors: [404],
    handler: async (req) => {
      const before = parseStoredPeers(await ctx.admin.settings.get(TRUSTED_PEERS_SETTING));
      if (!(await removeTrustedPeer(ctx.admin.settings, req.params.name))) {
        throw new ApiError(404, 'not-found', `${req.params.name} is not a stored trusted peer`);
      }
      const after = await list();
      await audit(ctx, req, 'trusted-peers', before, after.items.map((p) => p.name), 'untrust server');
      return after;
    },
  });
}
