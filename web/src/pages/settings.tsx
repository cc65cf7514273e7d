// System settings (SIP domain, listeners, registration expiry limits; applied
// at the next start), the system media settings (applied to the next call)
// and, for security administrators, the administrator password rules
// (applied at once).
import { useEffect, useState } from 'preact/hooks';
import { ApiError, describeError } from '../api.ts';
import type { PasswordPolicy, SettingsResponse, SettingsView } from '../types.ts';
import { ErrorSummary, Fieldset, Loading, Notice, PageTitle, TextField, useApp } from '../ui.tsx';
import { MediaSettingsForm } from './media-settings.tsx';
import { UserRulesForm } from './user-rules-form.tsx';

type Flat = Record<string, string>;

const FIELDS: readonly { key: string; label: string; hint: string; numeric?: boolean }[] = [
  { key: 'sip.domain', label: 'SIP domain', hint: 'Also the digest realm.' },
  { key: 'sip.udp', label: 'UDP listener', hint: 'HOST:PORT; port 0 turns it off.' },
  { key: 'sip.tcp', label: 'TCP listener', hint: 'HOST:PORT; port 0 turns it off.' },
  { key: 'sip.tls', label: 'TLS listener', hint: 'HOST:PORT; port 0 turns it off.' },
  { key: 'registrar.minExpiresSec', label: 'Shortest registration (s)', hint: 'Shorter requests get 423.', numeric: true },
  { key: 'registrar.maxExpiresSec', label: 'Longest registration (s)', hint: 'Longer requests are cut to this.', numeric: true },
  { key: 'registrar.defaultExpiresSec', label: 'Default registration (s)', hint: 'When a phone asks for none.', numeric: true },
];

function flatten(v: SettingsView): Flat {
  return {
    'sip.domain': v.sip.domain, 'sip.udp': v.sip.udp, 'sip.tcp': v.sip.tcp, 'sip.tls': v.sip.tls,
    'registrar.minExpiresSec': String(v.registrar.minExpiresSec), 'registrar.maxExpiresSec': String(v.registrar.maxExpiresSec),
    'registrar.defaultExpiresSec': String(v.registrar.defaultExpiresSec),
  };
}

function PasswordPolicyForm() {
  const { api } = useApp();
  const [p, setP] = useState<Record<keyof PasswordPolicy, string> | null>(null);
  const [err, setErr] = useState<ApiError | null>(null);
  const [saved, setSaved] = useState('');
  useEffect(() => {
    api.get<PasswordPolicy>('/api/password-policy').then((x) => setP({
      minLength: String(x.minLength), requireClasses: String(x.requireClasses), maxAgeDays: String(x.maxAgeDays),
    }), (e) => setErr(new ApiError(0, 'error', describeError(e))));
  }, []);
  if (!p) return err ? <Notice kind="error">{err.message}</Notice> : <Loading />;
  const set = (k: keyof PasswordPolicy) => (v: string) => setP({ ...p, [k]: v });
  const submit = async (e: Event) => {
    e.preventDefault();
    setErr(null);
    setSaved('');
    try {
      await api.put('/api/password-policy', { minLength: Number(p.minLength), requireClasses: Number(p.requireClasses), maxAgeDays: Number(p.maxAgeDays) });
      setSaved('Password rules saved; they apply now.');
    } catch (e2) {
      setErr(e2 instanceof ApiError ? e2 : new ApiError(0, 'error', describeError(e2)));
    }
  };
  return (
    <form class="form" onSubmit={submit} noValidate aria-labelledby="policy-h">
      <h2 id="policy-h">Administrator passwords</h2>
      <ErrorSummary err={err} idOf={(p) => `pp-${p}`} />
      <Fieldset legend="Rules">
        <TextField id="pp-minLength" label="Minimum length" type="number" value={p.minLength} onInput={set('minLength')} error={err?.field('minLength')} hint="8-128" />
        <TextField id="pp-requireClasses" label="Character classes required" type="number" value={p.requireClasses} onInput={set('requireClasses')}
          error={err?.field('requireClasses')} hint="Of lowercase, uppercase, digits, others: 1-4" />
        <TextField id="pp-maxAgeDays" label="Expire after (days)" type="number" value={p.maxAgeDays} onInput={set('maxAgeDays')}
          error={err?.field('maxAgeDays')} hint="0: never" />
      </Fieldset>
      <Notice kind="error">{err && err.issues.length === 0 ? err.message : ''}</Notice>
      <Notice kind="ok">{saved}</Notice>
      <div class="actions"><button type="submit" class="primary">Save password rules</button></div>
    </form>
  );
}

