// A backup carries the certificate state, not only the keys: an issued
// identity's metadata (so the next start keeps it rather than re-making an
// automatic one), the telephony identity, the trusted CAs and the client
// families chosen. Before, only ca.* and server.* travelled, and a restored
// server replaced the administrator's identity at its first start.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { createRootCa } from '../../../src/security/ca.ts';
import { createBackup, readBackup, restoreInto } from '../../../src/ops/backup.ts';
import { ensureCertificates } from '../../../src/security/certs.ts';
import { issueIdentity, readIdentity } from '../../../src/security/identity-store.ts';
import { addTrustedCas, listTrustedCas } from '../../../src/security/trust-store.ts';
import { readSelectedFamilies, writeSelectedFamilies } from '../../../src/security/client-family-selection.ts';
import { openStore } from '../../../src/store/index.ts';

const names = { hostName: 'pbx.example.com', ipAddresses: ['192.0.2.10'], sipDomain: 'example.com' };

it('restores the issued and telephony identities, the trusted CAs and the client families, and the next start keeps them', async () => {
  const from = mkdtempSync(join(tmpdir(), 'sb-certbak-'));
  (await openStore(from).close());
  await ensureCertificates(from, names);
  const main = await issueIdentity(from, 'main', { commonName: 'custom.example.com', san: { dns: ['custom.example.com'], ips: [], uris: [] }, days: 400 });
  const tel = await issueIdentity(from, 'telephony', { commonName: 'sip.example.com', san: { dns: ['sip.example.com'], ips: [], uris: ['sip:example.com'] }, days: 400 });
  const upstream = await createRootCa();
  await addTrustedCas(from, Buffer.from(upstream.certPem), 'upstream');
  await writeSelectedFamilies(from, ['avaya-e129']);

  const to = join(mkdtempSync(join(tmpdir(), 'sb-certbak-')), 'data');
  await restoreInto(to, readBackup((await createBackup(from)).archive));

  // The start after the restore: the names differ from the automatic ones, and still nothing is replaced.
  const set = await ensureCertificates(to, names);
  expect(set.identityRenewed).toBe(false);
  expect(set.fingerprintSha256).toBe(main.certificate.fingerprintSha256);
  expect((await readIdentity(to, 'main'))!.source).toBe('issued');
  expect((await readIdentity(to, 'telephony'))!.certificate.fingerprintSha256).toBe(tel.certificate.fingerprintSha256);
  expect((await listTrustedCas(to)).map((c) => c.label)).toEqual(['upstream']);
  expect(await readSelectedFamilies(to)).toEqual(['avaya-e129']);
});
