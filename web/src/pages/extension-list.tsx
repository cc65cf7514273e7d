// The extensions part of System Status: every extension, registered or not,
// with its state (in call, unreachable, registered, failed with the reason,
// not registered), filtered by state and sorted and paged by the server
// (GET /api/status/extensions), so 10 000 users stay one small page. Asked
// again every few seconds and whenever the live feed reports a change.
import { useEffect, useRef, useState } from 'preact/hooks';
import { query, describeError, type Api } from '../api.ts';
import { ago, dateTime } from '../format.ts';
import { href } from '../router.ts';
import type { ExtensionList, ExtensionRow, ListState, RegistrationFailure } from '../../../src/model/extension-detail.ts';
import { Notice, SelectField, SortHeader, TextField } from '../ui.tsx';
import './extensions.css';
import { MessageWaiting } from './voicemail.tsx';

const PAGE = 50;
const POLL_MS = 3000;

const STATE_TEXT: Record<ListState, string> = {
  'in-call': 'In call', unreachable: 'Unreachable', registered: 'Idle', failed: 'Failed', unregistered: 'Not registered',
};
const FILTERS: Array<{ value: '' | ListState; label: string }> = [
  { value: '', label: 'All' }, { value: 'registered', label: 'Registered' }, { value: 'unregistered', label: 'Not registered' },
  { value: 'failed', label: 'Failed' }, { value: 'unreachable', label: 'Unreachable' }, { value: 'in-call', label: 'In call' },
];

function StateCell({ r }: { r: ExtensionRow }) {
  const text = r.state === 'in-call' ? (r.callState === 'ringing' ? 'Ringing' : 'In call') : STATE_TEXT[r.state];
  return (
    <span>
      <span class={`state state-${r.state}`}>{text}</span>
      {!r.enabled && <span class="muted fine"> (disabled)</span>}
    </span>
  );
}

