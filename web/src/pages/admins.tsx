// Administrator accounts (security administrators only): list, add (a
// one-time password is generated unless one is given), change roles,
// enable/disable, reset the password (shown once), remove.
import { useEffect, useState } from 'preact/hooks';
import { asApiError, describeError, type ApiError } from '../api.ts';
import { dateTime } from '../format.ts';
import { CheckField, Loading, Notice, PageTitle, TextField, useApp } from '../ui.tsx';

interface Admin {
  name: string;
  roles: string[];
  enabled: boolean;
  mustChangePassword: boolean;
  passwordChangedAt: number;
  createdAt: number;
}

const ROLES: readonly { value: string; label: string; hint: string }[] = [
  { value: 'admin', label: 'Administrator', hint: 'changes users, trunks and settings' },
  { value: 'security-admin', label: 'Security administrator', hint: 'accounts, password policy, audit log, backup' },
  { value: 'operator', label: 'Operator', hint: 'reads everything, changes nothing' },
];
const roleLabel = (r: string) => ROLES.find((x) => x.value === r)?.label ?? r;

export function SecurityOnly() {
  return <Notice kind="info">This page is for security administrators. Ask one to give your account that role.</Notice>;
}

function RoleChecks(p: { id: string; roles: string[]; onChange: (r: string[]) => void; error?: string }) {
  return (
    <fieldset class="roles">
      <legend>Roles</legend>
      {ROLES.map((r) => (
        <CheckField key={r.value} id={`${p.id}-${r.value}`} label={r.label} hint={r.hint} checked={p.roles.includes(r.value)}
          onChange={(on) => p.onChange(on ? [...p.roles, r.value] : p.roles.filter((x) => x !== r.value))} />
      ))}
      {p.error && <span class="field-error">{p.error}</span>}
    </fieldset>
  );
}

export function AdminsPage() {
  const { api, canSecurity, session } = useApp();
  const [items, setItems] = useState<Admin[] | undefined>();
  const [note, setNote] = useState<{ kind: 'ok' | 'error'; text: string } | undefined>();
  const [name, setName] = useState('');
  const [roles, setRoles] = useState<string[]>(['operator']);
  const [password, setPassword] = useState('');
  const [err, setErr] = useState<ApiError | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const [editRoles, setEditRoles] = useState<string[]>([]);
  const load = () => api.get<{ items: Admin[] }>('/api/admins').then((r) => setItems(r.items), (e) => setNote({ kind: 'error', text: describeError(e) }));
  useEffect(() => {
    if (canSecurity) void load();
  }, [api, canSecurity]);
  if (!canSecurity) return <><PageTitle>Administrators</PageTitle><SecurityOnly /></>;

  const act = async (what: () => Promise<{ oneTimePassword?: string } | void>, done: string) => {
    try {
      const r = await what();
      const otp = r && 'oneTimePassword' in r ? r.oneTimePassword : undefined;
      setNote({ kind: 'ok', text: otp ? `${done} One-time password (shown only now; it must be changed at the first login): ${otp}` : done });
    } catch (e) {
      setNote({ kind: 'error', text: describeError(e) });
    }
    await load();
  };
  const add = async (e: Event) => {
    e.preventDefault();
    setErr(null);
    try {
      const r = await api.post<{ oneTimePassword?: string }>('/api/admins', { name, roles, ...(password ? { password } : {}) });
      setNote({ kind: 'ok', text: r.oneTimePassword
        ? `Added ${name}. One-time password (shown only now; it must be changed at the first login): ${r.oneTimePassword}`
        : `Added ${name}; the password must be changed at the first login.` });
      setName('');
      setPassword('');
      await load();
    } catch (e2) {
      setErr(asApiError(e2));
    }
  };
  return (
    <>
      <PageTitle>Administrators</PageTitle>
      <Notice kind={note?.kind ?? 'ok'}>{note && <span class="wrap" data-note>{note.text}</span>}</Notice>
      {!items ? <Loading /> : (
        <div class="table-wrap">
          <table class="responsive" aria-label="Administrator accounts">
            <thead><tr>
              <th scope="col">Name</th><th scope="col">Roles</th><th scope="col">State</th><th scope="col">Password changed</th>
              <th scope="col"><span class="sr-only">Actions</span></th>
            </tr></thead>
            <tbody>
              {items.map((a) => (
                <tr key={a.name} data-admin={a.name}>
                  <td data-label="Name"><strong>{a.name}</strong>{a.name === session.name && <span class="sub">you</span>}</td>
                  <td data-label="Roles">
                    {editing === a.name ? (
                      <form onSubmit={(e) => {
                        e.preventDefault();
                        setEditing(null);
                        void act(() => api.patch(`/api/admins/${encodeURIComponent(a.name)}`, { roles: editRoles }), `Roles of ${a.name} saved.`);
                      }}>
                        <RoleChecks id={`edit-${a.name}`} roles={editRoles} onChange={setEditRoles} />
                        <div class="actions">
                          <button type="submit" class="small primary">Save roles</button>
                          <button type="button" class="small" onClick={() => setEditing(null)}>Cancel</button>
                        </div>
                      </form>
                    ) : a.roles.map(roleLabel).join(', ')}
                  </td>
                  <td data-label="State">{a.enabled ? 'Enabled' : 'Disabled'}{a.mustChangePassword && <span class="sub">must change password</span>}</td>
                  <td data-label="Password changed">{dateTime(a.passwordChangedAt)}</td>
                  <td data-label="Actions">
                    <div class="actions">
                      <button type="button" class="small" onClick={() => {
                        setEditing(a.name);
                        setEditRoles(a.roles);
                      }} aria-label={`Change roles of ${a.name}`}>Roles</button>
                      <button type="button" class="small" aria-label={`${a.enabled ? 'Disable' : 'Enable'} ${a.name}`}
                        onClick={() => void act(() => api.patch(`/api/admins/${encodeURIComponent(a.name)}`, { enabled: !a.enabled }), `${a.name} ${a.enabled ? 'disabled: its sessions ended' : 'enabled'}.`)}>
                        {a.enabled ? 'Disable' : 'Enable'}
                      </button>
                      <button type="button" class="small" aria-label={`Reset the password of ${a.name}`}
                        onClick={() => void act(() => api.patch(`/api/admins/${encodeURIComponent(a.name)}`, { resetPassword: true }), `Password of ${a.name} reset; its sessions ended.`)}>
                        Reset password
                      </button>
                      <button type="button" class="small danger" aria-label={`Remove ${a.name}`} onClick={() => {
                        if (window.confirm(`Remove the account ${a.name}?`)) void act(() => api.delete(`/api/admins/${encodeURIComponent(a.name)}`), `${a.name} removed.`);
                      }}>Remove</button>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h2 id="add-h">Add an administrator</h2>
      <form class="form" aria-labelledby="add-h" onSubmit={add} noValidate>
        <div class="grid">
          <TextField id="admin-name" label="Name" required value={name} onInput={setName} error={err?.field('name')}
            hint="letters, digits and _ . @ -" />
          <TextField id="admin-password" label="Password (optional)" type="password" value={password} onInput={setPassword}
            error={err?.field('password')} autoComplete="new-password" hint="leave empty to generate a one-time password" />
        </div>
        <RoleChecks id="admin-roles" roles={roles} onChange={setRoles} error={err?.field('roles')} />
        <Notice kind="error">{err && (err.issues.length === 0 ? err.message : 'Please correct the marked fields.')}</Notice>
        <div class="actions"><button type="submit" class="primary">Add administrator</button></div>
      </form>
    </>
  );
}
