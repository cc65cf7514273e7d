// Users to and from CSV or JSON files. Exports leave login and voicemail
// codes out unless asked (admins only). Imports run dry first: the report
// says row by row what would be added, updated or refused. A big file is a
// job on the server: the page follows its progress, then shows its summary
// and the rows in error (the first JOB_ROWS of them).
import { useState } from 'preact/hooks';
import { describeError, query } from '../api.ts';
import type { ImportJob, ImportReport, UserMedia } from '../types.ts';
import { CheckField, Fieldset, Notice, PageTitle, SelectField, useApp } from '../ui.tsx';

const MAX_FILE = 32 * 1024 * 1024;
const JOB_ROWS = 1000;
const JOB_POLL_MS = 1000;

type ReportRow = ImportReport['rows'][number];

function changesText(r: ReportRow): string {
  if (r.action === 'add') return 'new user';
  if (r.action !== 'update') return '';
  return r.changes && r.changes.length > 0 ? r.changes.join(', ') : 'no change';
}

/** The user's own media settings after the row; every key not listed follows the system. */
function mediaText(m: UserMedia | undefined): string {
  if (!m) return '';
  const own = Object.entries(m).map(([k, v]) => `${k} ${String(v)}`);
  return own.length === 0 ? 'same as system' : `${own.join(', ')}; the rest as system`;
}

