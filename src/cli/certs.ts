// `switchboard cert ...`: the identities, trusted CAs and client families in
// the data directory (SPEC §4.3, A-17, A-29, B-18). Every change applies at
// once on a running server (cert-apply.ts) and says what changed.
import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { exportCa } from '../security/certs.ts';
import { CertificateParseError } from '../security/cert-info.ts';
import { CLIENT_FAMILIES } from '../security/client-families.ts';
import type { ClientFamily } from '../security/client-families.ts';
import { readSelectedFamilies, writeSelectedFamilies } from '../security/client-family-selection.ts';
import {
  IdentityImportError, importIdentity, issueIdentity, proposedSans, removeTelephonyIdentity, setOfferChain,
} from '../security/identity-store.ts';
import type { IdentityImportSource, IdentityRole, IdentitySummary, SanLists } from '../security/identity-store.ts';
import { Pkcs12Error } from '../security/pkcs12.ts';
import { addTrustedCas, exportTrustedCa, listTrustedCas, removeTrustedCa, TrustStoreError } from '../security/trust-store.ts';
import { applyAndReport } from './cert-apply.ts';
import { formatOverview, overviewFor, SITE_OPTIONS, siteOf } from './cert-show.ts';
import type { SiteOptions } from './cert-show.ts';
import { CliError, DATA_DIR_OPTION, print, resolveDataDir } from './common.ts';

interface DataDirOption {
  dataDir?: string;
}

/** "DNS:a,IP:b,URI:sip:c" (commas or spaces between entries). */
export function parseSanList(text: string): SanLists {
  const san: SanLists = { dns: [], ips: [], uris: [] };
  for (const entry of text.split(/[\s,]+/).filter(Boolean)) {
    const colon = entry.indexOf(':');
    const kind = entry.slice(0, colon).toUpperCase();
    const value = entry.slice(colon + 1);
    if (colon <= 0 || value === '') throw new CliError(`--san entry ${JSON.stringify(entry)}: write DNS:name, IP:address or URI:sip:domain`);
    if (kind === 'DNS') san.dns.push(value);
    else if (kind === 'IP') san.ips.push(value);
    else if (kind === 'URI') san.uris.push(value);
    else throw new CliError(`--san entry ${JSON.stringify(entry)}: the kind is DNS, IP or URI`);
  }
  return san;
}

export function formatSans(san: SanLists): string {
  return [...san.dns.map((d) => `DNS:${d}`), ...san.ips.map((i) => `IP:${i}`), ...san.uris.map((u) => `URI:${u}`)].join(', ');
}

/** Errors of the certificate library that are the administrator's to fix: one line, exit 2. */
async function asCliErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof IdentityImportError || err instanceof Pkcs12Error || err instanceof TrustStoreError || err instanceof CertificateParseError) {
      throw new CliError(err.message);
    }
    if (err instanceof TypeError || err instanceof RangeError) throw new CliError(err.message);
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new CliError(`no certificates in this data directory yet (start the server once to create them): ${(err as Error).message}`);
    }
    throw err;
  }
}

