// Provisioning → Devices: every phone and DECT base the provisioning server
// writes files for, with the last request each made (when, which file, what
// it got; failures marked), filtered by text and family; add, change, remove;
// new provisioning secrets, shown once; and per device the files it would get
// and where to point it (#/devices/<mac>/files).
import { useEffect, useState } from 'preact/hooks';
import { describeError } from '../api.ts';
import { ago, dateTime, macText, plural } from '../format.ts';
import { href, navigate } from '../router.ts';
import type { Device, DeviceRender, DeviceSecrets, ProvisioningInfo } from '../types.ts';
import { Loading, Notice, PageTitle, SelectField, TextField, useApp } from '../ui.tsx';
import { DeviceForm, shortTitle } from './provisioning-device-form.tsx';
import './provisioning.css';

/** A request the provisioning server refused or could not answer. */
export const failed = (status: number) => status >= 400;

function LastFetch({ d }: { d: Device }) {
  const f = d.lastFetch;
  if (!f) return <span class="muted">Never</span>;
  return (
    <span class="fetch" title={`${dateTime(f.at)} from ${f.source}`}>
      <span>{ago(f.at)} <span class="mono">{f.file}</span></span>
      <span><span class={`badge ${failed(f.status) ? 'badge-bad' : 'badge-ok'}`}>{f.status} {f.result}</span></span>
    </span>
  );
}

/** The credentials made just now: shown once, never again. */
function SecretsPanel({ mac, secrets, url }: { mac: string; secrets: DeviceSecrets; url: string | undefined }) {
  return (
    <section class="panel secrets" aria-labelledby="secrets-h" data-secrets={mac}>
      <h2 id="secrets-h">Provisioning credentials of {macText(mac)}</h2>
      <p>Shown only now: note them for the phone. Making new ones stops these at once.</p>
      <dl class="facts">
        {url && <><dt>Provisioning server</dt><dd class="mono">{url}</dd></>}
        <dt>User name</dt><dd class="mono" data-secret="user">{secrets.user}</dd>
        <dt>Password</dt><dd class="mono" data-secret="password">{secrets.password}</dd>
        <dt>Or, without a password</dt><dd class="mono" data-secret="token-url">{secrets.tokenUrl}</dd>
      </dl>
    </section>
  );
}

