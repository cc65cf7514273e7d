// The identity forms of the Certificates page: issue from the internal CA
// (the names SPEC §4.3 proposes, editable) and import one made elsewhere
// (PKCS#12 with its password, or a PEM key and chain). Both apply at once.
import { useEffect, useState } from 'preact/hooks';
import { describeError } from '../api.ts';
import { CheckField, SelectField, TextField, useApp } from '../ui.tsx';
import type { Applied, CertWarning, Role } from './cert-types.ts';
import { appliedText, fileBase64 } from './cert-types.ts';

export interface ChangeResult {
  kind: 'ok' | 'error';
  text: string;
}

type Done = (r: ChangeResult) => void;

const ROLES: { value: Role; label: string }[] = [
  { value: 'main', label: 'Main identity (HTTPS, and SIP TLS without a telephony identity)' },
  { value: 'telephony', label: 'Telephony identity (SIP TLS only)' },
];

interface San { dns: string[]; ips: string[]; uris: string[] }

const sanText = (s: San) => [...s.dns.map((d) => `DNS:${d}`), ...s.ips.map((i) => `IP:${i}`), ...s.uris.map((u) => `URI:${u}`)].join('\n');

/** "DNS:x" / "IP:y" / "URI:z", one per line (or comma-separated); null with the first bad entry. */
function parseSan(text: string): San | string {
  const san: San = { dns: [], ips: [], uris: [] };
  for (const entry of text.split(/[\s,]+/).filter(Boolean)) {
    const m = /^(DNS|IP|URI):(.+)$/i.exec(entry);
    if (!m) return entry;
    const kind = m[1]!.toUpperCase();
    (kind === 'DNS' ? san.dns : kind === 'IP' ? san.ips : san.uris).push(m[2]!);
  }
  return san;
}

const warningsText = (w: CertWarning[]) => (w.length > 0 ? ` Warnings: ${w.map((x) => x.text).join(' ')}` : '');

/** Issues or imports (the body made by `body`), then says what applied and what the families lack. */
async function changeIdentity(api: ReturnType<typeof useApp>['api'], role: Role, action: 'issue' | 'import', body: () => Promise<unknown>, done: Done): Promise<boolean> {
  const [did, not] = action === 'issue' ? ['Issued', 'Not issued'] : ['Imported', 'Not imported'];
  try {
    const r = await api.post<{ identity: { certificate: { fingerprintSha256: string } }; applied: Applied; warnings: CertWarning[] }>(
      `/api/certificates/identities/${role}/${action}`, await body());
    done({ kind: 'ok', text: `${did} the ${role} identity ${r.identity.certificate.fingerprintSha256.slice(0, 23)}…. ${appliedText(r.applied)}${warningsText(r.warnings)}` });
    return true;
  } catch (err) {
    done({ kind: 'error', text: `${not}: ${describeError(err)}` });
    return false;
  }
}

export function IssueForm({ done }: { done: Done }) {
  const { api } = useApp();
  const [role, setRole] = useState<Role>('main');
  const [cn, setCn] = useState('');
  const [names, setNames] = useState('');
  const [days, setDays] = useState('2555');
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    api.get<{ commonName: string; san: San }>('/api/certificates/proposed').then((p) => {
      setCn(p.commonName);
      setNames(sanText(p.san));
    }, (e) => done({ kind: 'error', text: describeError(e) }));
  }, [api]);
  const submit = async (e: Event) => {
    e.preventDefault();
    const san = parseSan(names);
    if (typeof san === 'string') return done({ kind: 'error', text: `Not issued: "${san}" is not DNS:name, IP:address or URI:sip:domain.` });
    setBusy(true);
    await changeIdentity(api, role, 'issue', async () => ({ commonName: cn, san, days: Number(days) }), done);
    setBusy(false);
  };
  return (
    <form onSubmit={submit} aria-labelledby="issue-h" data-form="issue">
      <h3 id="issue-h">Issue from the internal CA</h3>
      <SelectField id="issue-role" label="For" value={role} options={ROLES} onChange={setRole} />
      <TextField id="issue-cn" label="Common name (CN)" required value={cn} onInput={setCn} hint="The server's FQDN" />
      <div class="field">
        <label for="issue-san">Names (SAN)</label>
        <textarea id="issue-san" rows={6} value={names} aria-describedby="issue-san-hint" class="mono"
          onInput={(e) => setNames((e.currentTarget as HTMLTextAreaElement).value)} />
        <span class="hint" id="issue-san-hint">One per line: DNS:name, IP:address, URI:sip:domain. Proposed from the configured domain and addresses (SPEC §4.3); edit as needed.</span>
      </div>
      <TextField id="issue-days" label="Valid for (days)" type="number" inputMode="numeric" value={days} onInput={setDays} />
      <div class="actions"><button type="submit" class="primary" disabled={busy}>{busy ? 'Issuing…' : 'Issue and apply'}</button></div>
    </form>
  );
}

export function ImportForm({ done }: { done: Done }) {
  const { api } = useApp();
  const [role, setRole] = useState<Role>('main');
  const [pem, setPem] = useState(false);
  const [p12, setP12] = useState<File | null>(null);
  const [password, setPassword] = useState('');
  const [keyPem, setKeyPem] = useState('');
  const [chainPem, setChainPem] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!pem && !p12) return done({ kind: 'error', text: 'Choose a PKCS#12 file first.' });
    setBusy(true);
    const body = async () => (pem ? { keyPem, chainPem } : { p12: await fileBase64(p12!), ...(password ? { password } : {}) });
    if (await changeIdentity(api, role, 'import', body, done)) setPassword('');
    setBusy(false);
  };
  return (
    <form onSubmit={submit} aria-labelledby="import-h" data-form="import">
      <h3 id="import-h">Import an identity made elsewhere</h3>
      <SelectField id="import-role" label="For" value={role} options={ROLES} onChange={setRole} />
      <CheckField id="import-pem" label="PEM key and chain instead of PKCS#12" checked={pem} onChange={setPem} />
      {pem ? (
        <>
          <div class="field"><label for="import-key">Private key (PEM)</label>
            <textarea id="import-key" rows={5} class="mono" value={keyPem} onInput={(e) => setKeyPem((e.currentTarget as HTMLTextAreaElement).value)} /></div>
          <div class="field"><label for="import-chain">Certificate and intermediates (PEM, the certificate first)</label>
            <textarea id="import-chain" rows={5} class="mono" value={chainPem} onInput={(e) => setChainPem((e.currentTarget as HTMLTextAreaElement).value)} /></div>
        </>
      ) : (
        <>
          <div class="field"><label for="import-p12">PKCS#12 file (.p12, .pfx)</label>
            <input id="import-p12" type="file" accept=".p12,.pfx,application/x-pkcs12" onChange={(e) => setP12((e.currentTarget as HTMLInputElement).files?.[0] ?? null)} /></div>
          <TextField id="import-password" label="PKCS#12 password" type="password" value={password} onInput={setPassword} autoComplete="off" />
        </>
      )}
      <div class="actions"><button type="submit" class="primary" disabled={busy}>{busy ? 'Importing…' : 'Import and apply'}</button></div>
    </form>
  );
}
