// Trunks (SIP connections to providers or other call servers) and the
// inbound numbers (DIDs) routed to extensions.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, describeError } from '../api.ts';
import { href, navigate } from '../router.ts';
import type { Did, Trunk } from '../types.ts';
import {
  CheckField, ErrorSummary, Fieldset, FormEnd, Loading, Notice, PageTitle, RequiredNote, SelectField, TextField, useApp,
} from '../ui.tsx';

interface TrunkForm {
  name: string; host: string; port: string; transport: 'udp' | 'tcp' | 'tls'; registerUser: string; registerPassword: string;
  clearPassword: boolean; outboundProxy: string; prefix: string; strip: string; addPrefix: string; enabled: boolean;
  fallbackTrunk: string; probeIntervalSec: string;
}

function formOf(t: Trunk | null): TrunkForm {
  return {
    name: t?.name ?? '', host: t?.host ?? '', port: t ? String(t.port) : '', transport: t?.transport ?? 'udp',
    registerUser: t?.registerUser ?? '', registerPassword: '', clearPassword: false, outboundProxy: t?.outboundProxy ?? '',
    prefix: t?.prefix ?? '', strip: t ? String(t.strip) : '0', addPrefix: t?.addPrefix ?? '', enabled: t?.enabled ?? true,
    fallbackTrunk: t?.fallbackTrunk ?? '', probeIntervalSec: t?.probeIntervalSec === null || !t ? '' : String(t.probeIntervalSec),
  };
}

function bodyOf(f: TrunkForm): Record<string, unknown> {
  const b: Record<string, unknown> = {
    name: f.name.trim(), host: f.host.trim(), transport: f.transport, registerUser: f.registerUser.trim() || null,
    outboundProxy: f.outboundProxy.trim() || null, prefix: f.prefix.trim(), strip: Number(f.strip || '0'),
    addPrefix: f.addPrefix.trim(), enabled: f.enabled, fallbackTrunk: f.fallbackTrunk || null,
    probeIntervalSec: f.probeIntervalSec.trim() === '' ? null : Number(f.probeIntervalSec),
  };
  if (f.port.trim()) b.port = Number(f.port);
  if (f.clearPassword) b.registerPassword = null;
  else if (f.registerPassword) b.registerPassword = f.registerPassword;
  return b;
}

