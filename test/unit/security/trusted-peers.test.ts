import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRootCa, generateRsaKeys, issueCertificate } from '../../../src/security/ca.ts';
import type { CaMaterial } from '../../../src/security/ca.ts';
import { certificateNames } from '../../../src/sip/transport/tls-peer.ts';
import {
  MAX_TRUSTED_PEERS, TRUSTED_PEERS_SETTING, TrustedPeers, addTrustedPeer, matchTrustedPeer, mergePeers, parseStoredPeers, removeTrustedPeer, trustedPeerName,
} from '../../../src/security/trusted-peers.ts';
import type { SettingsRepository } from '../../../src/store/admin-types.ts';
import { configSchema } from '../../../src/config/schema.ts';
import { silentLogger } from '../../../src/lib/log.ts';
import { tempStores } from '../store/helpers.ts';

/** The real SQLite settings table of a fresh store, closed after the tests. */
const opened: ReturnType<typeof tempStores>[] = [];
afterAll(async () => {
  for (const s of opened) await s.cleanup();
});
function settingsTable(): SettingsRepository & { has(key: string): Promise<boolean> } {
  const stores = tempStores();
  opened.push(stores);
  const repo = stores.open().admin.settings;
  return Object.assign(repo, { has: async (k: string) => k in (await repo.getAll()) });
}

describe('certificateNames (RFC 6125 §6.4.4)', () => {
  it('takes the DNS subjectAltNames, lower case, without a trailing dot, ignoring IP and URI entries', () => {
    expect(certificateNames({
      subjectaltname: 'DNS:GW.Example.Test, IP Address:127.0.0.1, URI:sip:example.test, DNS:pool.example.test.',
      subject: { CN: 'other.example.test' } as tls.Certificate,
    })).toEqual(['gw.example.test', 'pool.example.test']);
  });

  it('ignores the CN when the certificate has DNS SANs', () => {
    expect(certificateNames({ subjectaltname: 'DNS:a.example.test', subject: { CN: 'gw.example.test' } as tls.Certificate })).toEqual(['a.example.test']);
  });

  it('falls back to the CN only without DNS SANs', () => {
    expect(certificateNames({ subjectaltname: undefined as unknown as string, subject: { CN: 'GW.example.test' } as tls.Certificate })).toEqual(['gw.example.test']);
    expect(certificateNames({ subjectaltname: 'IP Address:10.0.0.1', subject: { CN: 'gw.example.test' } as tls.Certificate })).toEqual(['gw.example.test']);
  });

  it('drops quoted or otherwise malformed names, and an ambiguous pair of CNs', () => {
    expect(certificateNames({ subjectaltname: 'DNS:"evil.test, DNS:gw.example.test"', subject: { CN: 'gw.example.test' } as tls.Certificate })).toEqual([]);
    expect(certificateNames({ subjectaltname: '', subject: { CN: ['gw.example.test', 'x.example.test'] } as unknown as tls.Certificate })).toEqual([]);
    expect(certificateNames({ subjectaltname: '', subject: { CN: 'not a name' } as tls.Certificate })).toEqual([]);
  });
});

