// Voicemail: every mailbox with messages and its counts (GET /api/voicemail),
// and one user's mailbox: the messages (caller, time, length, new or saved),
// played in the browser, moved between new and saved, deleted; and the
// user's greeting (played, uploaded, removed). Recordings are personal: the
// API gives them (and changes) to administrators only, so other roles see
// the lists without the players and buttons. The <audio> elements fetch the
// WAV with the session cookie like every other request of the page.
import { useEffect, useState } from 'preact/hooks';
import { asApiError, describeError, type ApiError } from '../api.ts';
import { dateTime, duration, party, plural } from '../format.ts';
import { href, navigate } from '../router.ts';
import { Loading, Notice, PageTitle, SubmitButton, TextField, useApp } from '../ui.tsx';
import type { VoicemailMessage } from '../../../src/store/types.ts';
import './voicemail.css';

interface Mailbox { mailbox: string; name: string; new: number; saved: number }
interface MailboxDetail { voicemail: boolean; greeting: boolean; counts: { new: number; saved: number }; items: VoicemailMessage[] }

const mailboxPath = (ext: string) => `/api/users/${encodeURIComponent(ext)}/voicemail`;

/** The message waiting lamp: lit with the number of new messages, dark otherwise (the text says it too). */
export function MessageWaiting({ count }: { count: number }) {
  return count > 0
    ? <span class="lamp lamp-on" data-messages={count}><span class="lamp-dot" aria-hidden="true" />{plural(count, 'new message')}</span>
    : <span class="lamp" data-messages={0}><span class="lamp-dot" aria-hidden="true" />none</span>;
}

/** Who left a message; a caller that sent no number is its name, or "unknown". */
const caller = (m: VoicemailMessage) => (m.caller ? party(m.callerName, m.caller) : m.callerName || 'unknown');