function FilesView({ device, info }: { device: Device; info: ProvisioningInfo | undefined }) {
  const { api } = useApp();
  const [render, setRender] = useState<DeviceRender | undefined>();
  const [error, setError] = useState('');
  useEffect(() => {
    api.get<DeviceRender>(`/api/devices/${device.mac}/render`).then(setRender, (e) => setError(describeError(e)));
  }, [device.mac]);
  return (
    <section aria-labelledby="files-h">
      <h2 id="files-h">Files of {macText(device.mac)}</h2>
      <dl class="facts">
        <dt>Point the phone at</dt><dd class="mono" data-url>{info?.url ?? '…'}</dd>
        <dt>User name</dt><dd><span class="mono">{device.mac}</span> with its provisioning password, or its token URL alone</dd>
        {info?.httpUrl && <><dt>Bootstrap (HTTP)</dt><dd class="mono">{info.httpUrl}</dd></>}
      </dl>
      {info && !info.running && <Notice kind="info">The provisioning server is not listening: start it with --provisioning or the provisioning.listen setting.</Notice>}
      <Notice kind="error">{error}</Notice>
      {render === undefined ? (!error && <Loading />) : render.refused ? (
        <Notice kind="error">Refused: {render.refused} The device gets 409 until this is changed.</Notice>
      ) : (
        <div class="table-wrap">
          <table class="responsive" aria-labelledby="files-h">
            <thead><tr><th scope="col">File</th><th scope="col">Type</th><th scope="col">Size</th><th scope="col">Holds</th></tr></thead>
            <tbody>
              {render.files.map((f) => (
                <tr key={f.name} data-file={f.name}>
                  <td data-label="File" class="mono">{f.name}</td>
                  <td data-label="Type">{f.contentType}</td>
                  <td data-label="Size" class="num">{f.bytes} bytes</td>
                  <td data-label="Holds">{f.credentials ? 'SIP passwords: served over authenticated HTTPS only' : 'settings'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {render && render.warnings.length > 0 && (
        <>
          <h3>Warnings</h3>
          <ul data-warnings>{render.warnings.map((w, i) => <li key={i}>{w}</li>)}</ul>
        </>
      )}
      <p><a href={href('devices')}>Back to the devices</a></p>
    </section>
  );
}

function matches(d: Device, text: string): boolean {
  if (text === '') return true;
  const t = text.toLowerCase();
  const bare = t.replace(/[:.-]/g, '');
  return (bare !== '' && d.mac.includes(bare)) || d.label.toLowerCase().includes(t) || (d.model ?? '').toLowerCase().includes(t)
    || d.extensions.some((e) => e.includes(t));
}

export function DevicesPage({ mac, view }: { mac: string | undefined; view: string | undefined }) {
  const { api, canWrite } = useApp();
  const [devices, setDevices] = useState<Device[] | undefined>();
  const [info, setInfo] = useState<ProvisioningInfo | undefined>();
  const [note, setNote] = useState<{ kind: 'ok' | 'error'; text: string } | undefined>();
  const [secrets, setSecrets] = useState<{ mac: string; secrets: DeviceSecrets } | undefined>();
  const [text, setText] = useState('');
  const [family, setFamily] = useState('all');
  const load = () => api.get<{ items: Device[] }>('/api/devices').then((r) => setDevices(r.items), (e) => setNote({ kind: 'error', text: describeError(e) }));
  useEffect(() => {
    void load();
    api.get<ProvisioningInfo>('/api/provisioning').then(setInfo, (e) => setNote({ kind: 'error', text: describeError(e) }));
  }, [api]);
  // Arriving at the list again: its last fetches may have changed meanwhile.
  useEffect(() => {
    if (mac === undefined) void load();
    // On a form or a files view, what was said about the list is old news; credentials stay only until the list is left.
    else {
      setNote(undefined);
      setSecrets(undefined);
    }
  }, [mac]);

  const done = (message: string, made?: DeviceSecrets) => {
    setNote({ kind: 'ok', text: message });
    setSecrets(made ? { mac: made.user, secrets: made } : undefined);
    navigate('devices');
  };
  const resetSecrets = async (d: Device) => {
    if (!window.confirm(`Make new provisioning credentials for ${macText(d.mac)}? The phone must be given the new ones.`)) return;
    try {
      const s = await api.post<DeviceSecrets>(`/api/devices/${d.mac}/secret`);
      setNote({ kind: 'ok', text: `New provisioning credentials for ${macText(d.mac)}.` });
      setSecrets({ mac: d.mac, secrets: s });
    } catch (e) {
      setNote({ kind: 'error', text: describeError(e) });
    }
  };
  const remove = async (d: Device) => {
    if (!window.confirm(`Remove device ${macText(d.mac)}? Its users stay.`)) return;
    try {
      await api.delete(`/api/devices/${d.mac}`);
      setNote({ kind: 'ok', text: `Device ${macText(d.mac)} removed.` });
      setSecrets(undefined);
      await load();
    } catch (e) {
      setNote({ kind: 'error', text: describeError(e) });
    }
  };

  const titles = new Map(info?.families.map((f) => [f.family, f.title]));
  const current = mac !== undefined && mac !== 'new' ? devices?.find((d) => d.mac === mac.toLowerCase().replace(/[:.-]/g, '')) : undefined;
  const shown = (devices ?? []).filter((d) => (family === 'all' || d.family === family) && matches(d, text.trim()));
  const failing = (devices ?? []).filter((d) => d.lastFetch && failed(d.lastFetch.status)).length;

  let detail = null;
  if (mac !== undefined) {
    if (devices === undefined || info === undefined) detail = <Loading />;
    else if (mac === 'new') detail = <DeviceForm device={null} families={info.families} onDone={done} />;
    else if (!current) detail = <Notice kind="error">No device {mac}.</Notice>;
    else if (view === 'files') detail = <FilesView device={current} info={info} />;
    else detail = <DeviceForm key={current.mac} device={current} families={info.families} onDone={done} />;
  }

  return (
    <>
      <div class="page-head">
        <PageTitle>Devices</PageTitle>
        {canWrite && mac === undefined && <a class="button primary" href={href('devices', 'new')}>Add device</a>}
      </div>
      <Notice kind={note?.kind ?? 'ok'}>{note && <span data-note>{note.text}</span>}</Notice>
      {secrets && mac === undefined && <SecretsPanel mac={secrets.mac} secrets={secrets.secrets} url={info?.url} />}
      {detail}
      {mac === undefined && (
        <section aria-labelledby="devices-h">
          <h2 id="devices-h" class="sr-only">Device list</h2>
          <div class="toolbar" role="search">
            <TextField id="device-search" label="Search" type="search" value={text} onInput={setText} hint="MAC, label, model or extension" />
            <SelectField id="device-family" label="Family" value={family} onChange={setFamily}
              options={[{ value: 'all', label: 'All families' }, ...(info?.families ?? []).map((f) => ({ value: f.family, label: shortTitle(f.title) }))]} />
          </div>
          {devices === undefined ? <Loading /> : devices.length === 0 ? (
            <p class="muted">No devices yet. {info && <>Phones are pointed at <span class="mono">{info.url}</span>.</>}</p>
          ) : (
            <>
              <p class="muted" data-count>
                {shown.length === devices.length ? plural(devices.length, 'device') : `${shown.length} of ${plural(devices.length, 'device')}`}
                {failing > 0 && <> · <span class="badge badge-bad">{failing} failing</span></>}
              </p>
              <div class="table-wrap">
                <table class="responsive" aria-labelledby="devices-h">
                  <thead><tr>
                    <th scope="col">MAC</th><th scope="col">Family</th><th scope="col">Model</th><th scope="col">Lines</th>
                    <th scope="col">Label</th><th scope="col">Enabled</th><th scope="col">Last fetch</th>
                    <th scope="col"><span class="sr-only">Actions</span></th>
                  </tr></thead>
                  <tbody>
                    {shown.map((d) => (
                      <tr key={d.mac} data-device={d.mac} class={d.enabled ? (d.lastFetch && failed(d.lastFetch.status) ? 'error-row' : undefined) : 'disabled-row'}>
                        <td data-label="MAC" class="mono">{macText(d.mac)}</td>
                        <td data-label="Family" title={titles.get(d.family)}>{d.family}</td>
                        <td data-label="Model">{d.model ?? '—'}</td>
                        <td data-label="Lines">{d.extensions.map((e, i) => <span key={e}>{i > 0 && ', '}<a href={href('users', e)}>{e}</a></span>)}</td>
                        <td data-label="Label" class="wrap">{d.label || '—'}</td>
                        <td data-label="Enabled">{d.enabled ? 'Yes' : 'No'}</td>
                        <td data-label="Last fetch"><LastFetch d={d} /></td>
                        <td class="row-actions">
                          <a class="button small" href={href('devices', d.mac, 'files')} aria-label={`Files of ${macText(d.mac)}`}>Files</a>
                          {canWrite && (
                            <>
                              {' '}<a class="button small" href={href('devices', d.mac)} aria-label={`Edit ${macText(d.mac)}`}>Edit</a>
                              {' '}<button type="button" class="small" onClick={() => void resetSecrets(d)} aria-label={`New credentials for ${macText(d.mac)}`}>New credentials</button>
                              <button type="button" class="small danger" onClick={() => void remove(d)} aria-label={`Remove ${macText(d.mac)}`}>Remove</button>
                            </>
                          )}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </>
          )}
        </section>
      )}
    </>
  );
}
