// The audit log (security administrators): who changed what and when, from
// where, filtered by account, target, action and time; each entry opens to
// show what changed, field by field, before and after (secrets read "***").
import { useEffect, useState } from 'preact/hooks';
import { describeError, query } from '../api.ts';
import { dateTime } from '../format.ts';
import { Loading, Notice, PageTitle, TextField, useApp } from '../ui.tsx';
import { SecurityOnly } from './admins.tsx';

interface Entry {
  id: number;
  at: number;
  actor: string;
  sourceIp: string | null;
  action: string;
  target: string;
  before: unknown;
  after: unknown;
}

const PAGE = 50;

/** Flattens nested values to "a.b" keys, so a change deep inside shows as one row. */
function flat(v: unknown, prefix = '', out: Map<string, string> = new Map()): Map<string, string> {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) flat(x, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix || v !== null) {
    // Times are stored as epoch ms in fields named ...At: shown as dates.
    const time = typeof v === 'number' && /At$/.test(prefix) ? new Date(v).toLocaleString() : undefined;
    out.set(prefix || '(value)', time ?? (v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v)));
  }
  return out;
}

/** The fields that differ, with their values before and after; unchanged ones are left out. */
export function changes(before: unknown, after: unknown): { field: string; before: string; after: string }[] {
  const a = flat(before);
  const b = flat(after);
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
  return keys.filter((k) => a.get(k) !== b.get(k)).map((k) => ({ field: k, before: a.get(k) ?? '—', after: b.get(k) ?? '—' }));
}

function Diff({ e }: { e: Entry }) {
  const rows = changes(e.before, e.after);
  if (rows.length === 0) return <p class="muted">No field changed.</p>;
  return (
    <table class="diff" aria-label={`Changes of entry ${e.id}`}>
      <thead><tr><th scope="col">Field</th><th scope="col">Before</th><th scope="col">After</th></tr></thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.field}>
            <th scope="row" class="mono">{r.field}</th>
            <td class="wrap diff-old">{r.before}</td>
            <td class="wrap diff-new">{r.after}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A local date-time input's value as epoch ms, or undefined when empty. */
const epoch = (local: string) => (local ? new Date(local).getTime() : undefined);

export function AuditPage() {
  const { api, canSecurity } = useApp();
  const [filter, setFilter] = useState({ actor: '', target: '', action: '', since: '', until: '' });
  const [applied, setApplied] = useState(filter);
  const [offset, setOffset] = useState(0);
  const [page, setPage] = useState<{ total: number; items: Entry[] } | undefined>();
  const [open, setOpen] = useState<number | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    if (!canSecurity) return;
    const q = query({
      offset, limit: PAGE, actor: applied.actor, target: applied.target, action: applied.action,
      since: epoch(applied.since), until: epoch(applied.until),
    });
    api.get<{ total: number; items: Entry[] }>(`/api/audit${q}`).then((r) => {
      setPage(r);
      setError('');
    }, (e) => setError(describeError(e)));
  }, [api, canSecurity, applied, offset]);
  if (!canSecurity) return <><PageTitle>Audit log</PageTitle><SecurityOnly /></>;
  const set = (k: keyof typeof filter) => (v: string) => setFilter({ ...filter, [k]: v });
  return (
    <>
      <PageTitle>Audit log</PageTitle>
      <form class="toolbar" role="search" aria-label="Filter the audit log" onSubmit={(e) => {
        e.preventDefault();
        setOffset(0);
        setApplied(filter);
      }}>
        <TextField id="audit-actor" label="Who (account)" value={filter.actor} onInput={set('actor')} placeholder="e.g. admin" />
        <TextField id="audit-target" label="What (contains)" value={filter.target} onInput={set('target')} placeholder="e.g. user:2001" />
        <TextField id="audit-action" label="Action (contains)" value={filter.action} onInput={set('action')} placeholder="e.g. DELETE, login" />
        <div class="field">
          <label for="audit-since">From</label>
          <input id="audit-since" type="datetime-local" value={filter.since} onInput={(e) => set('since')((e.currentTarget as HTMLInputElement).value)} />
        </div>
        <div class="field">
          <label for="audit-until">Until</label>
          <input id="audit-until" type="datetime-local" value={filter.until} onInput={(e) => set('until')((e.currentTarget as HTMLInputElement).value)} />
        </div>
        <div class="field"><span class="label-like" aria-hidden="true">&nbsp;</span><button type="submit" class="primary">Filter</button></div>
      </form>
      <Notice kind="error">{error}</Notice>
      {!page ? <Loading /> : page.items.length === 0 ? <p class="muted">No entries match.</p> : (
        <>
          <p class="muted" role="status">{page.total} entries; newest first.</p>
          <div class="table-wrap">
            <table class="responsive" aria-label="Audit entries">
              <thead><tr>
                <th scope="col">When</th><th scope="col">Who</th><th scope="col">Action</th><th scope="col">What</th>
                <th scope="col"><span class="sr-only">Details</span></th>
              </tr></thead>
              <tbody>
                {page.items.map((e) => [
                  <tr key={e.id} data-audit={e.id}>
                    <td data-label="When">{dateTime(e.at)}</td>
                    <td data-label="Who">{e.actor}{e.sourceIp && <span class="sub">from {e.sourceIp}</span>}</td>
                    <td data-label="Action" class="wrap">{e.action}</td>
                    <td data-label="What" class="wrap mono">{e.target}</td>
                    <td data-label="Details">
                      <button type="button" class="small" aria-expanded={open === e.id} aria-controls={`audit-diff-${e.id}`}
                        onClick={() => setOpen(open === e.id ? null : e.id)}>
                        {open === e.id ? 'Hide changes' : 'Show changes'}
                      </button>
                    </td>
                  </tr>,
                  open === e.id && (
                    <tr key={`${e.id}-diff`} id={`audit-diff-${e.id}`} class="diff-row">
                      <td colSpan={5}><Diff e={e} /></td>
                    </tr>
                  ),
                ])}
              </tbody>
            </table>
          </div>
          <div class="pager">
            <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>Newer</button>
            <span>{offset + 1}–{Math.min(offset + PAGE, page.total)} of {page.total}</span>
            <button type="button" disabled={offset + PAGE >= page.total} onClick={() => setOffset(offset + PAGE)}>Older</button>
          </div>
        </>
      )}
    </>
  );
}