/** Refusals no extension can show: a phone set up with a number nobody has, or a TLS handshake that failed. */
function Strangers({ list, now }: { list: RegistrationFailure[]; now: number }) {
  return (
    <details class="strangers">
      <summary>Refused names and TLS handshakes ({list.length})</summary>
      <div class="table-wrap">
        <table class="responsive" aria-label="Refused names and TLS handshakes">
          <thead><tr><th scope="col">When</th><th scope="col">Name</th><th scope="col">Reason</th><th scope="col">From</th><th scope="col">User agent</th></tr></thead>
          <tbody>
            {list.map((f) => (
              <tr key={`${f.at}-${f.address}-${f.port}-${f.user ?? ''}`} data-stranger={f.reason}>
                <td data-label="When" title={dateTime(f.at)}>{ago(f.at, now)}</td>
                <td data-label="Name" class="mono">{f.user ?? '—'}</td>
                <td data-label="Reason" class="wrap">{f.text}</td>
                <td data-label="From" class="mono">{f.transport.toUpperCase()} {f.address}{f.port ? `:${f.port}` : ''}</td>
                <td data-label="User agent" class="wrap">{f.userAgent ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}

/** `changes` moves whenever the live feed reported something: the page is asked for again. */
export function ExtensionListSection({ api, changes }: { api: Api; changes: number }) {
  const [state, setState] = useState<'' | ListState>('');
  const [search, setSearch] = useState('');
  const [sort, setSort] = useState('extension');
  const [offset, setOffset] = useState(0);
  const [page, setPage] = useState<ExtensionList | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const [strangers, setStrangers] = useState<RegistrationFailure[]>([]);
  useEffect(() => setOffset(0), [state, search, sort]);
  useEffect(() => {
    const t = window.setInterval(() => setTick((n) => n + 1), POLL_MS);
    return () => window.clearInterval(t);
  }, []);
  // Feed changes come in bursts (thousands of refreshes a second): at most one new page a second for them.
  const burst = useRef<number | undefined>(undefined);
  useEffect(() => {
    if (burst.current !== undefined) return;
    burst.current = window.setTimeout(() => {
      burst.current = undefined;
      setTick((n) => n + 1);
    }, 1000);
  }, [changes]);
  useEffect(() => () => window.clearTimeout(burst.current), []);
  useEffect(() => {
    let stale = false;
    const desc = sort.startsWith('-');
    const q = query({ state: state || undefined, q: search.trim() || undefined, sort: desc ? sort.slice(1) : sort, desc: desc ? 'true' : undefined, offset, limit: PAGE });
    api.get<ExtensionList>(`/api/status/extensions${q}`, { background: true }).then(
      (p) => { if (!stale) { setPage(p); setError(null); } },
      (e) => { if (!stale) setError(describeError(e)); },
    );
    api.get<{ items: RegistrationFailure[] }>('/api/status/registration-failures', { background: true }).then((r) => { if (!stale) setStrangers(r.items); }, () => undefined);
    return () => { stale = true; };
  }, [api, state, search, sort, offset, tick]);

  const now = Date.now();
  const last = page ? Math.min(page.total, offset + page.items.length) : 0;
  return (
    <section aria-labelledby="ext-h">
      <h2 id="ext-h">Extensions</h2>
      {page && (
        <ul class="summary state-counts" aria-label="Extensions by state">
          {FILTERS.slice(1).map((f) => (
            <li key={f.value}>
              <button type="button" class={`linkish ${state === f.value ? 'active' : ''}`} aria-pressed={state === f.value}
                onClick={() => setState(state === f.value ? '' : f.value)}>
                <strong>{page.counts[f.value] ?? 0}</strong> {f.label.toLowerCase()}
              </button>
            </li>
          ))}
        </ul>
      )}
      <div class="toolbar" role="search">
        <TextField id="ext-filter" label="Filter extensions" type="search" value={search} onInput={setSearch} hint="Extension or name" />
        <SelectField id="ext-state" label="State" value={state} onChange={setState} options={FILTERS} />
      </div>
      <Notice kind="error">{error}</Notice>
      {page && (
        <>
          <div class="table-wrap">
            <table class="responsive" aria-labelledby="ext-h">
              <thead>
                <tr>
                  <SortHeader label="Extension" field="extension" sort={sort} onSort={setSort} />
                  <SortHeader label="Name" field="name" sort={sort} onSort={setSort} />
                  <SortHeader label="State" field="state" sort={sort} onSort={setSort} />
                  <th scope="col">IP address</th><th scope="col">Transport</th><th scope="col">User agent</th>
                  <th scope="col">Media stream</th><th scope="col">Messages</th><th scope="col">Registered until</th>
                  <SortHeader label="Last failure" field="lastFailure" sort={sort} onSort={setSort} />
                  <SortHeader label="Last seen" field="lastSeen" sort={sort} onSort={setSort} />
                </tr>
              </thead>
              <tbody>
                {page.items.map((r) => (
                  <tr key={r.extension} data-extension={r.extension} data-state={r.state}>
                    <td data-label="Extension" class="mono"><a href={href('users', r.extension, 'detail')}>{r.extension}</a></td>
                    <td data-label="Name">{r.name || '—'}</td>
                    <td data-label="State"><StateCell r={r} /></td>
                    <td data-label="IP address" class="mono">{r.address ?? '—'}{r.contacts > 1 ? ` +${r.contacts - 1}` : ''}</td>
                    <td data-label="Transport">{r.transport?.toUpperCase() ?? '—'}</td>
                    <td data-label="User agent" class="wrap">{r.userAgent ?? '—'}</td>
                    <td data-label="Media stream">{r.mediaStream}</td>
                    <td data-label="Messages">{r.messages > 0 ? <a href={href('voicemail', r.extension)} aria-label={`${r.extension}: ${r.messages} new voicemail messages`}><MessageWaiting count={r.messages} /></a> : <span class="muted">—</span>}</td>
                    <td data-label="Registered until">{r.registeredUntil ? dateTime(r.registeredUntil) : '—'}</td>
                    <td data-label="Last failure" class="wrap">{r.lastFailure ? <span>{r.lastFailure.text} <span class="muted fine">{ago(r.lastFailure.at, now)}</span></span> : '—'}</td>
                    <td data-label="Last seen" title={r.lastSeen ? dateTime(r.lastSeen) : undefined}>{r.lastSeen ? ago(r.lastSeen, now) : '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {page.items.length === 0 && <p class="muted">No extension matches.</p>}
          <nav class="pager" aria-label="Extension pages">
            <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>Previous</button>
            <span role="status">{page.total === 0 ? 'None' : `${offset + 1}–${last} of ${page.total}`}</span>
            <button type="button" disabled={last >= page.total} onClick={() => setOffset(offset + PAGE)}>Next</button>
          </nav>
          {strangers.length > 0 && <Strangers list={strangers} now={now} />}
        </>
      )}
    </section>
  );
}