export function SettingsPage() {
  const { api, canWrite, canSecurity } = useApp();
  const [data, setData] = useState<SettingsResponse | null>(null);
  const [form, setForm] = useState<Flat>({});
  const [err, setErr] = useState<ApiError | null>(null);
  const [saved, setSaved] = useState('');
  const load = (r: SettingsResponse) => {
    setData(r);
    setForm(flatten(r.settings));
  };
  useEffect(() => {
    api.get<SettingsResponse>('/api/settings').then(load, (e) => setErr(new ApiError(0, 'error', describeError(e))));
  }, []);

  if (!data) return <><PageTitle>Settings</PageTitle>{err ? <Notice kind="error">{err.message}</Notice> : <Loading />}</>;
  const next = flatten(data.settings);
  const running = flatten(data.running);

  const submit = async (e: Event) => {
    e.preventDefault();
    setErr(null);
    setSaved('');
    const body: Record<string, Record<string, unknown>> = {};
    for (const f of FIELDS) {
      if (form[f.key] === next[f.key] || data.pinned.includes(f.key)) continue;
      const [section, key] = f.key.split('.') as [string, string];
      (body[section] ??= {})[key] = f.numeric ? Number(form[f.key]) : form[f.key]!.trim();
    }
    if (Object.keys(body).length === 0) {
      setSaved('Nothing changed.');
      return;
    }
    try {
      load(await api.put<SettingsResponse>('/api/settings', body));
      setSaved('Settings saved.');
    } catch (e2) {
      setErr(e2 instanceof ApiError ? e2 : new ApiError(0, 'error', describeError(e2)));
    }
  };

  return (
    <>
      <PageTitle>Settings</PageTitle>
      {data.restartRequired && <Notice kind="info">Saved settings differ from the running ones: they apply at the next start of the server.</Notice>}
      {!canWrite && <Notice kind="info">Your role can read the settings but not change them.</Notice>}
      <form class="form" onSubmit={submit} noValidate aria-labelledby="sys-h">
        <h2 id="sys-h">System</h2>
        <ErrorSummary err={err} idOf={(p) => `s-${p.replace('.', '-')}`} />
        <Fieldset legend="SIP">
          {FIELDS.filter((f) => f.key.startsWith('sip.')).map(setting)}
        </Fieldset>
        <Fieldset legend="Registrations">
          {FIELDS.filter((f) => f.key.startsWith('registrar.')).map(setting)}
        </Fieldset>
        <Notice kind="error">{err && (err.issues.length === 0 ? err.message : 'Not saved: correct the fields listed at the top.')}</Notice>
        <Notice kind="ok">{saved}</Notice>
        {canWrite && <div class="actions"><button type="submit" class="primary">Save settings</button></div>}
      </form>
      <MediaSettingsForm data={data} onSaved={setData} />
      <UserRulesForm />
      {canSecurity && <PasswordPolicyForm />}
    </>
  );

  // A plain function, not a component: a component defined in here would be new on every render and lose the focus.
  function setting(f: (typeof FIELDS)[number]) {
    const pinned = data!.pinned.includes(f.key);
    const differs = running[f.key] !== next[f.key];
    const hint = [f.hint, pinned ? 'Fixed by the command line for this run.' : '', differs ? `Running now: ${running[f.key]}.` : '']
      .filter(Boolean).join(' ');
    const id = `s-${f.key.replace('.', '-')}`;
    return (
      <TextField key={f.key} id={id} label={f.label} value={form[f.key] ?? ''} onInput={(v) => setForm({ ...form, [f.key]: v })}
        type={f.numeric ? 'number' : 'text'} disabled={!canWrite || pinned} hint={hint} error={err?.field(f.key)} />
    );
  }
}
