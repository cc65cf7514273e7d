// The Call log: every call attempt past authentication, refused ones
// included, filtered by time, extension, direction, outcome, SIP status,
// trunk and number; paged; each call in detail (its legs and their
// statuses, the media addresses and, where relayed, packets, loss and
// jitter); the selection as CSV. Statuses are shown in words.
import { useEffect, useState } from 'preact/hooks';
import { asApiError, query, type ApiError } from '../api.ts';
import { dateTime, duration } from '../format.ts';
import { href } from '../router.ts';
import type { Cdr, CdrMediaSide } from '../../../src/store/types.ts';
import { DISPOSITION_WORDS, statusWords, talkSeconds } from '../../../src/model/call-words.ts';
import type { Page, Trunk } from '../types.ts';
import { Loading, Notice, PageTitle, SelectField, TextField, useApp } from '../ui.tsx';
import './call-log.css';

const PAGE = 50;

interface Filters {
  search: string;
  extension: string;
  since: string;
  until: string;
  direction: string;
  disposition: string;
  status: string;
  trunk: string;
}
const NO_FILTERS: Filters = { search: '', extension: '', since: '', until: '', direction: '', disposition: '', status: '', trunk: '' };

const DIRECTIONS = [
  { value: '', label: 'Any direction' }, { value: 'internal', label: 'Internal' },
  { value: 'inbound', label: 'Inbound (from a trunk)' }, { value: 'outbound', label: 'Outbound (to a trunk)' },
] as const;
const DISPOSITIONS = [{ value: '', label: 'Any outcome' }, ...Object.entries(DISPOSITION_WORDS).map(([value, label]) => ({ value, label }))];

/** A datetime-local value (the browser's time zone) as the API's ISO time. */
const isoOf = (local: string): string | undefined => {
  const ms = local === '' ? NaN : new Date(local).getTime();
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
};

/** The API query of the filters (without paging). */
function filterQuery(f: Filters): Record<string, string | undefined> {
  return {
    search: f.search.trim(), extension: f.extension.trim(), since: isoOf(f.since), until: isoOf(f.until),
    direction: f.direction, disposition: f.disposition, status: f.status.trim(), trunk: f.trunk,
  };
}

function Outcome({ c }: { c: Pick<Cdr, 'disposition' | 'status' | 'reason'> }) {
  return (
    <span>
      <span class={`outcome outcome-${c.disposition}`}>{DISPOSITION_WORDS[c.disposition]}</span>
      {c.disposition !== 'answered' && <span class="sub">{statusWords(c.status, c.reason)}</span>}
    </span>
  );
}

function Party({ number, name }: { number: string; name?: string }) {
  return <span>{number}{name ? <span class="sub">{name}</span> : null}</span>;
}

function DateTimeField(p: { id: string; label: string; value: string; onInput: (v: string) => void; error?: string }) {
  return (
    <div class={`field${p.error ? ' has-error' : ''}`}>
      <label for={p.id}>{p.label}</label>
      <input id={p.id} name={p.id} type="datetime-local" step={1} value={p.value} aria-invalid={p.error ? 'true' : undefined}
        aria-describedby={p.error ? `${p.id}-error` : undefined}
        onInput={(e) => p.onInput((e.currentTarget as HTMLInputElement).value)} />
      {p.error && <span class="field-error" id={`${p.id}-error`}>{p.error}</span>}
    </div>
  );
}

export function CallLogPage({ id }: { id?: string }) {
  if (id !== undefined) return <CallDetail key={id} id={id} />;
  return <CallList />;
}

