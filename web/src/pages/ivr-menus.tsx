// IVR menus (auto attendant): a number that plays a greeting and sends the
// caller on by the key pressed. The editor shows every key of the phone with
// its action; the rules (defaults, loops a caller could not leave) are the
// menu model's and the store's (src/model/ivr-menu.ts), shown per field.
import { useEffect, useState } from 'preact/hooks';
import {
  IVR_DEFAULT_PROMPT, IVR_DIGITS, IVR_MAX_RETRIES_DEFAULT, IVR_MAX_RETRIES_RANGE, IVR_TIMEOUT_SEC_DEFAULT, IVR_TIMEOUT_SEC_RANGE,
} from '../../../src/model/ivr-menu.ts';
import { asApiError, type ApiError } from '../api.ts';
import { ResourceHead, useResourcePage } from '../resource-page.tsx';
import { href } from '../router.ts';
import type { AudioFile, IvrAction, IvrMenu } from '../types.ts';
import { ErrorSummary, Fieldset, FormEnd, Loading, RequiredNote, SelectField, TextField, useApp } from '../ui.tsx';

type ActionType = IvrAction['type'] | '';
const TARGETED = new Set<ActionType>(['extension', 'huntgroup', 'voicemail', 'menu']);
const ACTION_TEXT: Record<IvrAction['type'], string> = {
  extension: 'Ring extension', huntgroup: 'Call hunt group', voicemail: 'Leave a voicemail for', menu: 'Go to menu',
  'dial-by-extension': 'Dial by extension', repeat: 'Repeat the greeting', hangup: 'Hang up',
};
const ACTIONS = (Object.keys(ACTION_TEXT) as IvrAction['type'][]).map((t) => ({ value: t as ActionType, label: ACTION_TEXT[t] }));
const menuPath = (n: string) => `/api/ivr-menus/${encodeURIComponent(n)}`;

interface ActionForm { type: ActionType; target: string }
interface Form {
  number: string; name: string; greeting: string; timeoutSec: string; maxRetries: string; operator: string;
  options: Record<string, ActionForm>; onTimeout: ActionForm; onInvalid: ActionForm;
}

const actionForm = (a: IvrAction | undefined): ActionForm => ({ type: a?.type ?? '', target: a && 'target' in a ? a.target : '' });
const actionOf = (a: ActionForm): IvrAction | undefined =>
  a.type === '' ? undefined : (TARGETED.has(a.type) ? { type: a.type, target: a.target.trim() } : { type: a.type }) as IvrAction;
const describe = (a: IvrAction) => `${ACTION_TEXT[a.type]}${'target' in a ? ` ${a.target}` : ''}`;

function formOf(m: IvrMenu | null): Form {
  return {
    number: m?.number ?? '', name: m?.name ?? '', greeting: m?.greeting ?? '', operator: m?.operator ?? '',
    timeoutSec: String(m?.timeoutSec ?? IVR_TIMEOUT_SEC_DEFAULT), maxRetries: String(m?.maxRetries ?? IVR_MAX_RETRIES_DEFAULT),
    options: Object.fromEntries(IVR_DIGITS.map((d) => [d, actionForm(m?.options[d])])),
    onTimeout: actionForm(m?.onTimeout ?? { type: 'repeat' }), onInvalid: actionForm(m?.onInvalid ?? { type: 'repeat' }),
  };
}

/** One action: what happens, and (for those that need one) to which number. */
function ActionPicker(p: { id: string; label: string; value: ActionForm; none?: string; disabled: boolean; error?: string; onChange: (a: ActionForm) => void }) {
  const options = p.none ? [{ value: '' as ActionType, label: p.none }, ...ACTIONS] : ACTIONS;
  return (
    <div class="inline-form" data-action={p.id}>
      <SelectField id={`${p.id}-type`} label={p.label} value={p.value.type} options={options} disabled={p.disabled}
        error={p.error} onChange={(type) => p.onChange({ ...p.value, type })} />
      {TARGETED.has(p.value.type) && (
        <TextField id={`${p.id}-target`} label={`${p.label}: number`} value={p.value.target} disabled={p.disabled}
          onInput={(target) => p.onChange({ ...p.value, target })} />
      )}
    </div>
  );
}

