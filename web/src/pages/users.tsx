// The Users list: search, sort, filter, page; each user with its device,
// registration and latest activity (from /api/status/users); bulk enable,
// disable and delete.
import { useEffect, useState } from 'preact/hooks';
import { describeError, query } from '../api.ts';
import { ago, dateTime, plural } from '../format.ts';
import { href } from '../router.ts';
import { featureSummary } from '../../../src/model/user-features.ts';
import type { Page, User, UserActivity } from '../types.ts';
import { FLASH_KEY } from './user-form.tsx';
import { Loading, Notice, PageTitle, SelectField, SortHeader, TextField, useApp } from '../ui.tsx';

const PAGE = 50;
type EnabledFilter = 'all' | 'true' | 'false';

function registration(a: UserActivity | undefined): string {
  if (!a || !a.registered) return 'Not registered';
  const where = [a.transport?.toUpperCase(), a.address].filter(Boolean).join(' ');
  const state = a.state === 'connected' ? ', in a call' : a.state === 'ringing' ? ', ringing' : '';
  return `Registered${where ? ` (${where})` : ''}${state}`;
}

/** The newest call, and how long the current registration still runs. */
function Latest({ a }: { a: UserActivity | undefined }) {
  if (!a) return <span class="muted">—</span>;
  const call = a.state !== 'idle' ? 'In a call now' : a.lastCallAt ? `Call ${ago(a.lastCallAt)}` : 'No calls yet';
  return (
    <span>
      {call}
      {a.registered && a.registeredUntil && <span class="sub">Registration runs until {dateTime(a.registeredUntil)}</span>}
    </span>
  );
}

