// Provisioning → Gateway users: the handset gateway's users import file
// (SPEC §5.8) written from the users here, as CSV or JSON. Passwords only
// when ticked (administrators; the server audits it).
import { useState } from 'preact/hooks';
import { query } from '../api.ts';
import { CheckField, Fieldset, PageTitle, SelectField, TextField, useApp } from '../ui.tsx';
import './provisioning.css';

export function GatewayUsersPage() {
  const { canWrite } = useApp();
  const [format, setFormat] = useState<'csv' | 'json'>('csv');
  const [domain, setDomain] = useState('');
  const [ext, setExt] = useState('');
  const [passwords, setPasswords] = useState(false);
  const url = `/api/provisioning/gateway-users${query({
    format, domain: domain.trim(), ext: ext.split(/[\s,;]+/).filter((e) => e !== '').join(','), passwords: passwords || undefined,
  })}`;
  return (
    <>
      <PageTitle>Gateway users</PageTitle>
      <p class="muted">The handset gateway's users file: one record per user (standby text, user name, display name, authentication user, call forward), for the gateway's import.</p>
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
      <div class="actions">
        <a class="button primary" href={url} download={`gateway-users.${format}`} data-download>Download {format.toUpperCase()}</a>
      </div>
    </>
  );
}
