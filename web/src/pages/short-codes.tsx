// Short codes: the ordered table of dialled patterns that run a feature
// (`*07*N#`: N, S or G stands for dialled digits). The first pattern that
// matches wins, so the order is editable. A code that would catch calls to a
// user or a hunt group is refused by the server; the reason shows beside the
// field. Features and their texts are the short code model's.
import { useState } from 'preact/hooks';
import { SHORT_CODE_FEATURE_NAMES, SHORT_CODE_FEATURES } from '../../../src/model/short-code.ts';
import { asApiError, type ApiError } from '../api.ts';
import { ResourceHead, useResourcePage } from '../resource-page.tsx';
import { href } from '../router.ts';
import type { ShortCode, ShortCodeFeature } from '../types.ts';
import { ErrorSummary, Fieldset, FormEnd, Loading, RequiredNote, SelectField, TextField, useApp } from '../ui.tsx';

const FEATURES = SHORT_CODE_FEATURE_NAMES.map((f) => ({ value: f, label: f }));
const codePath = (c: string) => `/api/short-codes/${encodeURIComponent(c)}`;

interface Form { code: string; feature: ShortCodeFeature; value: string; position: string }

function CodeEditor({ code, count, onDone }: { code: ShortCode | null; count: number; onDone: (msg: string) => void }) {
  const { api, canWrite } = useApp();
  const [f, setF] = useState<Form>({
    code: code?.code ?? '', feature: code?.feature ?? 'dnd-on', value: code?.value ?? '', position: code ? String(code.position + 1) : '',
  });
  const [err, setErr] = useState<ApiError | null>(null);
  const set = <K extends keyof Form>(k: K) => (v: Form[K]) => setF((x) => ({ ...x, [k]: v }));
  const ro = !canWrite;
  const takes = SHORT_CODE_FEATURES[f.feature].param;
  const submit = async (e: Event) => {
    e.preventDefault();
    setErr(null);
    const body: Record<string, unknown> = { code: f.code.trim(), feature: f.feature, value: f.value.trim() || null };
    // Shown from 1, stored from 0; blank keeps the place (or adds at the end).
    if (f.position.trim() !== '') body.position = Number(f.position) - 1;
    try {
      if (code) await api.patch(codePath(code.code), body);
      else await api.post('/api/short-codes', body);
      onDone(`Short code ${body.code as string} saved.`);
    } catch (e2) {
      setErr(asApiError(e2));
    }
  };
  const position = err?.field('position');
  return (
    <form class="form" onSubmit={submit} noValidate aria-labelledby="sc-form-h">
      <h2 id="sc-form-h">{code ? `Short code ${code.code}` : 'Add short code'}</h2>
      <ErrorSummary err={err} idOf={(p) => `sc-${p.split('.')[0]}`} />
      {!ro && <RequiredNote />}
      <Fieldset legend="Code">
        <TextField id="sc-code" label="Code" value={f.code} onInput={set('code')} required disabled={ro} error={err?.field('code')}
          hint="Digits, * and #; N, S or G stands for dialled digits, e.g. *07*N#." />
        <SelectField id="sc-feature" label="Feature" value={f.feature} options={FEATURES} onChange={set('feature')} disabled={ro}
          error={err?.field('feature')} hint={`${SHORT_CODE_FEATURES[f.feature].text[0]!.toUpperCase()}${SHORT_CODE_FEATURES[f.feature].text.slice(1)}.`} />
        <TextField id="sc-value" label="Fixed value" value={f.value} onInput={set('value')} disabled={ro || (!takes && f.value === '')}
          error={err?.field('value')}
          hint={takes ? 'For a code without N, S or G: the number the feature uses. Blank: the dialled digits.' : 'This feature takes no value.'} />
        <TextField id="sc-position" label="Place in the table" type="number" value={f.position} onInput={set('position')} disabled={ro}
          error={position} hint={`1-${count + (code ? 0 : 1)}; blank: ${code ? 'keep its place' : 'at the end'}. The first match wins.`} />
      </Fieldset>
      <FormEnd err={err} save={code ? 'Save short code' : 'Add short code'} cancelHref={href('short-codes')} />
    </form>
  );
}

export function ShortCodesPage({ edit }: { edit: string | undefined }) {
  const { api, canWrite } = useApp();
  const { items: codes, error, message, done, act } = useResourcePage<ShortCode>('/api/short-codes', 'short-codes');
  const move = (c: ShortCode, to: number) =>
    act(() => api.patch(codePath(c.code), { position: to }), `Short code ${c.code} moved to place ${to + 1}.`);
  const remove = (c: ShortCode) => {
    if (!window.confirm(`Remove short code ${c.code}?`)) return;
    void act(() => api.delete(codePath(c.code)), `Short code ${c.code} removed.`);
  };
  const editing = edit === 'new' ? null : codes?.find((c) => c.code === edit);
  const last = (codes?.length ?? 0) - 1;

  return (
    <>
      <ResourceHead title="Short codes" section="short-codes" noun="short code" edit={edit} loaded={codes !== null}
        found={editing !== undefined} message={message} error={error}>
        <CodeEditor key={edit} code={editing ?? null} count={codes?.length ?? 0} onDone={done} />
      </ResourceHead>
      <section aria-labelledby="codes-h">
        <h2 id="codes-h">Table, in matching order</h2>
        {codes === null ? <Loading /> : codes.length === 0 ? <p class="muted">No short codes.</p> : (
          <div class="table-wrap">
            <table class="responsive" aria-labelledby="codes-h">
              <thead>
                <tr><th scope="col">#</th><th scope="col">Code</th><th scope="col">Feature</th><th scope="col">Value</th>
                  {canWrite && <th scope="col"><span class="sr-only">Actions</span></th>}</tr>
              </thead>
              <tbody>
                {codes.map((c, i) => (
                  <tr key={c.code} data-code={c.code}>
                    <td data-label="#">{i + 1}</td>
                    <td data-label="Code" class="mono"><a href={href('short-codes', c.code)} aria-label={`Short code ${c.code}`}>{c.code}</a></td>
                    <td data-label="Feature" class="wrap"><span>{c.feature}<span class="sub">{SHORT_CODE_FEATURES[c.feature].text}</span></span></td>
                    <td data-label="Value" class="mono">{c.value ?? <span class="muted">—</span>}</td>
                    {canWrite && (
                      <td class="row-actions">
                        <button type="button" class="small" disabled={i === 0} onClick={() => move(c, i - 1)} aria-label={`Move ${c.code} up`}>Up</button>
                        <button type="button" class="small" disabled={i === last} onClick={() => move(c, i + 1)} aria-label={`Move ${c.code} down`}>Down</button>
                        <button type="button" class="danger small" onClick={() => remove(c)} aria-label={`Remove short code ${c.code}`}>Remove</button>
                      </td>
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