export function UsersPage() {
  const { api, canWrite } = useApp();
  const [search, setSearch] = useState('');
  const [debounced, setDebounced] = useState('');
  const [enabled, setEnabled] = useState<EnabledFilter>('all');
  const [sort, setSort] = useState('extension');
  const [offset, setOffset] = useState(0);
  const [page, setPage] = useState<Page<User> | null>(null);
  const [activity, setActivity] = useState<Map<string, UserActivity>>(new Map());
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [error, setError] = useState('');
  const [message, setMessage] = useState(() => {
    // Left by the user form after an add or delete.
    const flash = sessionStorage.getItem(FLASH_KEY) ?? '';
    sessionStorage.removeItem(FLASH_KEY);
    return flash;
  });
  const [reload, setReload] = useState(0);

  useEffect(() => {
    const t = window.setTimeout(() => setDebounced(search.trim()), 250);
    return () => window.clearTimeout(t);
  }, [search]);
  useEffect(() => setOffset(0), [debounced, enabled, sort]);

  useEffect(() => {
    let live = true;
    setError('');
    const q = query({ search: debounced, sort, enabled: enabled === 'all' ? undefined : enabled, offset, limit: PAGE });
    api.get<Page<User>>(`/api/users${q}`).then(async (p) => {
      if (!live) return;
      setPage(p);
      setSelected((s) => new Set([...s].filter((x) => p.items.some((u) => u.extension === x))));
      if (p.items.length === 0) return setActivity(new Map());
      const act = await api.get<{ items: UserActivity[] }>(`/api/status/users${query({ extensions: p.items.map((u) => u.extension).join(',') })}`);
      if (live) setActivity(new Map(act.items.map((a) => [a.extension, a])));
    }).catch((e) => live && setError(describeError(e)));
    return () => {
      live = false;
    };
  }, [debounced, enabled, sort, offset, reload]);

  const toggle = (ext: string, on: boolean) => {
    const next = new Set(selected);
    if (on) next.add(ext);
    else next.delete(ext);
    setSelected(next);
  };
  const allOnPage = page !== null && page.items.length > 0 && page.items.every((u) => selected.has(u.extension));

  const bulk = async (action: 'enable' | 'disable' | 'delete') => {
    const list = [...selected];
    if (list.length === 0) return;
    if (action === 'delete' && !window.confirm(`Delete ${plural(list.length, 'user')}? This cannot be undone.`)) return;
    setMessage('');
    setError('');
    try {
      const r = await api.post<{ results: { extension: string; ok: boolean; error?: string }[] }>('/api/users/bulk', { action, extensions: list });
      const failed = r.results.filter((x) => !x.ok);
      const done = r.results.length - failed.length;
      const verb = action === 'delete' ? 'deleted' : action === 'enable' ? 'enabled' : 'disabled';
      setMessage(`${plural(done, 'user')} ${verb}.`);
      if (failed.length > 0) setError(failed.map((f) => `${f.extension}: ${f.error ?? 'failed'}`).join('; '));
      setSelected(new Set());
      setReload((n) => n + 1);
    } catch (e) {
      setError(describeError(e));
    }
  };

  const last = page ? Math.min(page.total, offset + page.items.length) : 0;
  return (
    <>
      <div class="page-head">
        <PageTitle>Users</PageTitle>
        {canWrite && <a class="button primary" href={href('users', 'new')}>Add user</a>}
      </div>
      <div class="toolbar" role="search">
        <TextField id="user-search" label="Search" type="search" value={search} onInput={setSearch}
          hint="Extension, name, display name or auth user" />
        <SelectField id="user-enabled" label="Show" value={enabled} onChange={setEnabled}
          options={[{ value: 'all', label: 'All users' }, { value: 'true', label: 'Enabled only' }, { value: 'false', label: 'Disabled only' }]} />
        <div class="field">
          <span class="label-like" aria-hidden="true">&nbsp;</span>
          <button type="button" onClick={() => setReload((n) => n + 1)}>Refresh</button>
        </div>
      </div>
      {canWrite && (
        <div class="bulk" role="group" aria-label="Bulk actions">
          <span>{selected.size === 0 ? 'Select users for bulk actions.' : `${plural(selected.size, 'user')} selected:`}</span>
          <button type="button" disabled={selected.size === 0} onClick={() => bulk('enable')}>Enable</button>
          <button type="button" disabled={selected.size === 0} onClick={() => bulk('disable')}>Disable</button>
          <button type="button" class="danger" disabled={selected.size === 0} onClick={() => bulk('delete')}>Delete</button>
        </div>
      )}
      <Notice kind="ok">{message}</Notice>
      <Notice kind="error">{error}</Notice>
      {page === null ? <Loading /> : (
        <>
          <div class="table-wrap">
            <table class="responsive">
              <caption class="sr-only">Users, {page.total} in all</caption>
              <thead>
                <tr>
                  {canWrite && (
                    <th scope="col" class="check">
                      <input type="checkbox" id="select-all" aria-label="Select all users on this page" checked={allOnPage}
                        onChange={(e) => setSelected(new Set((e.currentTarget as HTMLInputElement).checked ? page.items.map((u) => u.extension) : []))} />
                    </th>
                  )}
                  <SortHeader label="Extension" field="extension" sort={sort} onSort={setSort} />
                  <SortHeader label="Display name" field="name" sort={sort} onSort={setSort} />
                  <SortHeader label="Enabled" field="enabled" sort={sort} onSort={setSort} />
                  <th scope="col">Features</th>
                  <th scope="col">Device</th>
                  <th scope="col">Registration</th>
                  <th scope="col">Latest activity</th>
                </tr>
              </thead>
              <tbody>
                {page.items.map((u) => {
                  const a = activity.get(u.extension);
                  return (
                    <tr key={u.extension} class={u.enabled ? '' : 'disabled-row'}>
                      {canWrite && (
                        <td class="check">
                          <input type="checkbox" aria-label={`Select ${u.extension}`} checked={selected.has(u.extension)}
                            onChange={(e) => toggle(u.extension, (e.currentTarget as HTMLInputElement).checked)} />
                        </td>
                      )}
                      <td data-label="Extension"><a href={href('users', u.extension)}>{u.extension}</a></td>
                      <td data-label="Display name">{u.name || <span class="muted">—</span>}</td>
                      <td data-label="Enabled">{u.enabled ? 'Yes' : 'No'}</td>
                      <td data-label="Features" class="wrap">{featureSummary(u).join(' ') || <span class="muted">—</span>}</td>
                      <td data-label="Device" class="wrap">{a?.userAgent ?? <span class="muted">—</span>}</td>
                      <td data-label="Registration">
                        <a href={href('users', u.extension, 'detail')} title="Why it works or not"><span class={`dot ${a?.registered ? 'dot-on' : 'dot-off'}`} aria-hidden="true" />{registration(a)}</a>
                      </td>
                      <td data-label="Latest activity"><Latest a={a} /></td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          {page.items.length === 0 && <p class="muted">No users match.</p>}
          <nav class="pager" aria-label="Pages">
            <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>Previous</button>
            <span role="status">{page.total === 0 ? 'No users' : `${offset + 1}–${last} of ${page.total}`}</span>
            <button type="button" disabled={last >= page.total} onClick={() => setOffset(offset + PAGE)}>Next</button>
          </nav>
        </>
      )}
    </>
  );
}