function TrunkEditor({ trunk, others, onDone }: { trunk: Trunk | null; others: string[]; onDone: (msg: string) => void }) {
  const { api, canWrite } = useApp();
  const [f, setF] = useState(formOf(trunk));
  const [err, setErr] = useState<ApiError | null>(null);
  const set = <K extends keyof TrunkForm>(k: K) => (v: TrunkForm[K]) => setF((x) => ({ ...x, [k]: v }));
  const fe = (p: string) => err?.field(p);
  const ro = !canWrite;
  const submit = async (e: Event) => {
    e.preventDefault();
    setErr(null);
    try {
      if (trunk) await api.patch(`/api/trunks/${encodeURIComponent(trunk.name)}`, bodyOf(f));
      else await api.post('/api/trunks', bodyOf(f));
      onDone(`Trunk ${f.name.trim()} saved.`);
    } catch (e2) {
      setErr(e2 instanceof ApiError ? e2 : new ApiError(0, 'error', describeError(e2)));
    }
  };
  return (
    <form class="form" onSubmit={submit} noValidate aria-labelledby="trunk-form-h">
      <h2 id="trunk-form-h">{trunk ? `Trunk ${trunk.name}` : 'Add trunk'}</h2>
      <ErrorSummary err={err} idOf={(p) => `t-${p.split('.')[0]}`} />
      {!ro && <RequiredNote />}
      <Fieldset legend="Connection">
        <TextField id="t-name" label="Name" value={f.name} onInput={set('name')} required disabled={ro} error={fe('name')} />
        <TextField id="t-host" label="Host" value={f.host} onInput={set('host')} required disabled={ro} error={fe('host')} hint="Name or address of the peer." />
        <TextField id="t-port" label="Port" type="number" value={f.port} onInput={set('port')} disabled={ro} error={fe('port')} hint="Blank: 5060, or 5061 for TLS." />
        <SelectField id="t-transport" label="Transport" value={f.transport} onChange={set('transport')} disabled={ro} error={fe('transport')}
          options={[{ value: 'udp', label: 'UDP' }, { value: 'tcp', label: 'TCP' }, { value: 'tls', label: 'TLS' }]} />
        <TextField id="t-outboundProxy" label="Outbound proxy" value={f.outboundProxy} onInput={set('outboundProxy')} disabled={ro}
          error={fe('outboundProxy')} hint="HOST:PORT; blank for none." />
        <TextField id="t-probeIntervalSec" label="Check every (seconds)" type="number" value={f.probeIntervalSec} onInput={set('probeIntervalSec')}
          disabled={ro} error={fe('probeIntervalSec')} hint="OPTIONS to see that the peer is up. Blank: the system default; 0: never checked, for a peer that ignores OPTIONS." />
        <CheckField id="t-enabled" label="Enabled" checked={f.enabled} onChange={set('enabled')} disabled={ro} />
      </Fieldset>
      <Fieldset legend="Registration">
        <TextField id="t-registerUser" label="Register as user" value={f.registerUser} onInput={set('registerUser')} disabled={ro}
          error={fe('registerUser')} hint="Blank: the trunk does not register." />
        <TextField id="t-registerPassword" label={trunk?.hasRegisterPassword ? 'New register password' : 'Register password'} type="password"
          value={f.registerPassword} onInput={set('registerPassword')} disabled={ro || f.clearPassword} error={fe('registerPassword')}
          hint={trunk?.hasRegisterPassword ? 'A password is set. Blank keeps it.' : undefined} autoComplete="new-password" />
        {trunk?.hasRegisterPassword && <CheckField id="t-clearPassword" label="Remove the password" checked={f.clearPassword} onChange={set('clearPassword')} disabled={ro} />}
      </Fieldset>
      <Fieldset legend="Outbound digits">
        <TextField id="t-prefix" label="Dialled prefix" value={f.prefix} onInput={set('prefix')} disabled={ro} error={fe('prefix')} hint="Numbers starting with this go out here, e.g. 0." />
        <TextField id="t-strip" label="Digits to strip" type="number" value={f.strip} onInput={set('strip')} disabled={ro} error={fe('strip')} />
        <TextField id="t-addPrefix" label="Prefix to add" value={f.addPrefix} onInput={set('addPrefix')} disabled={ro} error={fe('addPrefix')} />
        <SelectField id="t-fallbackTrunk" label="Fallback trunk" value={f.fallbackTrunk} onChange={set('fallbackTrunk')} disabled={ro}
          error={fe('fallbackTrunk')} hint="Takes the calls while this trunk is down (no answer to OPTIONS), with its own digits to strip and add. None: callers hear at once that the trunk is down."
          options={[{ value: '', label: 'None' }, ...others.map((n) => ({ value: n, label: n }))]} />
      </Fieldset>
      <FormEnd err={err} save={trunk ? 'Save trunk' : 'Add trunk'} cancelHref={href('trunks')} />
    </form>
  );
}

