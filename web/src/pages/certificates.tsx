// The Certificates page (SPEC §4.3, A-17, A-28, A-29, B-18, EC-12): the
// identity each listener presents (main, and a telephony identity for SIP TLS
// when there is one) with its offer-chain switch, the root CA phones trust,
// issuing and importing identities, trusted CAs and the client families the
// identities are checked against, and the warnings. Every change applies at
// once without a restart; keys never leave the server.
import { useEffect, useState } from 'preact/hooks';
import { describeError } from '../api.ts';
import { dateTime } from '../format.ts';
import { Loading, Notice, PageTitle, useApp } from '../ui.tsx';
import { ImportForm, IssueForm } from './cert-forms.tsx';
import type { ChangeResult } from './cert-forms.tsx';
import { ClientFamilies, TrustedCas } from './cert-trust.tsx';
import type { Applied, Cert, Identity, Overview } from './cert-types.ts';
import { appliedText } from './cert-types.ts';

const DAY = 86_400_000;

function validity(c: Cert): { text: string; kind: 'ok' | 'warn' | 'bad' } {
  const left = Math.floor((c.validTo - Date.now()) / DAY);
  if (left < 0) return { text: 'expired', kind: 'bad' };
  if (Date.now() < c.validFrom) return { text: 'not yet valid', kind: 'bad' };
  return { text: `valid, ${left} days left`, kind: left < 30 ? 'warn' : 'ok' };
}

const SOURCE: Record<Identity['source'], string> = { auto: 'made by the server', issued: 'issued from the internal CA', imported: 'imported' };

function CertFacts({ cert }: { cert: Cert }) {
  const v = validity(cert);
  return (
    <dl class="facts">
      <dt>Subject</dt><dd class="wrap">{cert.subject}</dd>
      <dt>Issuer</dt><dd class="wrap">{cert.issuer}{cert.selfSigned && ' (self-signed)'}</dd>
      {cert.subjectAltNames.length > 0 && <><dt>Names (SAN)</dt><dd><ul class="plain" data-sans>{cert.subjectAltNames.map((n) => <li key={n} class="mono">{n}</li>)}</ul></dd></>}
      <dt>Valid</dt><dd>{dateTime(cert.validFrom)} – {dateTime(cert.validTo)} <span class={`badge badge-${v.kind}`}>{v.text}</span></dd>
      <dt>Key</dt><dd>{cert.keyType.toUpperCase()} {cert.keyBits}, {cert.signatureHash.toUpperCase()}</dd>
      <dt>SHA-256 fingerprint</dt><dd class="mono wrap">{cert.fingerprintSha256}</dd>
      <dt>Serial</dt><dd class="mono wrap">{cert.serialNumber}</dd>
    </dl>
  );
}

function IdentityCard({ id, done }: { id: Identity; done: (r: ChangeResult) => void }) {
  const { api, canSecurity } = useApp();
  const change = async (what: () => Promise<{ applied: Applied }>, okText: string) => {
    try {
      done({ kind: 'ok', text: `${okText} ${appliedText((await what()).applied)}` });
    } catch (err) {
      done({ kind: 'error', text: describeError(err) });
    }
  };
  const title = id.role === 'main' ? 'Server identity' : 'Telephony identity';
  return (
    <section aria-labelledby={`${id.role}-h`} class="panel" data-cert={id.role === 'main' ? 'identity' : 'telephony'}>
      <h2 id={`${id.role}-h`}>{title}</h2>
      <p class="muted">Presented by {id.presentedBy.join(' and ')}; {SOURCE[id.source]}{id.source === 'auto' ? ', renewed automatically before it expires' : ''}.</p>
      <CertFacts cert={id.certificate} />
      {id.chain.length > 0 && <p class="hint">Chain after it: {id.chain.map((c) => c.subject).join(' → ')}</p>}
      <div class="actions">
        <a class="button" href={`/api/certificates/identity.pem${id.role === 'main' ? '' : '?role=telephony'}`} download>Download certificate (PEM)</a>
        {canSecurity && (
          <label class="check-line">
            <input type="checkbox" checked={id.offerChain}
              onChange={(e) => void change(() => api.put(`/api/certificates/identities/${id.role}/offer-chain`, { offerChain: (e.currentTarget as HTMLInputElement).checked }),
                'Offer chain changed.')} />
            {' '}Offer ID certificate chain (send the intermediates in handshakes)
          </label>
        )}
        {canSecurity && id.role === 'telephony' && (
          <button type="button" onClick={() => void change(() => api.delete('/api/certificates/identities/telephony'), 'Telephony identity removed: SIP TLS presents the server identity.')}>
            Remove telephony identity
          </button>
        )}
      </div>
    </section>
  );
}

export function CertificatesPage() {
  const { api, canSecurity } = useApp();
  const [data, setData] = useState<Overview | undefined>();
  const [note, setNote] = useState<ChangeResult | undefined>();
  const load = () => api.get<Overview>('/api/certificates').then(setData, (e) => setNote({ kind: 'error', text: describeError(e) }));
  useEffect(() => {
    void load();
  }, [api]);
  const done = (r: ChangeResult) => {
    setNote(r);
    void load();
  };
  return (
    <>
      <PageTitle>Certificates</PageTitle>
      <Notice kind={note?.kind ?? 'ok'}>{note && <span class="wrap" data-note>{note.text}</span>}</Notice>
      {!data ? !note && <Loading /> : (
        <>
          {data.warnings.length > 0 && (
            <section aria-labelledby="warn-h" class="notice notice-error" data-section="warnings">
              <h2 id="warn-h">Warnings</h2>
              <ul>{data.warnings.map((w) => <li key={w.text} data-warning={w.kind}>{w.text}</li>)}</ul>
            </section>
          )}
          {data.identities.map((id) => <IdentityCard key={id.role} id={id} done={done} />)}
          <section aria-labelledby="ca-h" class="panel" data-cert="ca">
            <h2 id="ca-h">Root CA</h2>
            <p class="muted">Phones and browsers trust this certificate to recognise the server. Install it on phones that use TLS.</p>
            <CertFacts cert={data.ca} />
            <div class="actions">
              <a class="button" href="/ca.pem" download>Download CA (PEM)</a>
              <a class="button" href="/ca.der" download>Download CA (DER)</a>
            </div>
          </section>
          {canSecurity && (
            <section aria-labelledby="change-h" class="panel" data-section="change">
              <h2 id="change-h">Replace an identity</h2>
              <p class="muted">Applies at once: new connections get the new certificate, established calls and registrations continue on theirs.</p>
              <div class="columns">
                <IssueForm done={done} />
                <ImportForm done={done} />
              </div>
            </section>
          )}
          <TrustedCas items={data.trusted} done={done} />
          <ClientFamilies warnings={data.warnings} devices={data.clientFamilies.devices} done={done} />
        </>
      )}
    </>
  );
}