/** #/voicemail: the mailboxes with messages, and a way into any user's mailbox. */
function MailboxList() {
  const { api } = useApp();
  const [items, setItems] = useState<Mailbox[] | null>(null);
  const [error, setError] = useState('');
  const [ext, setExt] = useState('');
  useEffect(() => {
    api.get<{ items: Mailbox[] }>('/api/voicemail').then((r) => setItems(r.items), (e) => setError(describeError(e)));
  }, []);
  const open = (e: Event) => {
    e.preventDefault();
    if (ext.trim()) navigate('voicemail', ext.trim());
  };
  const totalNew = items?.reduce((n, m) => n + m.new, 0) ?? 0;
  return (
    <>
      <div class="page-head"><PageTitle>Voicemail</PageTitle></div>
      <Notice kind="error">{error}</Notice>
      <form class="toolbar" onSubmit={open} aria-label="Open a mailbox">
        <TextField id="vm-open" label="Mailbox of extension" value={ext} onInput={setExt} inputMode="numeric" hint="Every user's, with messages or not." />
        <button type="submit">Open mailbox</button>
      </form>
      <section aria-labelledby="vm-boxes-h">
        <h2 id="vm-boxes-h">Mailboxes with messages</h2>
        {items === null ? (error ? null : <Loading />) : items.length === 0 ? <p class="muted">No mailbox holds a message.</p> : (
          <>
            <p>{plural(totalNew, 'new message')} in {plural(items.length, 'mailbox', 'mailboxes')}.</p>
            <div class="table-wrap">
              <table class="responsive" aria-labelledby="vm-boxes-h">
                <thead><tr><th scope="col">Mailbox</th><th scope="col">User</th><th scope="col">Message waiting</th><th scope="col">New</th><th scope="col">Saved</th></tr></thead>
                <tbody>
                  {items.map((m) => (
                    <tr key={m.mailbox} data-mailbox={m.mailbox}>
                      <td data-label="Mailbox" class="mono"><a href={href('voicemail', m.mailbox)}>{m.mailbox}</a></td>
                      <td data-label="User">{m.name || '—'}</td>
                      <td data-label="Message waiting"><MessageWaiting count={m.new} /></td>
                      <td data-label="New" class="num">{m.new}</td>
                      <td data-label="Saved" class="num">{m.saved}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        )}
      </section>
    </>
  );
}

function Messages({ ext, box, act }: { ext: string; box: MailboxDetail; act: (what: () => Promise<unknown>, msg: string) => void }) {
  const { api, canWrite } = useApp();
  if (box.items.length === 0) return <p class="muted">No messages.</p>;
  const at = (m: VoicemailMessage) => `${mailboxPath(ext)}/${m.id}`;
  const remove = (m: VoicemailMessage) => {
    if (!window.confirm(`Delete the message from ${caller(m)} of ${dateTime(m.receivedAt)}? It cannot be undone.`)) return;
    act(() => api.delete(at(m)), `Message from ${caller(m)} deleted.`);
  };
  const move = (m: VoicemailMessage) => {
    const folder = m.folder === 'new' ? 'saved' : 'new';
    act(() => api.patch(at(m), { folder }), `Message from ${caller(m)} marked ${folder}.`);
  };
  // Newest first, as a person goes through them.
  const list = [...box.items].sort((a, b) => b.receivedAt - a.receivedAt);
  return (
    <div class="table-wrap">
      <table class="responsive" aria-labelledby="vm-msgs-h">
        <thead>
          <tr><th scope="col">Received</th><th scope="col">Caller</th><th scope="col">Length</th><th scope="col">Status</th>
            {canWrite && <><th scope="col">Listen</th><th scope="col"><span class="sr-only">Actions</span></th></>}</tr>
        </thead>
        <tbody>
          {list.map((m) => (
            <tr key={m.id} data-message={m.id} data-folder={m.folder}>
              <td data-label="Received">{dateTime(m.receivedAt)}</td>
              <td data-label="Caller">{caller(m)}</td>
              <td data-label="Length" class="num">{duration(m.durationMs / 1000)}</td>
              <td data-label="Status">{m.folder === 'new' ? <strong class="badge badge-warn">New</strong> : <span class="badge badge-ok">Saved</span>}</td>
              {canWrite && (
                <>
                  <td data-label="Listen">
                    <audio controls preload="metadata" src={`${at(m)}.wav`} aria-label={`Play the message from ${caller(m)}`} />
                  </td>
                  <td class="row-actions">
                    <button type="button" class="small" onClick={() => move(m)}
                      aria-label={`Mark the message from ${caller(m)} ${m.folder === 'new' ? 'saved' : 'new'}`}>
                      {m.folder === 'new' ? 'Mark saved' : 'Mark new'}
                    </button>
                    <button type="button" class="small danger" onClick={() => remove(m)}
                      aria-label={`Delete the message from ${caller(m)}`}>Delete</button>
                  </td>
                </>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Greeting(p: { ext: string; has: boolean; version: number; act: (what: () => Promise<unknown>, msg: string) => void; clear: () => void }) {
  const { ext, has, version, act } = p;
  const { api, canWrite } = useApp();
  const [file, setFile] = useState<File | null>(null);
  const [err, setErr] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const [inputKey, setInputKey] = useState(0);
  const url = `${mailboxPath(ext)}/greeting.wav`;
  const upload = async (e: Event) => {
    e.preventDefault();
    setErr(null);
    // What the page said about an earlier action is not about this upload.
    p.clear();
    if (!file) return setErr(asApiError(new Error('Choose a WAV file.')));
    setBusy(true);
    try {
      await api.put(url, undefined, { raw: { text: file, type: 'audio/wav' } });
      setFile(null);
      setInputKey((k) => k + 1);
      act(async () => {}, 'Greeting uploaded: callers hear it now.');
    } catch (e2) {
      setErr(asApiError(e2));
    } finally {
      setBusy(false);
    }
  };
  const remove = () => {
    if (!window.confirm(`Remove the greeting of mailbox ${ext}? Callers hear the default one.`)) return;
    act(() => api.delete(url), 'Greeting removed: callers hear the default one.');
  };
  return (
    <section aria-labelledby="vm-greeting-h">
      <h2 id="vm-greeting-h">Greeting</h2>
      {has
        ? <p data-greeting="own">Callers hear the user's own greeting.</p>
        : <p data-greeting="default">Callers hear the default greeting (“The person you are calling is not available…”).</p>}
      {has && canWrite && (
        <div class="greeting-line">
          {/* The version makes the player fetch a greeting uploaded since. */}
          <audio key={version} controls preload="metadata" src={`${url}?v=${version}`} aria-label="Play the greeting" />
          <button type="button" class="danger" onClick={remove}>Remove greeting</button>
        </div>
      )}
      {canWrite && (
        <form class="form" onSubmit={upload} noValidate aria-label="Upload a greeting">
          {err && <Notice kind="error">{err.message}</Notice>}
          <div class="field">
            <label for="vm-greeting-file">{has ? 'Replace with a WAV file' : 'Upload a WAV file'}</label>
            <input key={inputKey} id="vm-greeting-file" type="file" accept=".wav,audio/wav" aria-describedby="vm-greeting-hint"
              onChange={(e) => setFile((e.currentTarget as HTMLInputElement).files?.[0] ?? null)} />
            <span class="hint" id="vm-greeting-hint">Mono PCM, A-law or µ-law at 8-48 kHz, at most 2 MB. The user can also record one from the phone (mailbox menu key 3).</span>
          </div>
          <SubmitButton busy={busy} label="Upload greeting" busyLabel="Uploading…" />
        </form>
      )}
    </section>
  );
}

/** #/voicemail/EXT: one user's mailbox. */
function MailboxPage({ ext }: { ext: string }) {
  const { api, canWrite } = useApp();
  const [box, setBox] = useState<MailboxDetail | null>(null);
  const [name, setName] = useState('');
  const [error, setError] = useState('');
  const [message, setMessage] = useState('');
  const [reload, setReload] = useState(0);
  const load = () => api.get<MailboxDetail>(mailboxPath(ext)).then((b) => { setBox(b); setError(''); }, (e) => setError(describeError(e)));
  useEffect(() => void load(), []);
  useEffect(() => {
    api.get<{ name: string }>(`/api/users/${encodeURIComponent(ext)}`).then((u) => setName(u.name), () => undefined);
  }, []);
  const act = (what: () => Promise<unknown>, msg: string) => {
    setError('');
    setMessage('');
    // The notice comes with the list as it is now, not before it.
    what().then(async () => { await load(); setReload((n) => n + 1); setMessage(msg); }, (e) => setError(describeError(e)));
  };
  return (
    <>
      <p class="crumbs"><a href={href('voicemail')}>Voicemail</a> ›</p>
      <div class="page-head">
        <PageTitle>Mailbox {ext}{name ? ` — ${name}` : ''}</PageTitle>
        <a class="button" href={href('users', ext)}>Voicemail settings</a>
      </div>
      {!canWrite && <Notice kind="info">Your role can see the messages but neither hear nor change them.</Notice>}
      <Notice kind="ok">{message}</Notice>
      <Notice kind="error">{error}</Notice>
      {box === null ? (error ? null : <Loading />) : (
        <>
          {!box.voicemail && <Notice kind="info">Voicemail is off for this user: callers are not offered the mailbox. Turn it on in the user's settings.</Notice>}
          <dl class="facts vm-facts">
            <dt>Message waiting</dt><dd><MessageWaiting count={box.counts.new} /></dd>
            <dt>Saved messages</dt><dd>{box.counts.saved}</dd>
          </dl>
          <section aria-labelledby="vm-msgs-h">
            <h2 id="vm-msgs-h">Messages</h2>
            <Messages ext={ext} box={box} act={act} />
          </section>
          <Greeting ext={ext} has={box.greeting} version={reload} act={act} clear={() => { setMessage(''); setError(''); }} />
        </>
      )}
    </>
  );
}

export function VoicemailPage({ mailbox }: { mailbox: string | undefined }) {
  return mailbox === undefined ? <MailboxList /> : <MailboxPage key={mailbox} ext={mailbox} />;
}