function Dids({ dids, onChange }: { dids: Did[]; onChange: (msg: string) => void }) {
  const { api, canWrite } = useApp();
  const [number, setNumber] = useState('');
  const [extension, setExtension] = useState('');
  const [err, setErr] = useState<ApiError | null>(null);
  const add = async (e: Event) => {
    e.preventDefault();
    setErr(null);
    try {
      await api.post('/api/dids', { number: number.trim(), extension: extension.trim() });
      setNumber('');
      setExtension('');
      onChange(`Number ${number.trim()} routed to ${extension.trim()}.`);
    } catch (e2) {
      setErr(e2 instanceof ApiError ? e2 : new ApiError(0, 'error', describeError(e2)));
    }
  };
  const remove = async (d: Did) => {
    if (!window.confirm(`Remove number ${d.number}?`)) return;
    try {
      await api.delete(`/api/dids/${encodeURIComponent(d.number)}`);
      onChange(`Number ${d.number} removed.`);
    } catch (e2) {
      setErr(e2 instanceof ApiError ? e2 : new ApiError(0, 'error', describeError(e2)));
    }
  };
  return (
    <section aria-labelledby="dids-h">
      <h2 id="dids-h">Inbound numbers (DIDs)</h2>
      {dids.length === 0 ? <p class="muted">No inbound numbers.</p> : (
        <div class="table-wrap">
          <table class="responsive" aria-labelledby="dids-h">
            <thead><tr><th scope="col">Number</th><th scope="col">Extension</th>{canWrite && <th scope="col"><span class="sr-only">Actions</span></th>}</tr></thead>
            <tbody>
              {dids.map((d) => (
                <tr key={d.number}>
                  <td data-label="Number" class="mono">{d.number}</td>
                  <td data-label="Extension"><a href={href('users', d.extension)}>{d.extension}</a></td>
                  {canWrite && <td><button type="button" class="danger small" onClick={() => remove(d)} aria-label={`Remove number ${d.number}`}>Remove</button></td>}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {canWrite && (
        <form class="inline-form" onSubmit={add} noValidate>
          <TextField id="did-number" label="Number" value={number} onInput={setNumber} error={err?.field('number')} hint="Digits, optionally after +" />
          <TextField id="did-extension" label="Route to extension" value={extension} onInput={setExtension} error={err?.field('extension')} />
          <div class="field"><span class="label-like" aria-hidden="true">&nbsp;</span><button type="submit">Add number</button></div>
        </form>
      )}
      <Notice kind="error">{err && err.issues.length === 0 ? err.message : ''}</Notice>
    </section>
  );
}

export function TrunksPage({ edit }: { edit: string | undefined }) {
  const { api, canWrite } = useApp();
  const [trunks, setTrunks] = useState<Trunk[] | null>(null);
  const [dids, setDids] = useState<Did[]>([]);
  const [error, setError] = useState('');
  const [message, setMessage] = useState('');
  const [reload, setReload] = useState(0);
  useEffect(() => {
    Promise.all([api.get<{ items: Trunk[] }>('/api/trunks'), api.get<{ items: Did[] }>('/api/dids')]).then(([t, d]) => {
      setTrunks(t.items);
      setDids(d.items);
    }, (e) => setError(describeError(e)));
  }, [reload]);
  const done = (msg: string) => {
    setMessage(msg);
    setReload((n) => n + 1);
    navigate('trunks');
  };
  const remove = async (t: Trunk) => {
    if (!window.confirm(`Remove trunk ${t.name}?`)) return;
    try {
      await api.delete(`/api/trunks/${encodeURIComponent(t.name)}`);
      done(`Trunk ${t.name} removed.`);
    } catch (e) {
      setError(describeError(e));
    }
  };
  const editing = edit === 'new' ? null : trunks?.find((t) => t.name === edit);

  return (
    <>
      <div class="page-head">
        <PageTitle>Trunks &amp; DIDs</PageTitle>
        {canWrite && edit === undefined && <a class="button primary" href={href('trunks', 'new')}>Add trunk</a>}
      </div>
      <Notice kind="ok">{message}</Notice>
      <Notice kind="error">{error}</Notice>
      {edit !== undefined && (trunks === null ? <Loading /> : editing === undefined
        ? <Notice kind="error">No trunk named {edit}.</Notice>
        : <TrunkEditor key={edit} trunk={editing} others={trunks.map((t) => t.name).filter((n) => n !== edit)} onDone={done} />)}
      <section aria-labelledby="trunks-h">
        <h2 id="trunks-h">Trunks</h2>
        {trunks === null ? <Loading /> : trunks.length === 0 ? <p class="muted">No trunks.</p> : (
          <div class="table-wrap">
            <table class="responsive" aria-labelledby="trunks-h">
              <thead>
                <tr><th scope="col">Name</th><th scope="col">Peer</th><th scope="col">Registers as</th><th scope="col">Prefix</th>
                  <th scope="col">Fallback</th><th scope="col">Enabled</th>{canWrite && <th scope="col"><span class="sr-only">Actions</span></th>}</tr>
              </thead>
              <tbody>
                {trunks.map((t) => (
                  <tr key={t.name}>
                    <td data-label="Name"><a href={href('trunks', t.name)}>{t.name}</a></td>
                    <td data-label="Peer" class="mono">{t.transport.toUpperCase()} {t.host}:{t.port}</td>
                    <td data-label="Registers as">{t.registerUser ?? '—'}</td>
                    <td data-label="Prefix" class="mono">{t.prefix || '—'}{t.strip ? ` (strip ${t.strip})` : ''}{t.addPrefix ? ` +${t.addPrefix}` : ''}</td>
                    <td data-label="Fallback">{t.fallbackTrunk ?? '—'}</td>
                    <td data-label="Enabled">{t.enabled ? 'Yes' : 'No'}</td>
                    {canWrite && <td><button type="button" class="danger small" onClick={() => remove(t)} aria-label={`Remove trunk ${t.name}`}>Remove</button></td>}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <Dids dids={dids} onChange={(m) => {
        setMessage(m);
        setReload((n) => n + 1);
      }} />
    </>
  );
}
