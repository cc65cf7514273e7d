// The rules new extensions and SIP passwords must meet (GET/PUT
// /api/user-rules, src/model/user-rules.ts), on the settings page: security
// administrators change them, everyone else reads them.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, describeError } from '../api.ts';
import type { UserRules } from '../../../src/model/user-rules.ts';
import { CheckField, ErrorSummary, Fieldset, Loading, Notice, RequiredNote, SubmitButton, TextField, useApp } from '../ui.tsx';

interface Form { extensionPattern: string; extensionHint: string; minLength: string; refuseGuessable: boolean }

const formOf = (r: UserRules): Form => ({
  extensionPattern: r.extensionPattern, extensionHint: r.extensionHint, minLength: String(r.password.minLength),
  refuseGuessable: r.password.refuseGuessable,
});

export function UserRulesForm() {
  const { api, canSecurity } = useApp();
  const [f, setF] = useState<Form | null>(null);
  const [err, setErr] = useState<ApiError | null>(null);
  const [saved, setSaved] = useState('');
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    api.get<UserRules>('/api/user-rules').then((r) => setF(formOf(r)), (e) => setErr(new ApiError(0, 'error', describeError(e))));
  }, []);
  if (!f) return err ? <Notice kind="error">{err.message}</Notice> : <Loading />;
  const set = <K extends keyof Form>(k: K) => (v: Form[K]) => setF({ ...f, [k]: v });
  const ro = !canSecurity;
  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    setBusy(true);
    setErr(null);
    setSaved('');
    try {
      const body = {
        extensionPattern: f.extensionPattern, extensionHint: f.extensionHint,
        password: { minLength: f.minLength.trim() === '' ? Number.NaN : Number(f.minLength), refuseGuessable: f.refuseGuessable },
      };
      setF(formOf(await api.put<UserRules>('/api/user-rules', body)));
      setSaved('User rules saved; they apply to new extensions and passwords now.');
    } catch (e2) {
      setErr(e2 instanceof ApiError ? e2 : new ApiError(0, 'error', describeError(e2)));
    } finally {
      setBusy(false);
    }
  };
  const idOf = (p: string) => `ur-${p.replace(/^password\./, '')}`;
  return (
    <form class="form" onSubmit={submit} noValidate aria-labelledby="user-rules-h">
      <h2 id="user-rules-h">Extensions and SIP passwords</h2>
      <ErrorSummary err={err} idOf={idOf} />
      {!ro && <RequiredNote />}
      <Fieldset legend="Rules for new users">
        <TextField id="ur-extensionPattern" label="Extension pattern" value={f.extensionPattern} onInput={set('extensionPattern')} required
          disabled={ro} error={err?.field('extensionPattern')} hint="A regular expression a new extension must match as a whole." />
        <TextField id="ur-extensionHint" label="The pattern in words" value={f.extensionHint} onInput={set('extensionHint')} required
          disabled={ro} error={err?.field('extensionHint')} hint={'Completes “Extension: must be …” in messages.'} />
        <TextField id="ur-minLength" label="Shortest SIP password" type="number" value={f.minLength} onInput={set('minLength')} required
          disabled={ro} error={err?.field('password.minLength')} hint="4-64 characters." inputMode="numeric" />
        <CheckField id="ur-refuseGuessable" label="Refuse guessable SIP passwords" checked={f.refuseGuessable} onChange={set('refuseGuessable')}
          disabled={ro} hint="Repeats (1111), runs (1234), common words, the extension or auth user in it." />
      </Fieldset>
      <p class="hint">Users stored before a rule changed keep their extension and password.</p>
      <Notice kind="error">{err && (err.issues.length === 0 ? err.message : 'Not saved: correct the fields listed at the top.')}</Notice>
      <Notice kind="ok">{saved}</Notice>
      {!ro && <div class="actions"><SubmitButton busy={busy} label="Save user rules" /></div>}
    </form>
  );
}