describe('certificateNames on a real handshake', () => {
  let ca: CaMaterial;
  let keys: CryptoKeyPair;
  beforeAll(async () => {
    ca = await createRootCa();
    keys = await generateRsaKeys();
  });

  /** The peer certificate a TLS server sees from a client presenting `cert`. */
  async function seenByServer(cert: { certPem: string; keyPem: string }): Promise<{ authorized: boolean; names: string[] }> {
    const id = await issueCertificate(ca, { commonName: 'server.example.test', dns: ['server.example.test'], days: 5, keys });
    const srv = tls.createServer({ key: id.keyPem, cert: id.certPem, ca: [ca.certPem], requestCert: true, rejectUnauthorized: false });
    const seen = new Promise<{ authorized: boolean; names: string[] }>((resolve) => {
      srv.on('secureConnection', (s) => {
        resolve({ authorized: s.authorized, names: certificateNames(s.getPeerCertificate()) });
        s.end();
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as net.AddressInfo).port;
    const c = tls.connect({ host: '127.0.0.1', port, key: cert.keyPem, cert: cert.certPem, rejectUnauthorized: false });
    c.on('error', () => {});
    try {
      return await seen;
    } finally {
      c.destroy();
      srv.close();
    }
  }

  it('reports the SAN DNS names of a client certificate issued by our CA', async () => {
    const client = await issueCertificate(ca, { commonName: 'ignored.example.test', dns: ['GW.example.test', 'gw2.example.test'], ips: ['127.0.0.1'], days: 5, keys, usage: 'client' });
    expect(await seenByServer(client)).toEqual({ authorized: true, names: ['gw.example.test', 'gw2.example.test'] });
  });
});

describe('trusted peer names', () => {
  it('accepts fully qualified names in any case, with or without the trailing dot', () => {
    expect(trustedPeerName(' GW.Example.Test. ')).toBe('gw.example.test');
  });

  it('refuses wildcards, single labels, IP addresses and junk', () => {
    for (const bad of ['*.example.test', 'gw', '127.0.0.1', '10.0.0.1', '', 'gw..example.test', '-gw.example.test', 'gw example.test']) {
      expect(trustedPeerName(bad), bad).toBeUndefined();
    }
  });

  it('matches a verified peer by exact name, case folded; a wildcard certificate name does not match', () => {
    const trusted = new Set(['gw.example.test']);
    expect(matchTrustedPeer({ names: ['x.example.test', 'gw.example.test'] }, trusted)).toBe('gw.example.test');
    expect(matchTrustedPeer({ names: ['*.example.test'] }, trusted)).toBeUndefined();
    expect(matchTrustedPeer({ names: ['gw.example.test.evil'] }, trusted)).toBeUndefined();
    expect(matchTrustedPeer(undefined, trusted)).toBeUndefined();
    expect(matchTrustedPeer({ names: ['gw.example.test'] }, new Set())).toBeUndefined();
    // The names a real certificate reports are folded the same way as the list.
    expect(matchTrustedPeer({ names: certificateNames({ subjectaltname: 'DNS:GW.EXAMPLE.TEST', subject: {} as tls.Certificate }) }, new Set([trustedPeerName('gw.Example.test')!]))).toBe('gw.example.test');
  });

  it('the config list is validated and folded by the schema', () => {
    expect(configSchema.parse({ sip: { trustedPeers: ['GW.example.test'] } }).sip.trustedPeers).toEqual(['gw.example.test']);
    expect(configSchema.safeParse({ sip: { trustedPeers: ['*.example.test'] } }).success).toBe(false);
    expect(configSchema.parse({}).sip.trustedPeers).toEqual([]);
  });

  it('the stored list is cleaned and merged after the config list', () => {
    expect(parseStoredPeers(['A.example.test', 'bad name', 7, 'a.example.test'])).toEqual(['a.example.test']);
    expect(parseStoredPeers('x')).toEqual([]);
    expect(mergePeers(['a.example.test'], ['a.example.test', 'b.example.test'])).toEqual([
      { name: 'a.example.test', source: 'config' }, { name: 'b.example.test', source: 'store' },
    ]);
  });
});

describe('stored trusted peers', () => {
  it('add, remove and the limit', async () => {
    const repo = settingsTable();
    expect(await addTrustedPeer(repo, 'GW.example.test')).toEqual(['gw.example.test']);
    expect(await addTrustedPeer(repo, 'gw.example.test')).toEqual(['gw.example.test']);
    await expect(addTrustedPeer(repo, '*.example.test')).rejects.toThrow(/fully qualified/);
    expect(await removeTrustedPeer(repo, 'gw.example.test')).toBe(true);
    expect(await repo.has(TRUSTED_PEERS_SETTING)).toBe(false);
    expect(await removeTrustedPeer(repo, 'gw.example.test')).toBe(false);
    for (let i = 0; i < MAX_TRUSTED_PEERS; i++) await addTrustedPeer(repo, `gw${i}.example.test`);
    await expect(addTrustedPeer(repo, 'one-more.example.test')).rejects.toThrow(/at most/);
  });

  it('a running list follows the store and says when it turns on and off', async () => {
    const repo = settingsTable();
    const changes: boolean[] = [];
    const peers = new TrustedPeers(['cfg.example.test'], repo, silentLogger, (active) => changes.push(active));
    expect(peers.active).toBe(true);
    const onlyStored = new TrustedPeers([], repo, silentLogger, (active) => changes.push(active));
    await onlyStored.poll();
    expect(onlyStored.active).toBe(false);
    await onlyStored.start(60_000);
    await addTrustedPeer(repo, 'gw.example.test');
    await onlyStored.poll();
    await peers.poll();
    expect(onlyStored.match({ names: ['gw.example.test'] })).toBe('gw.example.test');
    expect(peers.match({ names: ['gw.example.test'] })).toBe('gw.example.test');
    expect(peers.match({ names: ['cfg.example.test'] })).toBe('cfg.example.test');
    await removeTrustedPeer(repo, 'gw.example.test');
    await onlyStored.poll();
    expect(onlyStored.match({ names: ['gw.example.test'] })).toBeUndefined();
    onlyStored.stop();
    // `peers` was never started (its listener reads `active` itself); the other turned on, then off.
    expect(changes).toEqual([true, false]);
  });
});