function CallList() {
  const { api } = useApp();
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [applied, setApplied] = useState<Filters>(NO_FILTERS);
  const [offset, setOffset] = useState(0);
  const [page, setPage] = useState<Page<Cdr> | null>(null);
  const [trunks, setTrunks] = useState<string[]>([]);
  const [err, setErr] = useState<ApiError | null>(null);
  const [reload, setReload] = useState(0);
  // On a phone the filters start folded, so the calls are on the first screen.
  const [filtersOpen, setFiltersOpen] = useState(() => !window.matchMedia('(max-width: 760px)').matches);
  const active = Object.values(filters).filter((v) => v.trim() !== '').length;

  // Text fields apply as they are typed (after a pause); the pickers at once.
  useEffect(() => {
    const t = window.setTimeout(() => setApplied(filters), 300);
    return () => window.clearTimeout(t);
  }, [filters]);
  useEffect(() => setOffset(0), [applied]);
  useEffect(() => {
    api.get<{ items: Trunk[] }>('/api/trunks').then((r) => setTrunks(r.items.map((t) => t.name)), () => setTrunks([]));
  }, []);
  useEffect(() => {
    let live = true;
    api.get<Page<Cdr>>(`/api/calls${query({ ...filterQuery(applied), offset, limit: PAGE })}`).then((p) => {
      if (!live) return;
      setPage(p);
      setErr(null);
    }, (e) => live && setErr(asApiError(e)));
    return () => {
      live = false;
    };
  }, [applied, offset, reload]);

  const set = (k: keyof Filters) => (v: string) => setFilters({ ...filters, [k]: v });
  const last = page ? Math.min(page.total, offset + page.items.length) : 0;
  const csv = `/api/calls.csv${query(filterQuery(applied))}`;
  const field = (k: string) => err?.field(k);
  return (
    <>
      <div class="page-head">
        <PageTitle>Call log</PageTitle>
        <a class="button" href={csv} download="calls.csv">Download CSV</a>
      </div>
      <details class="call-filter-box" open={filtersOpen} onToggle={(e) => setFiltersOpen((e.currentTarget as HTMLDetailsElement).open)}>
      <summary>Filters{active > 0 ? ` (${active} set)` : ''}</summary>
      <form class="toolbar call-filters" role="search" aria-label="Filter calls" onSubmit={(e) => {
        e.preventDefault();
        setApplied(filters);
        setReload((n) => n + 1);
      }}>
        <TextField id="call-search" label="Number or name" type="search" value={filters.search} onInput={set('search')}
          hint="Part of the caller's or callee's number" error={field('search')} />
        <TextField id="call-extension" label="Extension" value={filters.extension} onInput={set('extension')}
          hint="Calls it placed or received" inputMode="numeric" error={field('extension')} />
        <DateTimeField id="call-since" label="From" value={filters.since} onInput={set('since')} error={field('since')} />
        <DateTimeField id="call-until" label="Until" value={filters.until} onInput={set('until')} error={field('until')} />
        <SelectField id="call-direction" label="Direction" value={filters.direction} onChange={set('direction')} options={DIRECTIONS} />
        <SelectField id="call-disposition" label="Outcome" value={filters.disposition} onChange={set('disposition')} options={DISPOSITIONS} />
        <TextField id="call-status" label="SIP status" value={filters.status} onInput={set('status')} inputMode="numeric"
          hint="e.g. 403 refused, 408 timed out" error={field('status')} />
        <SelectField id="call-trunk" label="Trunk" value={filters.trunk} onChange={set('trunk')}
          options={[{ value: '', label: 'Any trunk' }, ...trunks.map((t) => ({ value: t, label: t }))]} />
        <div class="field">
          <span class="label-like" aria-hidden="true">&nbsp;</span>
          <span class="filter-buttons">
            <button type="submit">Refresh</button>
            <button type="button" onClick={() => setFilters(NO_FILTERS)}>Clear</button>
          </span>
        </div>
      </form>
      </details>
      <Notice kind="error">{err && (err.issues.length > 0 ? 'Please correct the marked filters.' : err.message)}</Notice>
      {page === null ? (err ? null : <Loading />) : (
        <>
          <div class="table-wrap">
            <table class="responsive call-table">
              <caption class="sr-only">Calls, newest first, {page.total} in all</caption>
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">From</th>
                  <th scope="col">To</th>
                  <th scope="col">Direction</th>
                  <th scope="col">Outcome</th>
                  <th scope="col" class="num">Talk time</th>
                  <th scope="col">Trunk</th>
                  <th scope="col"><span class="sr-only">Details</span></th>
                </tr>
              </thead>
              <tbody>
                {page.items.map((c) => (
                  <tr key={c.id} class={c.disposition === 'rejected' || c.disposition === 'failed' ? 'error-row' : ''}>
                    <td data-label="Time">{dateTime(c.startedAt)}</td>
                    <td data-label="From"><Party number={c.caller} name={c.callerName} /></td>
                    <td data-label="To">{c.callee}</td>
                    <td data-label="Direction">{c.direction}</td>
                    <td data-label="Outcome" class="wrap"><Outcome c={c} /></td>
                    <td data-label="Talk time" class="num">{c.answeredAt === null ? '—' : duration(talkSeconds(c))}</td>
                    <td data-label="Trunk">{c.trunk ?? <span class="muted">—</span>}</td>
                    <td data-label="Details"><a href={href('calls', String(c.id))} aria-label={`Details of the call from ${c.caller} to ${c.callee} at ${dateTime(c.startedAt)}`}>Details</a></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {page.items.length === 0 && <p class="muted">No calls match.</p>}
          <nav class="pager" aria-label="Pages">
            <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>Previous</button>
            <span role="status">{page.total === 0 ? 'No calls' : `${offset + 1}–${last} of ${page.total}`}</span>
            <button type="button" disabled={last >= page.total} onClick={() => setOffset(offset + PAGE)}>Next</button>
          </nav>
        </>
      )}
    </>
  );
}

const num = (v: number | null, unit = '') => (v === null ? '—' : `${v}${unit}`);

function MediaRow({ side, m }: { side: string; m: CdrMediaSide }) {
  return (
    <tr>
      <td data-label="Side"><strong>{side}</strong></td>
      <td data-label="Address" class="mono">{m.address ?? '—'}</td>
      <td data-label="Stream">{m.stream || '—'}</td>
      <td data-label="Packets in" class="num">{num(m.packetsIn)}</td>
      <td data-label="Packets out" class="num">{num(m.packetsOut)}</td>
      <td data-label="Lost" class="num">{m.lost === null ? '—' : `${m.lost} (${m.lossPercent ?? 0}%)`}</td>
      <td data-label="Jitter" class="num">{num(m.jitterMs, ' ms')}</td>
    </tr>
  );
}

function CallDetail({ id }: { id: string }) {
  const { api } = useApp();
  const [c, setC] = useState<Cdr | null>(null);
  const [err, setErr] = useState<ApiError | null>(null);
  useEffect(() => {
    api.get<Cdr>(`/api/calls/${encodeURIComponent(id)}`).then(setC, (e) => setErr(asApiError(e)));
  }, [id]);
  if (err) {
    return (
      <>
        <p class="crumbs"><a href={href('calls')}>Call log</a> ›</p>
        <PageTitle>Call {id}</PageTitle>
        <Notice kind="error">{err.status === 404 ? 'There is no such call record.' : err.message}</Notice>
      </>
    );
  }
  if (!c) return <Loading />;
  return (
    <>
      <p class="crumbs"><a href={href('calls')}>Call log</a> ›</p>
      <PageTitle>Call from {c.caller} to {c.callee}</PageTitle>
      <dl class="call-facts">
        <div><dt>Outcome</dt><dd><span class={`outcome outcome-${c.disposition}`}>{DISPOSITION_WORDS[c.disposition]}</span> {statusWords(c.status, c.reason)}</dd></div>
        <div><dt>Started</dt><dd>{dateTime(c.startedAt)}</dd></div>
        <div><dt>Answered</dt><dd>{c.answeredAt === null ? 'Not answered' : dateTime(c.answeredAt)}</dd></div>
        <div><dt>Ended</dt><dd>{dateTime(c.endedAt)}</dd></div>
        <div><dt>Talk time</dt><dd>{c.answeredAt === null ? '—' : duration(talkSeconds(c))}</dd></div>
        <div><dt>Direction</dt><dd>{c.direction}</dd></div>
        <div><dt>Caller</dt><dd>{c.caller}{c.callerName ? ` (${c.callerName})` : ''}{c.callerExtension ? '' : <span class="sub">not a local user</span>}</dd></div>
        <div><dt>Callee</dt><dd>{c.callee}{c.calleeExtension && c.calleeExtension !== c.callee ? ` → extension ${c.calleeExtension}` : ''}</dd></div>
        <div><dt>Trunk</dt><dd>{c.trunk ?? '—'}</dd></div>
        <div><dt>Codec</dt><dd>{c.codec ?? '—'}</dd></div>
        <div><dt>Call reference</dt><dd class="mono">{c.callRef}</dd></div>
      </dl>

      <h2>Legs</h2>
      {c.legs.length === 0 ? (
        <p class="muted">No leg: the call was {c.disposition === 'answered' ? 'answered by the server itself' : 'refused before any phone or trunk was tried'}.</p>
      ) : (
        <div class="table-wrap">
          <table class="responsive">
            <caption class="sr-only">Every attempt to reach the callee</caption>
            <thead><tr><th scope="col">Target</th><th scope="col">SIP status</th><th scope="col">Call-ID</th></tr></thead>
            <tbody>
              {c.legs.map((l) => (
                <tr key={l.callId}>
                  <td data-label="Target" class="mono wrap">{l.target}</td>
                  <td data-label="SIP status" class="wrap">{statusWords(l.status, l.reason ?? '')}</td>
                  <td data-label="Call-ID" class="mono wrap">{l.callId}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <h2>Media</h2>
      {c.media === null ? <p class="muted">No media: the call was not answered.</p> : (
        <>
          <p>{c.media.connectionType}{c.media.caller.packetsIn === null ? ' — packet counts exist only for calls the server relays.' : ''}</p>
          <div class="table-wrap">
            <table class="responsive">
              <caption class="sr-only">Media per side when the call ended</caption>
              <thead>
                <tr>
                  <th scope="col">Side</th><th scope="col">RTP address</th><th scope="col">Stream</th><th scope="col" class="num">Packets in</th>
                  <th scope="col" class="num">Packets out</th><th scope="col" class="num">Lost</th><th scope="col" class="num">Jitter</th>
                </tr>
              </thead>
              <tbody>
                <MediaRow side={`Caller (${c.caller})`} m={c.media.caller} />
                <MediaRow side={`Callee (${c.callee})`} m={c.media.callee} />
              </tbody>
            </table>
          </div>
        </>
      )}

      {c.segments.length > 1 && (
        <>
          <h2>Who talked to whom</h2>
          <ol>
            {c.segments.map((s, i) => <li key={i}>{s.a} ↔ {s.b}: {dateTime(s.startedAt)} for {duration((s.endedAt - s.startedAt) / 1000)}</li>)}
          </ol>
        </>
      )}
    </>
  );
}
