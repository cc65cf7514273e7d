// The Certificates page's lists: trusted CAs (import PEM/DER/.cer, export,
// remove; used for outbound and mutual TLS) and the client families of the
// SPEC §4.3 table this site has, which the identities are checked against.
import { useEffect, useState } from 'preact/hooks';
import { describeError } from '../api.ts';
import { TextField, useApp } from '../ui.tsx';
import type { ChangeResult } from './cert-forms.tsx';
import type { Applied, CertWarning, TrustedCa } from './cert-types.ts';
import { appliedText, fileBase64 } from './cert-types.ts';

type Done = (r: ChangeResult) => void;

export function TrustedCas({ items, done }: { items: TrustedCa[]; done: Done }) {
  const { api, canSecurity } = useApp();
  const [file, setFile] = useState<File | null>(null);
  const [label, setLabel] = useState('');
  const [busy, setBusy] = useState(false);
  const add = async (e: Event) => {
    e.preventDefault();
    if (!file) return done({ kind: 'error', text: 'Choose a certificate file first.' });
    setBusy(true);
    try {
      // PEM travels as text; DER and binary .cer as base64.
      const text = await file.text();
      const body = text.includes('-----BEGIN CERTIFICATE-----') ? { pem: text } : { der: await fileBase64(file) };
      const r = await api.post<{ added: TrustedCa[]; applied: Applied }>('/api/certificates/trusted', { ...body, ...(label ? { label } : {}) });
      setLabel('');
      done({ kind: 'ok', text: `Trusted ${r.added.map((c) => c.label).join(', ')}. ${appliedText(r.applied)}` });
    } catch (err) {
      done({ kind: 'error', text: `Not trusted: ${describeError(err)}` });
    } finally {
      setBusy(false);
    }
  };
  const remove = async (ca: TrustedCa) => {
    try {
      await api.delete(`/api/certificates/trusted/${ca.fingerprint}`);
      done({ kind: 'ok', text: `No longer trusted: ${ca.label}.` });
    } catch (err) {
      done({ kind: 'error', text: describeError(err) });
    }
  };
  return (
    <section aria-labelledby="trusted-h" class="panel" data-section="trusted">
      <h2 id="trusted-h">Trusted CAs</h2>
      <p class="muted">Besides the internal root: the CAs whose certificates the server accepts from trunks, upstream servers and mutual-TLS peers.</p>
      {items.length === 0 ? <p>None.</p> : (
        <div class="table-wrap"><table class="responsive" aria-label="Trusted CAs">
          <thead><tr><th scope="col">Label</th><th scope="col">Subject</th><th scope="col">Valid to</th><th scope="col">SHA-256</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
          <tbody>
            {items.map((ca) => (
              <tr key={ca.fingerprint} data-trusted={ca.label}>
                <td data-label="Label">{ca.label}</td>
                <td data-label="Subject" class="wrap">{ca.certificate.subject}</td>
                <td data-label="Valid to">{new Date(ca.certificate.validTo).toISOString().slice(0, 10)}</td>
                <td data-label="SHA-256" class="mono wrap">{ca.certificate.fingerprintSha256.slice(0, 23)}…</td>
                <td data-label="Actions"><div class="actions">
                  <a class="button small" href={`/api/certificates/trusted/${ca.fingerprint}/export`} download>PEM</a>
                  <a class="button small" href={`/api/certificates/trusted/${ca.fingerprint}/export?format=der`} download>DER</a>
                  {canSecurity && <button type="button" class="small" onClick={() => void remove(ca)} aria-label={`Remove ${ca.label}`}>Remove</button>}
                </div></td>
              </tr>
            ))}
          </tbody>
        </table></div>
      )}
      {canSecurity && (
        <form onSubmit={add} class="inline-form" data-form="trust">
          <div class="field">
            <label for="trust-file">CA certificate</label>
            <input id="trust-file" type="file" accept=".pem,.crt,.cer,.der" aria-describedby="trust-file-hint"
              onChange={(e) => setFile((e.currentTarget as HTMLInputElement).files?.[0] ?? null)} />
            <span class="hint" id="trust-file-hint">PEM (several at once), DER or .cer</span>
          </div>
          <TextField id="trust-label" label="Label" value={label} onInput={setLabel} hint="Default: its CN" />
          <div class="field"><span class="label-like" aria-hidden="true">&nbsp;</span>
            <button type="submit" class="primary" disabled={busy}>{busy ? 'Importing…' : 'Trust'}</button></div>
        </form>
      )}
    </section>
  );
}

interface Family { family: string; label: string; chainValidation: string; hostnameCheck: string; acceptsSelfSigned: boolean | null }

const CHECKS: Record<string, string> = { yes: 'checks the names', 'ip-only': 'checks IP names only', no: 'checks no name' };
const CHAIN: Record<string, string> = { yes: 'validates the chain', 'if-root-installed': 'validates the chain once a root is installed', no: 'does not validate the chain' };

export function ClientFamilies({ warnings, devices, done }: { warnings: CertWarning[]; devices: string[]; done: Done }) {
  const { api, canSecurity } = useApp();
  const [families, setFamilies] = useState<Family[]>([]);
  const [selected, setSelected] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    api.get<{ selected: string[]; families: Family[] }>('/api/certificates/client-families').then((r) => {
      setFamilies(r.families);
      setSelected(r.selected);
    }, (e) => done({ kind: 'error', text: describeError(e) }));
  }, [api]);
  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    try {
      const r = await api.put<{ selected: string[]; warnings: CertWarning[] }>('/api/certificates/client-families', { selected });
      done({ kind: r.warnings.length > 0 ? 'error' : 'ok', text: r.warnings.length > 0 ? `Saved. ${r.warnings.map((w) => w.text).join(' ')}` : 'Saved: the identities suit every selected family.' });
    } catch (err) {
      done({ kind: 'error', text: describeError(err) });
    } finally {
      setBusy(false);
    }
  };
  const toggle = (f: string, on: boolean) => setSelected(on ? [...selected, f] : selected.filter((x) => x !== f));
  return (
    <section aria-labelledby="families-h" class="panel" data-section="families">
      <h2 id="families-h">Client families</h2>
      <p class="muted">Which clients this site has (SPEC §4.3). Each identity is checked against what they need; families of provisioned devices are checked too.</p>
      <form onSubmit={save}>
        <ul class="plain">
          {families.map((f) => {
            const mine = warnings.filter((w) => w.family === f.family);
            return (
              <li key={f.family} data-family={f.family}>
                <label>
                  <input type="checkbox" checked={selected.includes(f.family)} disabled={!canSecurity} onChange={(e) => toggle(f.family, (e.currentTarget as HTMLInputElement).checked)} />
                  {' '}{f.label}
                </label>
                <span class="hint"> {CHAIN[f.chainValidation] ?? f.chainValidation}; {CHECKS[f.hostnameCheck] ?? f.hostnameCheck}{f.acceptsSelfSigned === false ? '; refuses self-signed identities' : ''}{devices.includes(f.family) ? '; provisioned devices' : ''}</span>
                {mine.map((w) => <p key={w.text} class="field-error" role="note">{w.text}</p>)}
              </li>
            );
          })}
        </ul>
        {canSecurity && <div class="actions"><button type="submit" class="primary" disabled={busy}>{busy ? 'Saving…' : 'Save families'}</button></div>}
      </form>
    </section>
  );
}
