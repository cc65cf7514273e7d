// Gateway → Users (SPEC B.1 List Users, B-14, B-32): the overview counters,
// each gateway user's upstream line with its handset (IPEI, model,
// firmware), subscription, registration (a failed line says why) and latest
// activity, refreshed while shown; bulk enable, disable and re-register; the
// line form (#/gateway/new, #/gateway/<extension>) whose messages are the
// line model's (src/model/gateway.ts), as the server reports them.
import { useEffect, useState } from 'preact/hooks';
import { inheritsUserName, lineDisplayName, type LineStatus, type LineView } from '../../../src/model/gateway.ts';
import { asApiError, describeError, type ApiError } from '../api.ts';
import { ago, dateTime, plural } from '../format.ts';
import { href, navigate } from '../router.ts';
import { CheckField, ErrorSummary, Fieldset, FormEnd, Loading, Notice, PageTitle, RequiredNote, TextField, useApp } from '../ui.tsx';
import { registrationBadge, registrationText, useGatewayStatus } from './gateway-status.ts';
import './gateway.css';

const POLL_MS = 5_000;
const linePath = (ext: string) => `/api/gateway/lines/${encodeURIComponent(ext)}`;

interface Form {
  extension: string; upstreamUser: string; upstreamDomain: string; authUser: string; password: string;
  displayName: string; ipei: string; accessCode: string; standbyText: string; disabled: boolean;
}

function formOf(l: LineView | null): Form {
  return {
    extension: l?.extension ?? '', upstreamUser: l?.upstreamUser ?? '', upstreamDomain: l?.upstreamDomain ?? '', authUser: l?.authUser ?? '',
    password: '', displayName: l?.displayName ?? '', ipei: l?.ipei ?? '', accessCode: l?.accessCode ?? '', standbyText: l?.standbyText ?? '',
    disabled: l?.disabled ?? false,
  };
}

function LineForm({ line, onDone }: { line: LineView | null; onDone: (msg: string) => void }) {
  const { api, canWrite } = useApp();
  const [f, setF] = useState(formOf(line));
  const [err, setErr] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const set = <K extends keyof Form>(k: K) => (v: Form[K]) => setF((x) => ({ ...x, [k]: v }));
  const ro = !canWrite;
  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    setErr(null);
    setBusy(true);
    const ext = line?.extension ?? f.extension.trim();
    const body: Record<string, unknown> = {
      upstreamUser: f.upstreamUser.trim(), upstreamDomain: f.upstreamDomain.trim(), authUser: f.authUser.trim(),
      displayName: f.displayName.trim(), ipei: f.ipei.trim() === '' ? null : f.ipei.trim(), accessCode: f.accessCode.trim(),
      standbyText: f.standbyText, disabled: f.disabled,
    };
    // Write-only: left out when blank, so the stored one stays (a new line has none: trusted-server mode).
    if (f.password !== '') body.password = f.password;
    try {
      if (line) await api.patch(linePath(ext), body);
      else await api.put(linePath(ext), body);
      onDone(`Line of ${ext} saved.`);
    } catch (e2) {
      setErr(asApiError(e2));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="form" onSubmit={submit} noValidate aria-labelledby="gl-form-h">
      <h2 id="gl-form-h">{line ? `Line of ${line.extension}` : 'Add line'}</h2>
      <ErrorSummary err={err} idOf={(p) => `gl-${p.split('.')[0]}`} />
      {!ro && <RequiredNote />}
      <Fieldset legend="Upstream account">
        {!line && (
          <TextField id="gl-extension" label="Local user (extension)" value={f.extension} onInput={set('extension')} required disabled={ro}
            error={err?.field('extension')} hint="The handset registers to Switchboard as this user." />
        )}
        <TextField id="gl-upstreamUser" label="Upstream user" value={f.upstreamUser} onInput={set('upstreamUser')} required disabled={ro}
          error={err?.field('upstreamUser')} hint="What the call server knows the handset as (41510, jim.kander)." />
        <TextField id="gl-upstreamDomain" label="Domain" value={f.upstreamDomain} onInput={set('upstreamDomain')} disabled={ro}
          error={err?.field('upstreamDomain')} hint="The registrar's domain; blank: the gateway's default domain." />
        <TextField id="gl-authUser" label="Authentication user" value={f.authUser} onInput={set('authUser')} disabled={ro}
          error={err?.field('authUser')} hint="Blank: the upstream user. Unused with a trusted server." />
        <TextField id="gl-password" label="Password" type="password" autoComplete="new-password" value={f.password} onInput={set('password')}
          disabled={ro} error={err?.field('password')}
          hint={line ? (line.hasPassword ? 'Set. Blank keeps it; never shown.' : 'None set. Never shown once saved.') : 'Never shown once saved.'} />
        <TextField id="gl-displayName" label="Display name" value={f.displayName} onInput={set('displayName')} disabled={ro}
          error={err?.field('displayName')} hint="Blank: the local user's name." />
      </Fieldset>
      <Fieldset legend="Handset">
        <TextField id="gl-ipei" label="IPEI" value={f.ipei} onInput={set('ipei')} disabled={ro} error={err?.field('ipei')}
          placeholder="05003 0733588" hint="5 digits, a space, 7 digits; blank: no handset yet." />
        <TextField id="gl-accessCode" label="Access code" value={f.accessCode} onInput={set('accessCode')} inputMode="numeric" disabled={ro}
          error={err?.field('accessCode')} hint="Up to 8 digits, asked when the handset subscribes." />
        <TextField id="gl-standbyText" label="Standby text" value={f.standbyText} onInput={set('standbyText')} disabled={ro}
          error={err?.field('standbyText')} hint="Up to 24 characters on the idle screen." />
        <CheckField id="gl-disabled" label="Disabled (not registered upstream)" checked={f.disabled} onChange={set('disabled')} disabled={ro}
          error={err?.field('disabled')} />
      </Fieldset>
      <FormEnd err={err} save={line ? 'Save line' : 'Add line'} cancelHref={href('gateway')} busy={busy} />
    </form>
  );
}

