// Audio files (IVR greetings, music on hold) and the music-on-hold choice.
// Files are uploaded as they are (WAV: PCM, A-law or µ-law, at most 5 MB);
// the server checks them and says why one is refused. A file in use (by a
// menu, or as the music on hold) cannot be removed: the answer names the user.
import { useEffect, useState } from 'preact/hooks';
import { AUDIO_KINDS, AUDIO_MAX_BYTES, audioNameFromPath } from '../../../src/model/audio-file.ts';
import { asApiError, describeError, type ApiError } from '../api.ts';
import { useResourcePage } from '../resource-page.tsx';
import type { AudioFile, AudioKind } from '../types.ts';
import { ErrorSummary, Fieldset, Loading, Notice, PageTitle, SelectField, SubmitButton, TextField, useApp } from '../ui.tsx';

const KINDS = AUDIO_KINDS.map((k) => ({ value: k, label: k === 'moh' ? 'Music on hold' : 'Prompt (IVR greeting)' }));
const DEFAULT_MOH = '';

function Upload({ onDone }: { onDone: (msg: string) => void }) {
  const { api } = useApp();
  const [file, setFile] = useState<File | null>(null);
  const [name, setName] = useState('');
  const [kind, setKind] = useState<AudioKind>('prompt');
  const [err, setErr] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  // A new input after an upload: the browser keeps a chosen file in the old one.
  const [inputKey, setInputKey] = useState(0);
  const submit = async (e: Event) => {
    e.preventDefault();
    setErr(null);
    if (!file) return setErr(asApiError(new Error('Choose a WAV file.')));
    const n = name.trim() || audioNameFromPath(file.name) || '';
    setBusy(true);
    try {
      await api.put(`/api/audio/${encodeURIComponent(n)}?kind=${kind}`, undefined, { raw: { text: file, type: 'audio/wav' } });
      onDone(`Audio file ${n} uploaded.`);
      setFile(null);
      setName('');
      setInputKey((k) => k + 1);
    } catch (e2) {
      setErr(asApiError(e2));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="form" onSubmit={submit} noValidate aria-labelledby="au-form-h">
      <h2 id="au-form-h">Upload</h2>
      <ErrorSummary err={err} idOf={() => 'au-file'} />
      {err && err.issues.length === 0 && <Notice kind="error">{err.message}</Notice>}
      <Fieldset legend="File">
        <div class="field">
          <label for="au-file">WAV file</label>
          <input key={inputKey} id="au-file" type="file" accept=".wav,audio/wav" aria-describedby="au-file-hint"
            onChange={(e) => setFile((e.currentTarget as HTMLInputElement).files?.[0] ?? null)} />
          <span class="hint" id="au-file-hint">PCM, A-law or µ-law, mono or stereo, 8-48 kHz, at most {AUDIO_MAX_BYTES / 1024 / 1024} MB.</span>
        </div>
        <TextField id="au-name" label="Name" value={name} onInput={setName} error={err?.field('name')}
          hint="What menus refer to it by; blank: the file's name. A file of the same name is replaced." />
        <SelectField id="au-kind" label="Use" value={kind} options={KINDS} onChange={setKind} />
      </Fieldset>
      <SubmitButton busy={busy} label="Upload" busyLabel="Uploading…" />
    </form>
  );
}

function MusicOnHold({ files, onDone }: { files: AudioFile[]; onDone: (msg: string) => void }) {
  const { api, canWrite } = useApp();
  const [file, setFile] = useState<string | null>(null);
  const [choice, setChoice] = useState(DEFAULT_MOH);
  const [error, setError] = useState('');
  // Read once: a reload of the file list (after an upload) must not undo a choice being made.
  useEffect(() => {
    api.get<{ file: string | null }>('/api/moh').then((r) => { setFile(r.file); setChoice(r.file ?? DEFAULT_MOH); }, (e) => setError(describeError(e)));
  }, []);
  const save = async (e: Event) => {
    e.preventDefault();
    setError('');
    try {
      const r = await api.put<{ file: string | null }>('/api/moh', { file: choice === DEFAULT_MOH ? null : choice });
      setFile(r.file);
      onDone(`Music on hold: ${r.file ?? 'the default'}.`);
    } catch (e2) {
      setError(describeError(e2));
    }
  };
  const options = [{ value: DEFAULT_MOH, label: 'The default that ships' }, ...files.map((f) => ({ value: f.name, label: `${f.name} (${f.kind})` }))];
  return (
    <form class="form" onSubmit={save} aria-labelledby="moh-h">
      <h2 id="moh-h">Music on hold</h2>
      <Notice kind="error">{error}</Notice>
      <p>Held callers hear <strong data-moh>{file ?? 'the default'}</strong>.</p>
      {canWrite && (
        <>
          <SelectField id="moh-file" label="Play" value={choice} options={options} onChange={setChoice} />
          <button type="submit" class="primary">Save music on hold</button>
        </>
      )}
    </form>
  );
}

export function AudioPage() {
  const { api, canWrite } = useApp();
  const page = useResourcePage<AudioFile>('/api/audio', 'audio');
  const { items: files, error, message } = page;
  const remove = (f: AudioFile) => {
    if (!window.confirm(`Remove audio file ${f.name}?`)) return;
    void page.act(() => api.delete(`/api/audio/${encodeURIComponent(f.name)}`), `Audio file ${f.name} removed.`);
  };
  const said = (msg: string) => void page.act(async () => {}, msg);
  return (
    <>
      <div class="page-head"><PageTitle>Audio &amp; music on hold</PageTitle></div>
      {!canWrite && <Notice kind="info">Your role can read audio files but not change them.</Notice>}
      <Notice kind="ok">{message}</Notice>
      <Notice kind="error">{error}</Notice>
      {files !== null && <MusicOnHold files={files} onDone={said} />}
      {canWrite && <Upload onDone={said} />}
      <section aria-labelledby="audio-h">
        <h2 id="audio-h">Files</h2>
        {files === null ? <Loading /> : files.length === 0 ? <p class="muted">No audio files.</p> : (
          <div class="table-wrap">
            <table class="responsive" aria-labelledby="audio-h">
              <thead>
                <tr><th scope="col">Name</th><th scope="col">Use</th><th scope="col">Length</th><th scope="col">Size</th><th scope="col">Listen</th>
                  {canWrite && <th scope="col"><span class="sr-only">Actions</span></th>}</tr>
              </thead>
              <tbody>
                {files.map((f) => (
                  <tr key={f.name} data-audio={f.name}>
                    <td data-label="Name" class="mono"><a href={`/api/audio/${encodeURIComponent(f.name)}.wav`} download={`${f.name}.wav`}>{f.name}</a></td>
                    <td data-label="Use">{f.kind === 'moh' ? 'music on hold' : 'prompt'}</td>
                    <td data-label="Length">{(f.durationMs / 1000).toFixed(1)} s</td>
                    <td data-label="Size">{Math.ceil(f.size / 1024)} KB</td>
                    <td data-label="Listen"><audio controls preload="none" src={`/api/audio/${encodeURIComponent(f.name)}.wav`} aria-label={`Play ${f.name}`} /></td>
                    {canWrite && (
                      <td><button type="button" class="danger small" onClick={() => remove(f)} aria-label={`Remove audio file ${f.name}`}>Remove</button></td>
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