function MenuEditor({ menu, audio, onDone }: { menu: IvrMenu | null; audio: AudioFile[]; onDone: (msg: string) => void }) {
  const { api, canWrite } = useApp();
  const [f, setF] = useState(formOf(menu));
  const [err, setErr] = useState<ApiError | null>(null);
  const set = <K extends keyof Form>(k: K) => (v: Form[K]) => setF((x) => ({ ...x, [k]: v }));
  const ro = !canWrite;
  const submit = async (e: Event) => {
    e.preventDefault();
    setErr(null);
    const options = Object.fromEntries(IVR_DIGITS.flatMap((d) => { const a = actionOf(f.options[d]!); return a ? [[d, a]] : []; }));
    const body = {
      name: f.name.trim(), greeting: f.greeting || null, timeoutSec: Number(f.timeoutSec || IVR_TIMEOUT_SEC_DEFAULT),
      maxRetries: Number(f.maxRetries || IVR_MAX_RETRIES_DEFAULT), operator: f.operator.trim() || null, options,
      onTimeout: actionOf(f.onTimeout), onInvalid: actionOf(f.onInvalid),
    };
    const number = menu?.number ?? f.number.trim();
    try {
      await api.put(menuPath(number), body);
      onDone(`IVR menu ${number} saved.`);
    } catch (e2) {
      setErr(asApiError(e2));
    }
  };
  // Messages under an action name the action ("options.1.target"): shown beside its key.
  const errorOf = (path: string) => err?.issues.filter((i) => i.path === path || i.path.startsWith(`${path}.`)).map((i) => i.message).join('; ') || undefined;
  const greetings = [{ value: '', label: `Built-in (${IVR_DEFAULT_PROMPT})` }, ...audio.map((a) => ({ value: a.name, label: a.name }))];
  return (
    <form class="form" onSubmit={submit} noValidate aria-labelledby="ivr-form-h">
      <h2 id="ivr-form-h">{menu ? `IVR menu ${menu.number} — ${menu.name}` : 'Add IVR menu'}</h2>
      <ErrorSummary err={err} idOf={(p) => (p.startsWith('options.') ? `ivr-opt-${p.split('.')[1]}-type` : p.startsWith('on') ? `ivr-${p.split('.')[0]}-type` : `ivr-${p.split('.')[0]}`)} />
      {!ro && <RequiredNote />}
      <Fieldset legend="Menu">
        <TextField id="ivr-number" label="Number" value={f.number} onInput={set('number')} required disabled={ro || menu !== null} error={err?.field('number')}
          hint="Dialled to reach the menu (a trunk DID may name it); no user extension, hunt group or room." />
        <TextField id="ivr-name" label="Name" value={f.name} onInput={set('name')} required disabled={ro} error={err?.field('name')} />
        <SelectField id="ivr-greeting" label="Greeting" value={f.greeting} options={greetings} onChange={set('greeting')} disabled={ro}
          error={err?.field('greeting')} hint="Audio files are uploaded on the Audio page." />
        <TextField id="ivr-timeoutSec" label="Wait for a key (s)" type="number" value={f.timeoutSec} onInput={set('timeoutSec')} disabled={ro}
          error={err?.field('timeoutSec')} hint={`${IVR_TIMEOUT_SEC_RANGE[0]}-${IVR_TIMEOUT_SEC_RANGE[1]}, after the greeting.`} />
        <TextField id="ivr-maxRetries" label="Repeats at most" type="number" value={f.maxRetries} onInput={set('maxRetries')} disabled={ro}
          error={err?.field('maxRetries')} hint={`${IVR_MAX_RETRIES_RANGE[0]}-${IVR_MAX_RETRIES_RANGE[1]}; then the caller goes to the operator, or is hung up on.`} />
        <TextField id="ivr-operator" label="Operator" value={f.operator} onInput={set('operator')} disabled={ro} error={err?.field('operator')}
          hint="Extension for callers whose repeats are used up; blank: hang up." />
      </Fieldset>
      <fieldset>
        <legend>Keys</legend>
        {IVR_DIGITS.map((d) => (
          <ActionPicker key={d} id={`ivr-opt-${d}`} label={`Key ${d}`} none="Nothing" value={f.options[d]!} disabled={ro} error={errorOf(`options.${d}`)}
            onChange={(a) => setF((x) => ({ ...x, options: { ...x.options, [d]: a } }))} />
        ))}
      </fieldset>
      <fieldset>
        <legend>No key, or a key without an action</legend>
        <ActionPicker id="ivr-onTimeout" label="No key in time" value={f.onTimeout} disabled={ro} error={errorOf('onTimeout')} onChange={set('onTimeout')} />
        <ActionPicker id="ivr-onInvalid" label="Key without an action" value={f.onInvalid} disabled={ro} error={errorOf('onInvalid')} onChange={set('onInvalid')} />
      </fieldset>
      <FormEnd err={err} save={menu ? 'Save menu' : 'Add menu'} cancelHref={href('ivr-menus')} />
    </form>
  );
}

