// Provisioning → Gateway users: the handset gateway's users import file
// (SPEC §5.8) written from the users here, as CSV or JSON. Passwords only
// when ticked (administrators; the server audits it). The file is fetched
// first, so a refusal (an extension that is no user) is shown here rather
// than saved as the file.
import { useState } from 'preact/hooks';
import { query } from '../api.ts';
import { CheckField, Fieldset, Notice, PageTitle, SelectField, SubmitButton, TextField, useApp } from '../ui.tsx';
import './provisioning.css';

/** Saves text as a file the way a link with `download` does. */
function save(text: string, type: string, name: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function GatewayUsersPage() {
  const { api, canWrite } = useApp();
  const [format, setFormat] = useState<'csv' | 'json'>('csv');
  const [domain, setDomain] = useState('');
  const [ext, setExt] = useState('');
  const [passwords, setPasswords] = useState(false);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const download = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    setError('');
    setBusy(true);
    try {
      const path = `/api/provisioning/gateway-users${query({
        format, domain: domain.trim(), ext: ext.split(/[\s,;]+/).filter((x) => x !== '').join(','), passwords: passwords || undefined,
      })}`;
      // Raw text as the server wrote it (the JSON too): the Api class would parse it.
      const res = await fetch(path, { credentials: 'same-origin', cache: 'no-store' });
      const text = await res.text();
      if (!res.ok) {
        let message = `${res.status} ${res.statusText}`;
        try {
          message = (JSON.parse(text) as { message?: string }).message ?? message;
        } catch {
          // Not the API's error shape: the status says enough.
        }
        if (res.status === 401) void api.get('/api/session').catch(() => undefined); // the app shows the login page
        setError(message);
        return;
      }
      save(text, format === 'csv' ? 'text/csv' : 'application/json', `gateway-users.${format}`);
    } catch {
      setError('The server cannot be reached. Check the connection and try again.');
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <PageTitle>Gateway users</PageTitle>
      <p class="muted">The handset gateway's users file: one record per user (standby text, user name, display name, authentication user, call forward), for the gateway's import.</p>
      <form class="form" onSubmit={download} noValidate>
        <Fieldset legend="File">
          <SelectField id="gw-format" label="Format" value={format} onChange={setFormat}
            options={[{ value: 'csv', label: 'CSV' }, { value: 'json', label: 'JSON' }]} />
          <TextField id="gw-domain" label="Domain" value={domain} onInput={setDomain} hint="Each user's domain; blank: the gateway's default." />
          <TextField id="gw-ext" label="Extensions" value={ext} onInput={setExt} hint="Only these, separated by commas; blank: every user." />
          {canWrite && (
            <CheckField id="gw-passwords" label="Include the SIP passwords" checked={passwords} onChange={setPasswords}
              hint="Keep the file secret. Recorded in the audit log." />
          )}
        </Fieldset>
        <Notice kind="error">{error}</Notice>
        <div class="actions"><SubmitButton busy={busy} label={`Download ${format.toUpperCase()}`} busyLabel="Preparing…" /></div>
      </form>
    </>
  );
}
