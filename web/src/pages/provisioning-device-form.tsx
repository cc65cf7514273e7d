// Add or change a provisioned device: MAC (on adding), family with its models
// and line limit, the lines as a list of extensions, the family's options as
// name = value rows (names and values offered from the family's generator),
// enabled. The server checks lines and options against the family.
import { useState } from 'preact/hooks';
import { asApiError, type ApiError } from '../api.ts';
import { macText } from '../format.ts';
import { href } from '../router.ts';
import type { Device, DeviceFamily, DeviceSecrets, ProvisioningInfo } from '../types.ts';
import { CheckField, ErrorSummary, Fieldset, FormEnd, RequiredNote, SelectField, TextField, useApp } from '../ui.tsx';

type Family = ProvisioningInfo['families'][number];

interface Row { name: string; value: string }

interface Form {
  mac: string; family: DeviceFamily; model: string; lines: string; label: string; enabled: boolean; options: Row[];
}

function formOf(d: Device | null, families: Family[]): Form {
  return {
    mac: d?.mac ?? '',
    family: d?.family ?? families[0]?.family ?? 'avaya-46xx',
    model: d?.model ?? '',
    lines: d?.extensions.join(', ') ?? '',
    label: d?.label ?? '',
    enabled: d?.enabled ?? true,
    options: Object.entries(d?.options ?? {}).map(([name, value]) => ({ name, value: String(value) })),
  };
}

function bodyOf(f: Form, adding: boolean): Record<string, unknown> {
  return {
    ...(adding ? { mac: f.mac.trim() } : {}),
    family: f.family,
    model: f.model.trim() || null,
    extensions: f.lines.split(/[\s,;]+/).filter((e) => e !== ''),
    label: f.label.trim(),
    enabled: f.enabled,
    // The family's schema reads flags and numbers from their text, as from the CLI.
    options: Object.fromEntries(f.options.filter((o) => o.name.trim() !== '').map((o) => [o.name.trim(), o.value])),
  };
}

/** Where the server's issue paths are shown: options problems go to the option rows. */
const idOf = (path: string) => (path.startsWith('options') ? 'd-opt-add' : `d-${path.split('.')[0]}`);

/** A title without its files: "Avaya B179 conference phone (avayab179.xml, …)" → "Avaya B179 conference phone". */
export const shortTitle = (title: string) => title.replace(/\s*\(.*\)\s*$/, '');

function familyHint(f: Family): string {
  const files = /\((.*)\)\s*$/.exec(f.title)?.[1];
  return `${files ? `Gets ${files}. ` : ''}Up to ${f.maxLines} ${f.maxLines === 1 ? 'line' : 'lines'}.`;
}

function optionHint(f: Family | undefined): string {
  if (!f || f.options.length === 0) return 'This family takes no options.';
  return `Options: ${f.options.map((o) => `${o.name}${o.values ? ` (${o.values.join(' | ')}${o.default !== undefined ? `; default ${String(o.default)}` : ''})` : ''}`).join(', ')}.`;
}

function OptionRows(p: { rows: Row[]; family: Family | undefined; onChange: (rows: Row[]) => void; disabled: boolean; error?: string }) {
  const set = (i: number, r: Partial<Row>) => p.onChange(p.rows.map((x, k) => (k === i ? { ...x, ...r } : x)));
  const known = (name: string) => p.family?.options.find((o) => o.name === name);
  return (
    <div class={`field field-wide${p.error ? ' has-error' : ''}`}>
      <span class="label-like" id="d-opt-label">Options</span>
      <datalist id="d-opt-names">{p.family?.options.map((o) => <option key={o.name} value={o.name} />)}</datalist>
      {p.rows.length > 0 && (
        <ul class="option-rows" aria-labelledby="d-opt-label">
          {p.rows.map((r, i) => {
            const values = known(r.name)?.values;
            return (
              <li key={i}>
                <input id={`d-opt-${i}-name`} aria-label={`Option ${i + 1} name`} value={r.name} list="d-opt-names" disabled={p.disabled}
                  autoComplete="off" onInput={(e) => set(i, { name: (e.currentTarget as HTMLInputElement).value })} />
                <span class="eq" aria-hidden="true">=</span>
                {values ? (
                  <select id={`d-opt-${i}-value`} aria-label={`Option ${i + 1} value`} value={r.value} disabled={p.disabled}
                    onChange={(e) => set(i, { value: (e.currentTarget as HTMLSelectElement).value })}>
                    {!values.includes(r.value) && <option value={r.value}>{r.value || 'choose…'}</option>}
                    {values.map((v) => <option key={v} value={v}>{v}</option>)}
                  </select>
                ) : (
                  <input id={`d-opt-${i}-value`} aria-label={`Option ${i + 1} value`} value={r.value} disabled={p.disabled} autoComplete="off"
                    onInput={(e) => set(i, { value: (e.currentTarget as HTMLInputElement).value })} />
                )}
                {!p.disabled && (
                  <button type="button" class="small" aria-label={`Remove option ${r.name || i + 1}`}
                    onClick={() => p.onChange(p.rows.filter((_, k) => k !== i))}>Remove</button>
                )}
              </li>
            );
          })}
        </ul>
      )}
      {!p.disabled && (p.rows.length > 0 || (p.family?.options.length ?? 0) > 0) && (
        <button type="button" id="d-opt-add" class="small" onClick={() => p.onChange([...p.rows, { name: '', value: '' }])}>Add option</button>
      )}
      <span class="hint">{optionHint(p.family)}</span>
      {p.error && <span class="field-error">{p.error}</span>}
    </div>
  );
}

