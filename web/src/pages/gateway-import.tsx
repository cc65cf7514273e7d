// Gateway → Import (B-16, Appendix A #14): a gateway users file (CSV or
// JSON, as Provisioning → Gateway users writes it) read into the lines, dry
// run first: the report says row by row what was added, updated or refused.
// A record without a password keeps the stored one; a new line without one
// starts disabled and is marked as needing one. Columns the file sets that
// Switchboard does not hold (dectToDect, adminRights) are named above the rows.
import { useState } from 'preact/hooks';
import { describeError, query } from '../api.ts';
import { plural } from '../format.ts';
import { href } from '../router.ts';
import { CheckField, Fieldset, Notice, PageTitle, SubmitButton, useApp } from '../ui.tsx';

/** The API's limit on the file (MAX_GATEWAY_FILE_BYTES is server-side: src/provisioning imports Node). */
const MAX_FILE = 8 * 1024 * 1024;

interface ImportRow { row: number; extension: string; action: 'added' | 'updated' | 'error'; error?: string; passwordKept?: boolean; needsPassword?: boolean }
interface ImportResult { dryRun: boolean; rows: ImportRow[]; warnings: string[]; added: number; updated: number; errors: number }

function note(r: ImportRow): string {
  if (r.action === 'error') return r.error ?? 'refused';
  if (r.needsPassword) return 'no password: starts disabled';
  return r.passwordKept ? 'stored password kept' : '';
}

export function GatewayImportPage() {
  const { api, canWrite } = useApp();
  const [file, setFile] = useState<File | null>(null);
  const [dryRun, setDryRun] = useState(true);
  const [result, setResult] = useState<ImportResult | undefined>();
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    setError('');
    setResult(undefined);
    if (!file) return setError('Choose a file first.');
    if (file.size > MAX_FILE) return setError(`The file is larger than ${MAX_FILE / 1024 / 1024} MiB.`);
    setBusy(true);
    try {
      const text = await file.text();
      const type = /\.json$/i.test(file.name) || text.trimStart().startsWith('{') ? 'application/json' : 'text/csv';
      setResult(await api.post<ImportResult>(`/api/gateway/lines/import${query({ dryRun: dryRun || undefined })}`, undefined, { raw: { text, type } }));
    } catch (e2) {
      setError(describeError(e2));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <PageTitle>Import gateway users</PageTitle>
      <p class="muted">
        The gateway users file, CSV or JSON, as <a href={href('gateway-users')}>Provisioning → Gateway users</a> writes it (passwords
        left out unless asked). Each record becomes the line of its extension.
      </p>
      {!canWrite ? <Notice kind="info">Your role can read the lines but not import them.</Notice> : (
        <form class="form" onSubmit={submit} noValidate aria-label="Import gateway users">
          <Fieldset legend="File">
            <div class="field">
              <label for="gi-file">Gateway users file</label>
              <input id="gi-file" type="file" accept=".csv,.json,text/csv,application/json"
                onChange={(e) => setFile((e.currentTarget as HTMLInputElement).files?.[0] ?? null)} />
            </div>
            <CheckField id="gi-dry" label="Dry run: report only, change nothing" checked={dryRun} onChange={setDryRun} />
          </Fieldset>
          <Notice kind="error">{error}</Notice>
          <div class="actions"><SubmitButton busy={busy} label={dryRun ? 'Check file' : 'Import'} busyLabel="Reading…" /></div>
        </form>
      )}
      {result && (
        <section aria-labelledby="gi-report-h">
          <h2 id="gi-report-h">{result.dryRun ? 'Dry run: what the import would do' : 'Import done'}</h2>
          <ul class="summary" aria-labelledby="gi-report-h" data-import-summary>
            <li><strong>{result.added}</strong> added</li>
            <li><strong>{result.updated}</strong> updated</li>
            <li class={result.errors > 0 ? 'has-alarms' : ''}><strong>{result.errors}</strong> {result.errors === 1 ? 'error' : 'errors'}</li>
          </ul>
          {result.warnings.map((w) => <div key={w} data-import-warning><Notice kind="info">{w}</Notice></div>)}
          {result.rows.length === 0 ? <p class="muted">The file has no records.</p> : (
            <div class="table-wrap">
              <table class="responsive" aria-labelledby="gi-report-h">
                <thead><tr><th scope="col">Row</th><th scope="col">Extension</th><th scope="col">Result</th><th scope="col">Note</th></tr></thead>
                <tbody>
                  {result.rows.map((r) => (
                    <tr key={r.row} data-import-row={r.row} class={r.action === 'error' ? 'error-row' : undefined}>
                      <td data-label="Row" class="num">{r.row}</td>
                      <td data-label="Extension">{r.extension || '—'}</td>
                      <td data-label="Result">{r.action}</td>
                      <td data-label="Note" class="wrap">{note(r) || <span class="muted">—</span>}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {result.dryRun && result.errors < result.rows.length && (
            <p class="muted">Untick the dry run and import again to apply {plural(result.added + result.updated, 'record')}; rows with errors are skipped.</p>
          )}
        </section>
      )}
    </>
  );
}