/** The upstream account: the AoR the line registers (its domain may be the gateway's default), or as stored before the status says. */
function aorText(l: LineView, s: LineStatus | undefined): string {
  if (s?.aor) return s.aor.replace(/^sips?:/, '');
  return l.upstreamDomain ? `${l.upstreamUser}@${l.upstreamDomain}` : l.upstreamUser;
}

function Registration({ s }: { s: LineStatus | undefined }) {
  if (!s) return <span class="muted">—</span>;
  const failed = s.registration === 'failed';
  return (
    <span data-registration={s.registration} title={s.failure ? `${dateTime(s.failure.at)}${s.failure.status ? `, SIP ${s.failure.status}` : ''}` : undefined}>
      <span class={`badge ${registrationBadge(s)}`}>{registrationText(s)}</span>
      {failed && s.failure && <span class="reason" data-failure={s.failure.code}>{s.failure.text}</span>}
      {s.registration === 'registered' && s.registeredVia && <span class="sub mono nowrap">{s.registeredVia}</span>}
    </span>
  );
}

export function GatewayLinesPage({ edit }: { edit: string | undefined }) {
  const { api, canWrite } = useApp();
  const [lines, setLines] = useState<LineView[] | undefined>();
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [message, setMessage] = useState('');
  const [error, setError] = useState('');
  const [changes, setChanges] = useState(0);
  const { status, error: statusError } = useGatewayStatus(api, POLL_MS, changes);
  useEffect(() => {
    let live = true;
    api.get<{ items: LineView[] }>('/api/gateway/lines').then((r) => {
      if (!live) return;
      setLines(r.items);
      setSelected((s) => new Set([...s].filter((x) => r.items.some((l) => l.extension === x))));
    }, (e) => live && setError(describeError(e)));
    return () => {
      live = false;
    };
  }, [changes]);
  // Back at the list from a form: what was said about the list is old news.
  useEffect(() => {
    if (edit !== undefined) setMessage('');
  }, [edit]);

  const refresh = () => setChanges((n) => n + 1);
  const done = (msg: string) => {
    setMessage(msg);
    setError('');
    refresh();
    navigate('gateway');
  };
  const bulk = async (action: 'enable' | 'disable' | 'reregister') => {
    const extensions = [...selected];
    if (extensions.length === 0) return;
    setMessage('');
    setError('');
    try {
      if (action === 'reregister') {
        const r = await api.post<{ lines: number }>('/api/gateway/lines/reregister', { extensions });
        setMessage(`${plural(r.lines, 'line')} registering again.`);
      } else {
        // All or nothing: an extension without a line refuses the whole request (404 naming it).
        const r = await api.post<{ items: LineView[] }>('/api/gateway/lines/bulk', { action, extensions });
        setMessage(`${plural(r.items.length, 'line')} ${action === 'enable' ? 'enabled' : 'disabled'}.`);
      }
      setSelected(new Set());
      refresh();
    } catch (e) {
      setError(describeError(e));
    }
  };
  const toggle = (ext: string, on: boolean) => {
    const next = new Set(selected);
    if (on) next.add(ext);
    else next.delete(ext);
    setSelected(next);
  };

  const byExt = new Map(status?.lines.map((s) => [s.extension, s]));
  const c = status?.counters;
  const failing = status?.lines.filter((s) => s.registration === 'failed').length ?? 0;
  const current = edit !== undefined && edit !== 'new' ? lines?.find((l) => l.extension === edit) : undefined;
  const all = lines !== undefined && lines.length > 0 && lines.every((l) => selected.has(l.extension));

  return (
    <>
      <div class="page-head">
        <PageTitle>Gateway users</PageTitle>
        {canWrite && edit === undefined && <a class="button primary" href={href('gateway', 'new')}>Add line</a>}
      </div>
      {status?.mode === 'call-server' && (
        <Notice kind="info">Switchboard runs as a call server only: these lines register upstream once Gateway → Settings sets the mode to gateway or both.</Notice>
      )}
      <Notice kind="ok">{message}</Notice>
      <Notice kind="error">{error}</Notice>
      {edit !== undefined && (lines === undefined ? <Loading />
        : edit === 'new' ? <LineForm line={null} onDone={done} />
        : current ? <LineForm key={current.extension} line={current} onDone={done} />
        : <Notice kind="error">No line for {edit}.</Notice>)}
      {edit === undefined && (
        <section aria-labelledby="gw-lines-h">
          <h2 id="gw-lines-h" class="sr-only">Gateway users</h2>
          <ul class="summary" aria-label="Gateway counters" data-gateway-counters>
            <li data-counter="sipUsers"><strong>{c?.sipUsers ?? '…'}</strong> SIP users</li>
            <li data-counter="subscribed"><strong>{c?.subscribed ?? '…'}</strong> subscribed</li>
            <li data-counter="registered"><strong>{c?.registered ?? '…'}</strong> registered</li>
            <li data-counter="total"><strong>{c?.total ?? '…'}</strong> total</li>
            {failing > 0 && <li class="has-alarms" data-counter="failed"><strong>{failing}</strong> failed</li>}
          </ul>
          {statusError && <Notice kind="info">Line status not available: {statusError}</Notice>}
          {canWrite && (
            <div class="bulk" role="group" aria-label="Bulk actions">
              <span>{selected.size === 0 ? 'Select lines for bulk actions.' : `${plural(selected.size, 'line')} selected:`}</span>
              <button type="button" disabled={selected.size === 0} onClick={() => bulk('enable')}>Enable</button>
              <button type="button" disabled={selected.size === 0} onClick={() => bulk('disable')}>Disable</button>
              <button type="button" disabled={selected.size === 0} onClick={() => bulk('reregister')}>Re-register</button>
            </div>
          )}
          {lines === undefined ? (!error && <Loading />) : lines.length === 0 ? (
            <p class="muted">No gateway users yet. Add a line for a local user to register it upstream.</p>
          ) : (
            <div class="table-wrap">
              <table class="responsive" aria-labelledby="gw-lines-h">
                <thead><tr>
                  {canWrite && (
                    <th scope="col" class="check">
                      <input type="checkbox" aria-label="Select all lines" checked={all}
                        onChange={(e) => setSelected(new Set((e.currentTarget as HTMLInputElement).checked ? lines.map((l) => l.extension) : []))} />
                    </th>
                  )}
                  <th scope="col">Enabled</th><th scope="col">User</th><th scope="col">Display name</th><th scope="col">IPEI</th>
                  <th scope="col">Handset</th><th scope="col">Firmware</th><th scope="col">Subscription</th>
                  <th scope="col">Registration</th><th scope="col">Latest activity</th>
                </tr></thead>
                <tbody>
                  {lines.map((l) => {
                    const s = byExt.get(l.extension);
                    return (
                      <tr key={l.extension} data-line={l.extension}
                        class={l.disabled ? 'disabled-row' : s?.registration === 'failed' ? 'error-row' : undefined}>
                        {canWrite && (
                          <td class="check">
                            <input type="checkbox" aria-label={`Select ${l.extension}`} checked={selected.has(l.extension)}
                              onChange={(e) => toggle(l.extension, (e.currentTarget as HTMLInputElement).checked)} />
                          </td>
                        )}
                        <td data-label="Enabled" data-enabled={String(!l.disabled)}>{l.disabled ? 'No' : 'Yes'}</td>
                        <td data-label="User" class="wrap">
                          <span>
                            <a href={href('gateway', l.extension)} aria-label={`Line of ${l.extension}`}>{l.extension}</a>
                            <span class="sub mono">{aorText(l, s)}</span>
                          </span>
                        </td>
                        <td data-label="Display name" data-inherited={String(inheritsUserName(l))}>
                          <span>
                            {lineDisplayName(l) || <span class="muted">—</span>}
                            {inheritsUserName(l) && <span class="sub muted">the user's name</span>}
                          </span>
                        </td>
                        <td data-label="IPEI" class="mono nowrap">{l.ipei ?? <span class="muted">—</span>}</td>
                        <td data-label="Handset">{l.handset.model || <span class="muted">—</span>}</td>
                        <td data-label="Firmware">{l.handset.firmware || <span class="muted">—</span>}</td>
                        <td data-label="Subscription">
                          {s ? <span aria-label={s.subscribed ? 'Subscribed' : 'Not subscribed'} title={s.subscribed ? 'Subscribed' : 'Not subscribed'}>
                            {s.subscribed ? '✓' : '✗'}</span> : <span class="muted">—</span>}
                        </td>
                        <td data-label="Registration"><Registration s={s} /></td>
                        <td data-label="Latest activity" class="nowrap">{ago(s?.latestActivity)}</td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )}
        </section>
      )}
    </>
  );
}
