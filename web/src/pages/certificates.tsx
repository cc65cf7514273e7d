// The certificates in use: the root CA phones trust and the server's TLS
// identity (SIP TLS and this web server), with downloads of both
// certificates. Keys never leave the server.
import { useEffect, useState } from 'preact/hooks';
import { describeError } from '../api.ts';
import { dateTime } from '../format.ts';
import { Loading, Notice, PageTitle, useApp } from '../ui.tsx';

interface Cert {
  subject: string;
  issuer: string;
  subjectAltNames: string[];
  serialNumber: string;
  validFrom: number;
  validTo: number;
  fingerprintSha256: string;
  isCa: boolean;
}

const DAY = 86_400_000;

function validity(c: Cert): { text: string; kind: 'ok' | 'warn' | 'bad' } {
  const left = Math.floor((c.validTo - Date.now()) / DAY);
  if (left < 0) return { text: 'expired', kind: 'bad' };
  if (Date.now() < c.validFrom) return { text: 'not yet valid', kind: 'bad' };
  return { text: `valid, ${left} days left`, kind: left < 30 ? 'warn' : 'ok' };
}

function CertCard(p: { id: string; title: string; what: string; cert: Cert; downloads: { href: string; label: string }[] }) {
  const v = validity(p.cert);
  return (
    <section aria-labelledby={`${p.id}-h`} class="panel" data-cert={p.id}>
      <h2 id={`${p.id}-h`}>{p.title}</h2>
      <p class="muted">{p.what}</p>
      <dl class="facts">
        <dt>Subject</dt><dd class="wrap">{p.cert.subject}</dd>
        <dt>Issuer</dt><dd class="wrap">{p.cert.issuer}</dd>
        {p.cert.subjectAltNames.length > 0 && <><dt>Names (SAN)</dt><dd><ul class="plain">{p.cert.subjectAltNames.map((n) => <li key={n} class="mono">{n}</li>)}</ul></dd></>}
        <dt>Valid</dt><dd>{dateTime(p.cert.validFrom)} – {dateTime(p.cert.validTo)} <span class={`badge badge-${v.kind}`}>{v.text}</span></dd>
        <dt>SHA-256 fingerprint</dt><dd class="mono wrap">{p.cert.fingerprintSha256}</dd>
        <dt>Serial</dt><dd class="mono wrap">{p.cert.serialNumber}</dd>
      </dl>
      <div class="actions">{p.downloads.map((d) => <a key={d.href} class="button" href={d.href} download>{d.label}</a>)}</div>
    </section>
  );
}

export function CertificatesPage() {
  const { api } = useApp();
  const [certs, setCerts] = useState<{ ca: Cert; identity: Cert } | undefined>();
  const [error, setError] = useState('');
  useEffect(() => {
    api.get<{ ca: Cert; identity: Cert }>('/api/certificates').then(setCerts, (e) => setError(describeError(e)));
  }, [api]);
  return (
    <>
      <PageTitle>Certificates</PageTitle>
      <Notice kind="error">{error}</Notice>
      {!certs ? !error && <Loading /> : (
        <>
          <CertCard id="ca" title="Root CA" cert={certs.ca}
            what="Phones and browsers trust this certificate to recognise the server. Install it on phones that use TLS."
            downloads={[{ href: '/ca.pem', label: 'Download CA (PEM)' }, { href: '/ca.der', label: 'Download CA (DER)' }]} />
          <CertCard id="identity" title="Server identity" cert={certs.identity}
            what="What the server shows on SIP TLS and on this web page. Issued by the root CA and renewed automatically before it expires; its key never leaves the server."
            downloads={[{ href: '/api/certificates/identity.pem', label: 'Download certificate (PEM)' }]} />
        </>
      )}
    </>
  );
}
