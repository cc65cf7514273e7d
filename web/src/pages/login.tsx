// Log in, and the forced password change (SPEC 4.1): the first login with the
// generated password, or any one-time password, must set a new one first.
import { useState } from 'preact/hooks';
import { ApiError, describeError, type Api } from '../api.ts';
import type { Session } from '../types.ts';
import { Notice, PageTitle, TextField } from '../ui.tsx';

export function LoginPage(p: { api: Api; message?: string; onLoggedIn: (s: Session, password: string) => void }) {
  const [name, setName] = useState('admin');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      const s = await p.api.post<Session>('/api/session', { name: name.trim(), password });
      p.api.csrf = s.csrfToken;
      p.onLoggedIn(s, password);
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? 'Wrong name or password.' : describeError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" class="auth">
      <form class="card" onSubmit={submit} aria-labelledby="login-title">
        <p class="brand" aria-hidden="true">Switchboard</p>
        <PageTitle><span id="login-title">Log in</span></PageTitle>
        <Notice kind="info">{p.message}</Notice>
        <TextField id="login-name" label="Name" value={name} onInput={setName} required autoComplete="username" />
        <TextField id="login-password" label="Password" type="password" value={password} onInput={setPassword} required autoComplete="current-password" />
        <Notice kind="error">{error}</Notice>
        <button type="submit" class="primary" disabled={busy}>{busy ? 'Logging in…' : 'Log in'}</button>
      </form>
    </main>
  );
}

/**
 * Changing the password ends every session (the server asks for a fresh
 * login); the page logs in again with the new password at once.
 */
export function ChangePasswordPage(p: {
  api: Api;
  session: Session;
  /** The password just used to log in, when known: saves typing it again. */
  current: string | null;
  forced: boolean;
  onChanged: (s: Session) => void;
  onCancel?: () => void;
}) {
  const [current, setCurrent] = useState(p.current ?? '');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const [err, setErr] = useState<ApiError | null>(null);
  const [mismatch, setMismatch] = useState('');
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setErr(null);
    if (next !== again) {
      setMismatch('The two new passwords differ.');
      return;
    }
    setMismatch('');
    setBusy(true);
    try {
      await p.api.post('/api/session/password', { currentPassword: current, newPassword: next });
      const s = await p.api.post<Session>('/api/session', { name: p.session.name, password: next });
      p.api.csrf = s.csrfToken;
      p.onChanged(s);
    } catch (e2) {
      setErr(e2 instanceof ApiError ? e2 : new ApiError(0, 'error', describeError(e2)));
    } finally {
      setBusy(false);
    }
  };

  const general = err && !err.field('currentPassword') && !err.field('newPassword') ? err.message : '';
  return (
    <main id="main" class="auth">
      <form class="card" onSubmit={submit} aria-labelledby="pw-title">
        <p class="brand" aria-hidden="true">Switchboard</p>
        <PageTitle><span id="pw-title">{p.forced ? 'Choose a new password' : 'Change password'}</span></PageTitle>
        {p.forced && (
          <Notice kind="info">
            The password of <strong>{p.session.name}</strong> must be changed before anything else. Use a long password with
            lower- and uppercase letters, digits and other characters.
          </Notice>
        )}
        <TextField id="pw-current" label="Current password" type="password" value={current} onInput={setCurrent} required
          autoComplete="current-password" error={err?.field('currentPassword')} />
        <TextField id="pw-new" label="New password" type="password" value={next} onInput={setNext} required
          autoComplete="new-password" error={err?.field('newPassword')} />
        <TextField id="pw-again" label="New password again" type="password" value={again} onInput={setAgain} required
          autoComplete="new-password" error={mismatch} />
        <Notice kind="error">{general}</Notice>
        <div class="actions">
          <button type="submit" class="primary" disabled={busy}>{busy ? 'Saving…' : 'Change password'}</button>
          {p.onCancel && <button type="button" onClick={p.onCancel}>Cancel</button>}
        </div>
      </form>
    </main>
  );
}
