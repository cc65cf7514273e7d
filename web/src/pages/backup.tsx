// Backup and restore (security administrators: a backup holds the CA key
// and password hashes). Download takes a consistent snapshot of the running
// server. An uploaded backup is checked and kept; the running server does
// not change until its next start, which applies it (the data it had is
// moved aside, not deleted).
import { useEffect, useState } from 'preact/hooks';
import { ApiError, describeError } from '../api.ts';
import { dateTime } from '../format.ts';
import { Notice, PageTitle, useApp } from '../ui.tsx';
import { SecurityOnly } from './admins.tsx';
import { bytes } from './system.tsx';

interface Staged { version: string; createdAt: number; schemaVersion: number; stagedAt: number; files: { name: string; size: number }[] }

export function BackupPage() {
  const { api, canSecurity } = useApp();
  const [pending, setPending] = useState<Staged | null | undefined>();
  const [file, setFile] = useState<File | null>(null);
  const [note, setNote] = useState<{ kind: 'ok' | 'error'; text: string } | undefined>();
  const [busy, setBusy] = useState(false);
  const load = () => api.get<{ pending: Staged | null }>('/api/system/restore').then((r) => setPending(r.pending), (e) => setNote({ kind: 'error', text: describeError(e) }));
  useEffect(() => {
    if (canSecurity) void load();
  }, [api, canSecurity]);
  if (!canSecurity) return <><PageTitle>Backup and restore</PageTitle><SecurityOnly /></>;

  const upload = async (e: Event) => {
    e.preventDefault();
    if (!file) {
      setNote({ kind: 'error', text: 'Choose a backup file first.' });
      return;
    }
    setBusy(true);
    try {
      // The API client sends JSON or text; a backup is bytes.
      const res = await fetch('/api/system/restore', {
        method: 'POST', body: await file.arrayBuffer(), credentials: 'same-origin',
        headers: { 'content-type': 'application/octet-stream', 'x-csrf-token': api.csrf ?? '', accept: 'application/json' },
      });
      const body = await res.json().catch(() => ({})) as { message?: string; pending?: Staged };
      if (!res.ok) throw new ApiError(res.status, 'backup', body.message ?? `${res.status} ${res.statusText}`);
      setPending(body.pending ?? null);
      setNote({ kind: 'ok', text: `Backup of ${dateTime(body.pending?.createdAt)} checked and staged. Restart the server to restore it.` });
    } catch (err) {
      setNote({ kind: 'error', text: `Not staged: ${describeError(err)}` });
    } finally {
      setBusy(false);
    }
  };
  const cancel = async () => {
    try {
      await api.delete('/api/system/restore');
      setNote({ kind: 'ok', text: 'The staged restore is cancelled; the next start keeps the current data.' });
    } catch (err) {
      setNote({ kind: 'error', text: describeError(err) });
    }
    await load();
  };
  return (
    <>
      <PageTitle>Backup and restore</PageTitle>
      <Notice kind={note?.kind ?? 'ok'}>{note?.text}</Notice>
      <section aria-labelledby="backup-h" class="panel">
        <h2 id="backup-h">Back up</h2>
        <p>A consistent snapshot of the running server: users, trunks, settings, administrators and the audit log (the database),
          the root CA and the server identity with their keys, and config.json if the data directory holds one.</p>
        <p class="notice notice-info">The file holds private keys and password hashes: keep it where only administrators can read it.</p>
        <div class="actions"><a class="button primary" href="/api/system/backup" download>Download backup</a></div>
        <p class="hint">From the command line, also while the server runs: <code>switchboard backup --out FILE --data-dir DIR</code></p>
      </section>
      <section aria-labelledby="restore-h" class="panel">
        <h2 id="restore-h">Restore</h2>
        <p><strong>Restoring does not change the running server.</strong> The uploaded backup is checked now and applied at the
          server's next start: its database, certificates and config.json replace the current ones, which are moved to
          <code> before-restore-&lt;time&gt;</code> in the data directory. Calls and registrations end with the restart; phones register again.</p>
        {pending && (
          <div class="notice notice-info" role="status" data-pending>
            <p><strong>Staged for the next start:</strong> backup of {dateTime(pending.createdAt)} (Switchboard {pending.version},
              schema {pending.schemaVersion}), uploaded {dateTime(pending.stagedAt)}: {pending.files.map((f) => `${f.name} (${bytes(f.size)})`).join(', ')}.</p>
            <button type="button" class="small" onClick={() => void cancel()}>Cancel the restore</button>
          </div>
        )}
        <form onSubmit={upload} class="inline-form">
          <div class="field">
            <label for="restore-file">Backup file</label>
            <input id="restore-file" type="file" accept=".swb,application/octet-stream" aria-describedby="restore-file-hint"
              onChange={(e) => setFile((e.currentTarget as HTMLInputElement).files?.[0] ?? null)} />
            <span class="hint" id="restore-file-hint">A .swb file from Download backup or switchboard backup</span>
          </div>
          <div class="field"><span class="label-like" aria-hidden="true">&nbsp;</span>
            <button type="submit" class="primary" disabled={busy}>{busy ? 'Checking…' : 'Upload and stage'}</button></div>
        </form>
        <p class="hint">On a new installation, restore before the first start: <code>switchboard restore --in FILE --data-dir NEW_DIR</code></p>
      </section>
    </>
  );
}