export function DeviceForm(p: {
  device: Device | null; families: Family[]; onDone: (message: string, secrets?: DeviceSecrets) => void;
}) {
  const { api, canWrite } = useApp();
  const [f, setF] = useState(() => formOf(p.device, p.families));
  const [err, setErr] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const set = <K extends keyof Form>(k: K) => (v: Form[K]) => setF((x) => ({ ...x, [k]: v }));
  const fe = (path: string) => err?.field(path);
  const ro = !canWrite;
  const family = p.families.find((x) => x.family === f.family);
  const device = p.device;
  const adding = device === null;
  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    setErr(null);
    setBusy(true);
    try {
      if (device === null) {
        const r = await api.post<{ device: Device; provisioning: DeviceSecrets }>('/api/devices', bodyOf(f, true));
        p.onDone(`Device ${macText(r.device.mac)} added.`, r.provisioning);
      } else {
        await api.patch(`/api/devices/${device.mac}`, bodyOf(f, false));
        p.onDone(`Device ${macText(device.mac)} saved.`);
      }
    } catch (e2) {
      setErr(asApiError(e2));
    } finally {
      setBusy(false);
    }
  };
  const optionsError = err?.issues.filter((i) => i.path.startsWith('options')).map((i) => i.message).join('; ') || undefined;
  return (
    <form class="form" onSubmit={submit} noValidate aria-labelledby="device-form-h">
      <h2 id="device-form-h">{device === null ? 'Add device' : `Device ${macText(device.mac)}`}</h2>
      <ErrorSummary err={err} idOf={idOf} />
      {!ro && <RequiredNote />}
      <Fieldset legend="Device">
        {adding && (
          <TextField id="d-mac" label="MAC address" value={f.mac} onInput={set('mac')} required error={fe('mac')}
            hint="On the phone's label, e.g. 00:04:f2:aa:bb:cc" />
        )}
        <SelectField id="d-family" label="Family" value={f.family} onChange={set('family')} disabled={ro} error={fe('family')}
          options={p.families.map((x) => ({ value: x.family, label: shortTitle(x.title) }))}
          hint={family ? familyHint(family) : undefined} />
        <TextField id="d-model" label="Model" value={f.model} onInput={set('model')} disabled={ro} error={fe('model')}
          hint={family && family.models.length > 0 ? `Known: ${family.models.join(', ')}` : undefined} />
        <TextField id="d-extensions" label="Lines (extensions)" value={f.lines} onInput={set('lines')} required disabled={ro}
          error={fe('extensions')} hint="Users' extensions, line 1 first, separated by commas; a DECT base: one per handset." />
        <TextField id="d-label" label="Label" value={f.label} onInput={set('label')} disabled={ro} error={fe('label')}
          hint="Where it is or who has it." />
        <CheckField id="d-enabled" label="Enabled" checked={f.enabled} onChange={set('enabled')} disabled={ro}
          hint="A disabled device is refused its files." />
        <OptionRows rows={f.options} family={family} onChange={set('options')} disabled={ro} error={optionsError} />
      </Fieldset>
      <FormEnd err={err} save={adding ? 'Add device' : 'Save device'} cancelHref={href('devices')} busy={busy} />
    </form>
  );
}