async function readInput(file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new CliError(`cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function describeIdentity(verb: string, id: IdentitySummary): string {
  const c = id.certificate;
  return `${verb} ${id.role} identity: ${c.subject}; names ${c.subjectAltNames.join(', ') || 'none'}; valid to ${c.notAfter.toISOString().slice(0, 10)}; SHA-256 ${c.fingerprintSha256}`;
}

/** after a change, what the identity now lacks for the site's client families. */
async function printFamilyWarnings(o: SiteOptions, dataDir: string): Promise<void> {
  const overview = await overviewFor(o, dataDir).catch((err: NodeJS.ErrnoException) => {
    // No identity yet (never started): nothing to check it against.
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  for (const w of overview?.warnings ?? []) if (w.kind === 'san' || w.kind === 'self-signed') print(`warning: ${w.text}`);
}

const roleOf = (o: { telephony?: boolean }): IdentityRole => (o.telephony ? 'telephony' : 'main');

export function registerCertCommands(program: Command): void {
  const cert = program.command('cert').description('certificates: identities, trusted CAs, client families (changes apply at once on a running server)');
  cert
    .command('export-ca')
    .description('write the root CA certificate for phones and tools to trust')
    .requiredOption('--out <file>', 'output file')
    .option('--der', 'DER instead of PEM')
    .option(...DATA_DIR_OPTION)
    .action(async (o: { out: string; der?: boolean; dataDir?: string }) => {
      let data: Buffer;
      try {
        data = await exportCa(resolveDataDir(o.dataDir), o.der ? 'der' : 'pem');
      } catch (err) {
        throw new CliError(`no root CA in ${resolveDataDir(o.dataDir)} (start the server once to create it): ${(err as Error).message}`);
      }
      await writeFile(o.out, data);
      print(`wrote ${o.out}`);
    });
  cert
    .command('apply')
    .description('make the running server present what the data directory holds now (as SIGHUP), and say what changed')
    .option(...DATA_DIR_OPTION)
    .action(async (o: DataDirOption) => {
      await applyAndReport(resolveDataDir(o.dataDir));
    });
  cert
    .command('show')
    .description('identities in use (subject, names, issuer, validity, SHA-256, source, offer chain), trusted CAs, warnings')
    .option('--json', 'print as JSON')
    .option(...SITE_OPTIONS.config)
    .option(...SITE_OPTIONS.domain)
    .option(...DATA_DIR_OPTION)
    .action(async (o: SiteOptions & DataDirOption & { json?: boolean }) => {
      const overview = await asCliErrors(() => overviewFor(o, resolveDataDir(o.dataDir)));
      if (o.json) print(JSON.stringify(overview, null, 2));
      else for (const line of formatOverview(overview)) print(line);
    });
  cert
    .command('issue')
    .description('issue a new identity from the internal CA (SHA-256, RSA-2048); without --san, the names SPEC §4.3 proposes')
    .option('--cn <name>', 'common name (default: this host\'s name)')
    .option('--san <list>', 'names, e.g. DNS:pbx.example.com,IP:10.0.0.5,URI:sip:example.com')
    .option('--days <n>', 'validity in days (default 2555)')
    .option('--telephony', 'the separate telephony identity SIP TLS presents (A-17), not the main one')
    .option('--e129', 'also write the LAN addresses as DNS names, as Avaya E129 phones check them (with the proposed names)')
    .option(...SITE_OPTIONS.config)
    .option(...SITE_OPTIONS.domain)
    .option(...DATA_DIR_OPTION)
    .action(async (o: SiteOptions & DataDirOption & { cn?: string; san?: string; days?: string; telephony?: boolean; e129?: boolean }) => {
      const dataDir = resolveDataDir(o.dataDir);
      const site = await siteOf(o, dataDir);
      const selected = await readSelectedFamilies(dataDir);
      const san = o.san !== undefined ? parseSanList(o.san) : proposedSans({ ...site, e129: o.e129 === true || selected.includes('avaya-e129') });
      const days = o.days === undefined ? undefined : Number(o.days);
      if (days !== undefined && !(Number.isInteger(days) && days > 0 && days <= 36500)) throw new CliError('--days: a whole number of days, 1 to 36500');
      if (o.san === undefined) print(`proposed names: ${formatSans(san)}`);
      const id = await asCliErrors(() => issueIdentity(dataDir, roleOf(o), { commonName: o.cn ?? site.fqdn, san, days }));
      print(describeIdentity('issued', id));
      await printFamilyWarnings(o, dataDir);
      await applyAndReport(dataDir);
    });
  cert
    .command('import')
    .description('use an identity made elsewhere: PKCS#12 (--p12, --password) or PEM (--key and --chain, the certificate first)')
    .option('--p12 <file>', 'PKCS#12 file (.p12/.pfx) with the key and the chain')
    .option('--password <secret>', 'the PKCS#12 password (visible to other local users in the process list: prefer --password-file)')
    .option('--password-file <file>', 'read the PKCS#12 password from the first line of this file')
    .option('--key <file>', 'PEM private key')
    .option('--chain <file>', 'PEM certificate and its intermediates')
    .option('--telephony', 'as the separate telephony identity SIP TLS presents (A-17)')
    .option(...SITE_OPTIONS.config)
    .option(...SITE_OPTIONS.domain)
    .option(...DATA_DIR_OPTION)
    .action(async (o: SiteOptions & DataDirOption & { p12?: string; password?: string; passwordFile?: string; key?: string; chain?: string; telephony?: boolean }) => {
      const dataDir = resolveDataDir(o.dataDir);
      let src: IdentityImportSource;
      if (o.p12 !== undefined) {
        if (o.key !== undefined || o.chain !== undefined) throw new CliError('give either --p12 or --key and --chain, not both');
        if (o.password !== undefined && o.passwordFile !== undefined) throw new CliError('give --password or --password-file, not both');
        const password = o.passwordFile !== undefined ? (await readInput(o.passwordFile, 'password file')).toString('utf8').split(/\r?\n/, 1)[0] : o.password;
        src = { p12: await readInput(o.p12, 'PKCS#12 file'), password };
      } else if (o.key !== undefined && o.chain !== undefined) {
        src = { keyPem: (await readInput(o.key, 'key file')).toString('utf8'), chainPem: (await readInput(o.chain, 'chain file')).toString('utf8') };
      } else {
        throw new CliError('give --p12 FILE [--password P], or --key FILE and --chain FILE');
      }
      const id = await asCliErrors(() => importIdentity(dataDir, roleOf(o), src));
      print(describeIdentity('imported', id));
      await printFamilyWarnings(o, dataDir);
      await applyAndReport(dataDir);
    });
  cert
    .command('offer-chain')
    .description('A-17 "Offer ID Certificate Chain": send the intermediates in handshakes (on) or the identity alone (off)')
    .argument('<on|off>')
    .option('--telephony', 'for the telephony identity')
    .option(...DATA_DIR_OPTION)
    .action(async (state: string, o: DataDirOption & { telephony?: boolean }) => {
      if (state !== 'on' && state !== 'off') throw new CliError('offer-chain: on or off');
      const dataDir = resolveDataDir(o.dataDir);
      const id = await asCliErrors(() => setOfferChain(dataDir, roleOf(o), state === 'on'));
      print(`${id.role} identity: offer chain ${id.offerChain ? 'on' : 'off'} (${id.chain.length} certificate(s) after it)`);
      await applyAndReport(dataDir);
    });
  cert
    .command('remove-telephony')
    .description('remove the telephony identity: SIP TLS presents the main identity again')
    .option(...DATA_DIR_OPTION)
    .action(async (o: DataDirOption) => {
      const dataDir = resolveDataDir(o.dataDir);
      if (!(await removeTelephonyIdentity(dataDir))) throw new CliError('there is no telephony identity');
      print('removed the telephony identity');
      await applyAndReport(dataDir);
    });
  registerTrustCommands(cert);
  registerFamilyCommands(cert);
}

function registerTrustCommands(cert: Command): void {
  const trust = cert.command('trust').description('CAs trusted for outbound TLS (trunks) and mutual TLS peers, besides the internal root');
  trust
    .command('add')
    .description('trust the CA certificates in a file (PEM, several at once, DER or .cer)')
    .argument('<file>')
    .option('--label <text>', 'a name for it (default: its CN)')
    .option(...DATA_DIR_OPTION)
    .action(async (file: string, o: DataDirOption & { label?: string }) => {
      const dataDir = resolveDataDir(o.dataDir);
      const added = await asCliErrors(async () => addTrustedCas(dataDir, await readInput(file, 'certificate file'), o.label));
      for (const t of added) print(`trusted ${t.label}: ${t.certificate.subject}, SHA-256 ${t.certificate.fingerprintSha256}`);
      await applyAndReport(dataDir);
    });
  trust
    .command('remove')
    .description('stop trusting a CA, named by its SHA-256 fingerprint or a unique start of it')
    .argument('<fingerprint>')
    .option(...DATA_DIR_OPTION)
    .action(async (fingerprint: string, o: DataDirOption) => {
      const dataDir = resolveDataDir(o.dataDir);
      const removed = await asCliErrors(() => removeTrustedCa(dataDir, fingerprint));
      print(`no longer trusted: ${removed.label} (${removed.certificate.subject})`);
      await applyAndReport(dataDir);
    });
  trust
    .command('list')
    .description('the trusted CAs')
    .option('--json', 'print as JSON')
    .option(...DATA_DIR_OPTION)
    .action(async (o: DataDirOption & { json?: boolean }) => {
      const list = await asCliErrors(() => listTrustedCas(resolveDataDir(o.dataDir)));
      if (o.json) print(JSON.stringify(list.map((t) => ({ fingerprint: t.fingerprint, label: t.label, subject: t.certificate.subject, validTo: t.certificate.notAfter.toISOString() })), null, 2));
      else if (list.length === 0) print('no trusted CAs besides the internal root');
      else for (const t of list) print(`${t.fingerprint} ${t.label}: ${t.certificate.subject}, valid to ${t.certificate.notAfter.toISOString().slice(0, 10)}`);
    });
  trust
    .command('export')
    .description('write a trusted CA certificate (PEM, or DER with --der)')
    .argument('<fingerprint>')
    .requiredOption('--out <file>', 'output file')
    .option('--der', 'DER instead of PEM')
    .option(...DATA_DIR_OPTION)
    .action(async (fingerprint: string, o: DataDirOption & { out: string; der?: boolean }) => {
      const data = await asCliErrors(() => exportTrustedCa(resolveDataDir(o.dataDir), fingerprint, o.der ? 'der' : 'pem'));
      await writeFile(o.out, data);
      print(`wrote ${o.out}`);
    });
}

function registerFamilyCommands(cert: Command): void {
  const families = cert.command('families').description(`the client families this site has (SPEC §4.3): ${CLIENT_FAMILIES.join(', ')}`);
  families
    .command('list')
    .description('the selected families')
    .option(...DATA_DIR_OPTION)
    .action(async (o: DataDirOption) => {
      const selected = await readSelectedFamilies(resolveDataDir(o.dataDir));
      print(selected.length > 0 ? selected.join(', ') : 'none selected');
    });
  families
    .command('set')
    .description('replace the selection (comma-separated; "none" for none); the identities are checked against it')
    .argument('<families>')
    .option(...SITE_OPTIONS.config)
    .option(...SITE_OPTIONS.domain)
    .option(...DATA_DIR_OPTION)
    .action(async (list: string, o: SiteOptions & DataDirOption) => {
      const names = list === 'none' ? [] : list.split(',').map((s) => s.trim()).filter(Boolean);
      const unknown = names.filter((n) => !(CLIENT_FAMILIES as readonly string[]).includes(n));
      if (unknown.length > 0) throw new CliError(`unknown client famil${unknown.length === 1 ? 'y' : 'ies'} ${unknown.join(', ')}; known: ${CLIENT_FAMILIES.join(', ')}`);
      const dataDir = resolveDataDir(o.dataDir);
      const saved = await writeSelectedFamilies(dataDir, names as ClientFamily[]);
      print(`client families: ${saved.length > 0 ? saved.join(', ') : 'none'}`);
      await printFamilyWarnings(o, dataDir);
    });
}