function Report({ report, errorsOnly }: { report: ImportReport; errorsOnly?: number }) {
  const { summary } = report;
  return (
    <section aria-labelledby="report-h">
      <h2 id="report-h">{report.dryRun ? 'Dry run: what the import would do' : report.applied ? 'Import done' : 'Nothing imported'}</h2>
      {!report.dryRun && !report.applied && (
        <Notice kind="error">The file has rows with errors, so nothing was changed. Correct those rows, or import with “Import the good rows, skip the bad ones”.</Notice>
      )}
      {report.dryRun && summary.error > 0 && (
        <p class="muted">A file with errors imports nothing unless you choose to import the good rows and skip the bad ones.</p>
      )}
      <ul class="summary" aria-label="Import summary">
        <li><strong>{summary.add}</strong> {report.dryRun ? 'to add' : 'added'}</li>
        <li><strong>{summary.update}</strong> {report.dryRun ? 'to update' : 'updated'}</li>
        <li class={summary.error > 0 ? 'has-alarms' : ''}><strong>{summary.error}</strong> {summary.error === 1 ? 'error' : 'errors'}</li>
      </ul>
      {errorsOnly !== undefined && (
        <p class="muted">A big file: the table lists {errorsOnly > report.rows.length ? `the first ${report.rows.length} of ` : ''}the rows in error only.</p>
      )}
      <div class="table-wrap">
        <table class="responsive" aria-labelledby="report-h">
          <thead>
            <tr>
              <th scope="col">Row</th><th scope="col">Extension</th><th scope="col">Action</th><th scope="col">Changes</th>
              <th scope="col">Media settings</th><th scope="col">Problem</th>
            </tr>
          </thead>
          <tbody>
            {report.rows.map((r) => (
              <tr key={r.row} class={r.action === 'error' ? 'error-row' : ''}>
                <td data-label="Row" class="num">{r.row}</td>
                <td data-label="Extension" class="mono">{r.extension || '—'}</td>
                <td data-label="Action"><span class={`action action-${r.action}`}>{r.action === 'add' ? 'Add' : r.action === 'update' ? 'Update' : 'Error'}</span></td>
                <td data-label="Changes" class="wrap">{changesText(r)}</td>
                <td data-label="Media settings" class="wrap">{mediaText(r.media)}</td>
                <td data-label="Problem" class="wrap">{r.error ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

export function ImportExportPage() {
  const { api, canWrite } = useApp();
  const [format, setFormat] = useState<'csv' | 'json'>('csv');
  const [withPasswords, setWithPasswords] = useState(false);
  const [file, setFile] = useState<File | null>(null);
  const [report, setReport] = useState<ImportReport | null>(null);
  const [errorsOnly, setErrorsOnly] = useState<number | undefined>(undefined);
  const [progress, setProgress] = useState('');
  const [checked, setChecked] = useState<string | null>(null);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const [partial, setPartial] = useState(false);

  const run = async (dryRun: boolean) => {
    if (!file) {
      setError('Choose a file first.');
      return;
    }
    if (file.size > MAX_FILE) {
      setError('The file is larger than 32 MiB.');
      return;
    }
    setBusy(true);
    setError('');
    try {
      const text = await file.text();
      const json = file.name.toLowerCase().endsWith('.json') || file.type === 'application/json';
      const r = await api.post<ImportReport | ImportJob>(`/api/users/import${query({ format: json ? 'json' : 'csv', dryRun, partial: partial || undefined })}`, undefined,
        { raw: { text, type: json ? 'application/json' : 'text/csv' } });
      if ('state' in r) {
        const job = await followJob(r);
        setReport({ dryRun: job.dryRun, applied: job.applied ?? false, summary: job.summary, rows: job.rows.items });
        setErrorsOnly(job.rows.total);
      } else {
        setReport(r);
        setErrorsOnly(undefined);
      }
      // The real import is offered for the file that was just checked, and only once.
      setChecked(dryRun ? `${file.name}:${file.size}:${file.lastModified}` : null);
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
      setProgress('');
    }
  };
  /** Polls a job until it ends; resolves with it and its rows in error. */
  const followJob = async (started: ImportJob): Promise<ImportJob> => {
    const url = (action?: string) => `/api/users/import/jobs/${started.id}${query({ limit: action ? JOB_ROWS : 1, action })}`;
    let job = started;
    while (job.state === 'running') {
      setProgress(`${job.done} of ${job.total} rows…`);
      await new Promise((resolve) => setTimeout(resolve, JOB_POLL_MS));
      job = await api.get<ImportJob>(url());
    }
    if (job.state === 'failed') throw new Error(`The import stopped after ${job.done} of ${job.total} rows: ${job.error ?? 'unknown error'}`);
    return api.get<ImportJob>(url('error'));
  };
  const checkedThis = file !== null && checked === `${file.name}:${file.size}:${file.lastModified}`;
  const exportHref = `/api/users/export${query({ format, passwords: withPasswords })}`;

  return (
    <>
      <PageTitle>Import / export</PageTitle>
      <section aria-labelledby="export-h">
        <h2 id="export-h">Export users</h2>
        <Fieldset legend="File">
          <SelectField id="export-format" label="Format" value={format} onChange={setFormat}
            options={[{ value: 'csv', label: 'CSV (spreadsheets)' }, { value: 'json', label: 'JSON' }]} />
          <CheckField id="export-passwords" label="Include login and voicemail codes" checked={withPasswords} onChange={setWithPasswords}
            disabled={!canWrite} hint={canWrite ? 'Off by default: the file then holds no secrets.' : 'Needs the admin role.'} />
        </Fieldset>
        <p><a class="button primary" href={exportHref} download={`users.${format}`}>Download users.{format}</a></p>
      </section>

      {canWrite && (
        <section aria-labelledby="import-h">
          <h2 id="import-h">Import users</h2>
          <p class="muted">
            A CSV file with a header row (the columns of an export: name is the display name, authUser what the phone logs in
            with) or a JSON array of users. Existing extensions are updated,
            new ones added; empty CSV cells leave a field as it is, except media.* cells, where empty means the system value.
            Check the file with a dry run first.
          </p>
          <div class="field">
            <label for="import-file">File to import</label>
            <input id="import-file" type="file" accept=".csv,.json,text/csv,application/json"
              onChange={(e) => {
                setFile((e.currentTarget as HTMLInputElement).files?.[0] ?? null);
                setReport(null);
                setErrorsOnly(undefined);
                setChecked(null);
              }} />
          </div>
          <CheckField id="import-partial" label="Import the good rows, skip the bad ones" checked={partial} onChange={setPartial}
            hint="Off: a file with any bad row changes nothing." />
          <div class="actions">
            <button type="button" class="primary" disabled={busy || !file} onClick={() => run(true)}>Check (dry run)</button>
            <button type="button" disabled={busy || !checkedThis} onClick={() => run(false)}
              title={checkedThis ? undefined : 'Run a dry run of this file first'}>Import</button>
          </div>
          <Notice kind="error">{error}</Notice>
          {busy && <p class="muted" role="status">Working… {progress}</p>}
        </section>
      )}
      {report && <Report report={report} errorsOnly={errorsOnly} />}
    </>
  );
}