export function IvrMenusPage({ edit }: { edit: string | undefined }) {
  const { api, canWrite } = useApp();
  const page = useResourcePage<IvrMenu>('/api/ivr-menus', 'ivr-menus');
  const { items: menus, error, message, done } = page;
  const [audio, setAudio] = useState<AudioFile[]>([]);
  useEffect(() => {
    api.get<{ items: AudioFile[] }>('/api/audio').then((r) => setAudio(r.items), (e) => page.fail(e));
  }, []);
  const remove = (m: IvrMenu) => {
    if (!window.confirm(`Remove IVR menu ${m.number} (${m.name})?`)) return;
    void page.act(() => api.delete(menuPath(m.number)), `IVR menu ${m.number} removed.`);
  };
  const editing = edit === 'new' ? null : menus?.find((m) => m.number === edit);
  return (
    <>
      <ResourceHead title="IVR menus" section="ivr-menus" noun="IVR menu" edit={edit} loaded={menus !== null}
        found={editing !== undefined} message={message} error={error}>
        <MenuEditor key={edit} menu={editing ?? null} audio={audio} onDone={done} />
      </ResourceHead>
      <section aria-labelledby="menus-h">
        <h2 id="menus-h">Menus</h2>
        {menus === null ? <Loading /> : menus.length === 0 ? <p class="muted">No IVR menus.</p> : (
          <div class="table-wrap">
            <table class="responsive" aria-labelledby="menus-h">
              <thead>
                <tr><th scope="col">Number</th><th scope="col">Name</th><th scope="col">Greeting</th><th scope="col">Keys</th>
                  <th scope="col">Operator</th>{canWrite && <th scope="col"><span class="sr-only">Actions</span></th>}</tr>
              </thead>
              <tbody>
                {menus.map((m) => (
                  <tr key={m.number} data-menu={m.number}>
                    <td data-label="Number"><a href={href('ivr-menus', m.number)} aria-label={`Menu ${m.number}`}>{m.number}</a></td>
                    <td data-label="Name">{m.name}</td>
                    <td data-label="Greeting">{m.greeting ?? <span class="muted">built-in</span>}</td>
                    <td data-label="Keys" class="wrap">
                      {Object.keys(m.options).length === 0 ? <span class="muted">none</span> : (
                        <ul class="plain">{IVR_DIGITS.filter((d) => m.options[d]).map((d) => <li key={d}><span class="mono">{d}</span> {describe(m.options[d]!)}</li>)}</ul>
                      )}
                    </td>
                    <td data-label="Operator">{m.operator ?? <span class="muted">hang up</span>}</td>
                    {canWrite && (
                      <td><button type="button" class="danger small" onClick={() => remove(m)} aria-label={`Remove IVR menu ${m.number}`}>Remove</button></td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}
