// Provisioning → Dial plan: the registrar's normalisation rules (pasted as
// JSON from ConvertTo-Json or as Export-Csv text) turned into the handset's
// digit map (SPEC §6, POST /api/provisioning/digitmap): both maps, what each
// digit-map string sends, and every rule dropped or cut. Nothing is stored.
import { useState } from 'preact/hooks';
import { asApiError, type ApiError } from '../api.ts';
import type { DialPlanResult } from '../types.ts';
import { Fieldset, Notice, PageTitle, SubmitButton, TextAreaField, TextField, useApp } from '../ui.tsx';
import './provisioning.css';

const PLACEHOLDER = `[{ "Name": "Four digit", "Pattern": "^(\\\\d{4})$", "Translation": "+1555$1", "IsInternalExtension": false }]
or
"Identity","Priority","Pattern","Translation","Name","IsInternalExtension"
"Global/Four","0","^(\\d{4})$","+1555$1","Four digit","False"`;

function origin(t: DialPlanResult['translations'][number]): string {
  return t.origin.kind === 'emergency' ? `emergency ${t.origin.number}` : `rule ${t.origin.index + 1}${t.origin.name ? ` "${t.origin.name}"` : ''}`;
}

function Result({ r }: { r: DialPlanResult }) {
  return (
    <section aria-labelledby="dp-result-h" data-result>
      <h2 id="dp-result-h">Digit map</h2>
      <h3 class="label-like">dialplan.1.digitmap</h3>
      {r.digitMap === '' ? <p class="muted">Empty: no rule has a digit-map form.</p> : <code class="digitmap" data-digitmap>{r.digitMap}</code>}
      <h3 class="label-like">dialplan.1.originaldigitmap</h3>
      <code class="digitmap" data-original>{r.originalDigitMap || '(empty)'}</code>
      {r.errors.length > 0 && (
        <>
          <h3>Rules dropped or cut</h3>
          <ul class="notice notice-error plain" data-errors>{r.errors.map((e, i) => <li key={i} class="mono">{e}</li>)}</ul>
        </>
      )}
      {r.translations.length > 0 && (
        <div class="table-wrap">
          <table class="responsive" aria-labelledby="dp-result-h">
            <thead><tr><th scope="col">Digit map</th><th scope="col">Pattern</th><th scope="col">Sends</th><th scope="col">Internal</th><th scope="col">From</th></tr></thead>
            <tbody>
              {r.translations.map((t, i) => (
                <tr key={i} data-translation={t.digitMap}>
                  <td data-label="Digit map" class="mono">{t.digitMap}</td>
                  <td data-label="Pattern" class="mono wrap">{t.pattern}</td>
                  <td data-label="Sends" class="mono">{t.translation}</td>
                  <td data-label="Internal">{t.internal ? 'Yes' : 'No'}</td>
                  <td data-label="From">{origin(t)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export function DialPlanPage() {
  const { api } = useApp();
  const [rules, setRules] = useState('');
  const [dial, setDial] = useState('');
  const [mask, setMask] = useState('');
  const [result, setResult] = useState<DialPlanResult | undefined>();
  const [err, setErr] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    setErr(null);
    setBusy(true);
    try {
      setResult(await api.post<DialPlanResult>('/api/provisioning/digitmap', {
        rules,
        ...(dial.trim() ? { emergencyDialString: dial.trim() } : {}),
        ...(mask.trim() ? { emergencyDialMask: mask.trim() } : {}),
      }));
    } catch (e2) {
      setResult(undefined);
      setErr(asApiError(e2));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <PageTitle>Dial plan</PageTitle>
      <p class="muted">Turns Lync normalisation rules into the digit map a Spectralink handset dials with (dialplan.1.digitmap). Nothing is saved.</p>
      <form class="form" onSubmit={submit} noValidate>
        <Fieldset legend="Normalisation rules">
          <TextAreaField id="dp-rules" label="Rules" value={rules} onInput={setRules} required rows={10} placeholder={PLACEHOLDER}
            error={err?.field('rules')}
            hint="Get-CsDialPlan … | Select -Expand NormalizationRules | ConvertTo-Json, or Export-Csv output. With a Priority on every rule they are taken in that order." />
          <TextField id="dp-e911" label="Emergency dial string" value={dial} onInput={setDial} inputMode="numeric" error={err?.field('emergencyDialString')}
            hint="dialplan.1.e911dialstring, e.g. 112" />
          <TextField id="dp-mask" label="More emergency numbers" value={mask} onInput={setMask} error={err?.field('emergencyDialMask')}
            hint="dialplan.1.e911dialmask, separated by ; e.g. 911;999" />
        </Fieldset>
        <Notice kind="error">{err && err.issues.length === 0 ? err.message : ''}</Notice>
        <div class="actions"><SubmitButton busy={busy} label="Convert" busyLabel="Converting…" /></div>
      </form>
      {result && <Result r={result} />}
    </>
  );
}
