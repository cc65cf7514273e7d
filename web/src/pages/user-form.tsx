// Add or change one user: every field the API takes, the media settings
// among them. The login code is write-only: blank keeps the current one; the
// generator makes one that passes the user rules (GET /api/user-rules).
// Saving reports every problem at once (summary at the top, each beside its
// field) and leaves the keyboard focus where it was.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, describeError } from '../api.ts';
import { dateTime } from '../format.ts';
import { href, navigate } from '../router.ts';
import type { User, UserMedia } from '../types.ts';
import { renumberPreview } from '../../../src/model/user-renumber.ts';
import { generateSipPassword, USER_RULES_DEFAULTS, type UserRules } from '../../../src/model/user-rules.ts';
import type { MwiMode } from '../../../src/model/user.ts';
import {
  CheckField, ErrorSummary, Fieldset, Loading, Notice, PageTitle, RequiredNote, SelectField, SubmitButton, TextField, useApp,
} from '../ui.tsx';

export const FLASH_KEY = 'switchboard.flash';

type Choice = 'system' | string;
type MediaKey = keyof UserMedia;

const MEDIA: readonly { key: MediaKey; label: string; options: { value: string; label: string }[]; hint?: string }[] = [
  { key: 'security', label: 'Media security', options: [
    { value: 'disabled', label: 'Disabled (RTP)' }, { value: 'best-effort', label: 'Best effort (SRTP, RTP fallback)' },
    { value: 'enforced', label: 'Enforced (SRTP only)' }] },
  { key: 'srtcp', label: 'SRTCP', options: [{ value: 'encrypted', label: 'Encrypted' }, { value: 'unencrypted', label: 'Unencrypted' }],
    hint: 'Handsets behind the DECT gateway need encrypted SRTCP.' },
  { key: 'directMedia', label: 'Direct media', options: [{ value: 'true', label: 'Allowed' }, { value: 'false', label: 'Always relayed' }] },
  { key: 'dtmf', label: 'DTMF', options: [{ value: 'rfc4733', label: 'RFC 4733 events' }, { value: 'info', label: 'SIP INFO' }] },
  { key: 'capneg', label: 'Capability negotiation (RFC 5939)', options: [{ value: 'true', label: 'Supported' }, { value: 'false', label: 'Not supported' }] },
  { key: 'transport', label: 'Signalling transport', options: [{ value: 'any', label: 'Any' }, { value: 'tls', label: 'TLS only' }] },
];

const MWI_OPTIONS: readonly { value: MwiMode; label: string }[] = [
  { value: 'subscribe', label: 'Phones subscribe' },
  { value: 'unsolicited', label: 'Sent unasked' },
];

const KNOWN_CODECS = 'PCMU, PCMA, G722, G729';
/** Fields the form shows an error beside; an issue elsewhere is shown at the bottom. */
const PLACED = new Set(['extension', 'name', 'authUser', 'password', 'voicemailCode', 'voicemail', 'mwi', 'enabled', 'maxCalls',
  'noAnswerTimeoutSec', 'codecs', ...MEDIA.map((m) => m.key), 'forwardUnconditional', 'forwardBusy', 'forwardNoAnswer',
  'forwardNoAnswerSec', 'forwardNumber', 'dndExceptions', 'followMe', 'pickupGroup']);

/** Feature fields edited as text: blank = off (null). */
const FEATURE_TEXT = ['forwardUnconditional', 'forwardBusy', 'forwardNoAnswer', 'forwardNumber', 'followMe', 'pickupGroup'] as const;
type FeatureText = (typeof FEATURE_TEXT)[number];

interface Form {
  extension: string;
  name: string;
  authUser: string;
  password: string;
  voicemailCode: string;
  clearVoicemail: boolean;
  voicemail: boolean;
  mwi: MwiMode;
  enabled: boolean;
  callWaiting: boolean;
  outboundCalls: boolean;
  systemCodecs: boolean;
  codecs: string;
  maxCalls: string;
  noAnswerTimeoutSec: string;
  media: Record<MediaKey, Choice>;
  features: Record<FeatureText, string>;
  forwardNoAnswerSec: string;
  dnd: boolean;
  dndExceptions: string;
}

function formOf(u: User | null): Form {
  const m = u?.media ?? {};
  const media = Object.fromEntries(MEDIA.map((x) => [x.key, m[x.key] === undefined ? 'system' : String(m[x.key])])) as Record<MediaKey, Choice>;
  return {
    extension: u?.extension ?? '', name: u?.name ?? '', authUser: u?.authUser ?? '',
    password: '', voicemailCode: '', clearVoicemail: false, voicemail: u?.voicemail ?? true, mwi: u?.mwi ?? 'subscribe',
    enabled: u?.enabled ?? true, callWaiting: u?.callWaiting ?? true, outboundCalls: u?.outboundCalls ?? false,
    systemCodecs: !u?.codecs, codecs: u?.codecs?.join(', ') ?? '',
    maxCalls: u?.maxCalls == null ? '' : String(u.maxCalls),
    noAnswerTimeoutSec: u?.noAnswerTimeoutSec == null ? '' : String(u.noAnswerTimeoutSec),
    media,
    features: Object.fromEntries(FEATURE_TEXT.map((k) => [k, u?.[k] ?? ''])) as Record<FeatureText, string>,
    forwardNoAnswerSec: u?.forwardNoAnswerSec == null ? '' : String(u.forwardNoAnswerSec),
    dnd: u?.dnd ?? false,
    dndExceptions: u?.dndExceptions.join(', ') ?? '',
  };
}

const intOrNull = (s: string): number | null => (s.trim() === '' ? null : Number(s.trim()));

function bodyOf(f: Form, loaded: User | null): Record<string, unknown> {
  const isNew = loaded === null;
  const b: Record<string, unknown> = {
    extension: f.extension.trim(), name: f.name, enabled: f.enabled, callWaiting: f.callWaiting,
    outboundCalls: f.outboundCalls, voicemail: f.voicemail, mwi: f.mwi, maxCalls: intOrNull(f.maxCalls), noAnswerTimeoutSec: intOrNull(f.noAnswerTimeoutSec),
    codecs: f.systemCodecs ? null : f.codecs.split(/[\s,]+/).filter((c) => c !== ''),
  };
  // Sent only when changed: an auth user left as it was follows a renumbering when it equals the extension.
  if (f.authUser.trim() && f.authUser.trim() !== loaded?.authUser) b.authUser = f.authUser.trim();
  if (f.password !== '' || isNew) b.password = f.password;
  if (f.clearVoicemail) b.voicemailCode = null;
  else if (f.voicemailCode !== '') b.voicemailCode = f.voicemailCode;
  const media: Record<string, unknown> = {};
  for (const x of MEDIA) {
    const v = f.media[x.key];
    media[x.key] = v === 'system' ? null : v === 'true' ? true : v === 'false' ? false : v;
  }
  b.media = media;
  for (const k of FEATURE_TEXT) b[k] = f.features[k].trim() === '' ? null : f.features[k].trim();
  b.forwardNoAnswerSec = intOrNull(f.forwardNoAnswerSec);
  b.dnd = f.dnd;
  b.dndExceptions = f.dndExceptions.split(/[\s,]+/).filter((x) => x !== '');
  return b;
}

/** The control of an issue's field: media.KEY and list items (codecs.0) are edited by one control each. */
const idOf = (path: string) => `u-${path.startsWith('media.') ? path.split('.')[1] : path.split('.')[0]}`;

export function UserFormPage({ extension: routed }: { extension: string | null }) {
  const { api, canWrite } = useApp();
  const isNew = routed === null;
  // The extension being edited: a renumbering changes it without leaving the page (and the focus).
  const [extension, setExtension] = useState(routed);
  const [rules, setRules] = useState<UserRules>(USER_RULES_DEFAULTS);
  const [generated, setGenerated] = useState(false);
  const [user, setUser] = useState<User | null>(null);
  const [form, setForm] = useState<Form>(formOf(null));
  const [err, setErr] = useState<ApiError | null>(null);
  const [loadError, setLoadError] = useState('');
  const [saved, setSaved] = useState('');
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api.get<UserRules>('/api/user-rules').then(setRules, () => undefined);
  }, []);

  useEffect(() => {
    if (isNew || extension === null) return;
    api.get<User>(`/api/users/${encodeURIComponent(extension)}`).then((u) => {
      setUser(u);
      setForm(formOf(u));
    }, (e) => setLoadError(describeError(e)));
  }, []);

  const set = <K extends keyof Form>(k: K) => (v: Form[K]) => setForm((f) => ({ ...f, [k]: v }));
  const setFeature = (k: FeatureText) => (v: string) => setForm((f) => ({ ...f, features: { ...f.features, [k]: v } }));
  const setMedia = (k: MediaKey) => (v: string) => setForm((f) => ({ ...f, media: { ...f.media, [k]: v } }));
  const fieldError = (path: string) => {
    const all = err?.issues.filter((i) => i.path === path || i.path.startsWith(`${path}.`)).map((i) => i.message) ?? [];
    return all.length > 0 ? all.join('; ') : undefined;
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    setBusy(true);
    setErr(null);
    setSaved('');
    try {
      if (isNew) {
        const u = await api.post<User>('/api/users', bodyOf(form, null));
        sessionStorage.setItem(FLASH_KEY, `User ${u.extension} added.`);
        navigate('users');
        return;
      }
      const u = await api.patch<User & { notice?: string }>(`/api/users/${encodeURIComponent(extension!)}`, bodyOf(form, user));
      setUser(u);
      setForm(formOf(u));
      setGenerated(false);
      setSaved(`Saved ${dateTime(u.updatedAt)}.${u.notice ? ` ${u.notice[0]!.toUpperCase()}${u.notice.slice(1)}.` : ''}`);
      if (u.extension !== extension) {
        setExtension(u.extension);
        // The address follows without a page change, so the focus stays on the control that saved.
        history.replaceState(null, '', href('users', u.extension));
      }
    } catch (e2) {
      setErr(e2 instanceof ApiError ? e2 : new ApiError(0, 'error', describeError(e2)));
    } finally {
      setBusy(false);
    }
  };

  const remove = async () => {
    if (isNew || extension === null || !window.confirm(`Delete user ${extension}? This cannot be undone.`)) return;
    try {
      await api.delete(`/api/users/${encodeURIComponent(extension)}`);
      sessionStorage.setItem(FLASH_KEY, `User ${extension} deleted.`);
      navigate('users');
    } catch (e2) {
      setErr(e2 instanceof ApiError ? e2 : new ApiError(0, 'error', describeError(e2)));
    }
  };

  if (loadError) return <><PageTitle>User {extension}</PageTitle><Notice kind="error">{loadError}</Notice></>;
  if (!isNew && !user) return <Loading />;
  const ro = !canWrite;
  const placed = (path: string) => PLACED.has(path.startsWith('media.') ? path.split('.')[1]! : path.split('.')[0]!);
  const unplaced = err && err.issues.some((i) => !placed(i.path)) ? err.message : '';
  const renumbering = user ? renumberPreview(user, form.extension.trim(), form.authUser.trim() === '' ? undefined : form.authUser.trim()) : null;
  const generate = () => {
    setForm((f) => ({ ...f, password: generateSipPassword(rules) }));
    setGenerated(true);
  };
  const pw = rules.password;
  return (
    <>
      <p class="crumbs"><a href={href('users')}>Users</a> ›</p>
      <PageTitle>{isNew ? 'Add user' : `User ${user!.extension}${user!.name ? ` — ${user!.name}` : ''}`}</PageTitle>
      {ro && <Notice kind="info">Your role can read users but not change them.</Notice>}
      <form onSubmit={submit} class="form" noValidate>
        <ErrorSummary err={err} idOf={idOf} />
        {!ro && <RequiredNote />}
        <Fieldset legend="Identity">
          <TextField id="u-extension" label="Extension" value={form.extension} onInput={set('extension')} required disabled={ro}
            error={fieldError('extension')} inputMode="numeric"
            hint={renumbering ?? `${rules.extensionHint[0]!.toUpperCase()}${rules.extensionHint.slice(1)}.`} />
          <TextField id="u-name" label="Display name" value={form.name} onInput={set('name')} disabled={ro} error={fieldError('name')}
            hint="Shown to the people this user calls, and in status." />
          <TextField id="u-authUser" label="SIP auth user" value={form.authUser} onInput={set('authUser')} disabled={ro}
            error={fieldError('authUser')} hint={isNew ? 'What the phone logs in with. Blank: the extension.' : 'What the phone logs in with.'} />
        </Fieldset>
        {!ro && <Fieldset legend="Credentials">
          <TextField id="u-password" label={isNew ? 'Login code (SIP password)' : 'New login code'} type={generated ? 'text' : 'password'}
            value={form.password} onInput={(v) => { setGenerated(false); set('password')(v); }} required={isNew} disabled={ro}
            error={fieldError('password')} autoComplete="new-password"
            hint={generated
              ? 'Generated: copy it into the phone now; it is not shown again after saving.'
              : `${isNew ? 'The phone registers with this.' : 'Blank keeps the current one.'} At least ${pw.minLength} characters${pw.refuseGuessable ? ', not guessable (no 1234, 1111, common words or the extension)' : ''}.`} />
          <div class="field field-action">
            <button type="button" onClick={generate} aria-describedby="u-generate-hint">Generate a password</button>
            <span class="hint" id="u-generate-hint">A random one the rules accept.</span>
          </div>
        </Fieldset>}
        <Fieldset legend="Voicemail">
          <CheckField id="u-voicemail" label="Mailbox on" checked={form.voicemail} onChange={set('voicemail')}
            disabled={ro} error={fieldError('voicemail')} hint="Calls not answered, or finding the user busy, in do not disturb or without a registered phone, may leave a message." />
          <SelectField id="u-mwi" label="Message waiting lamp" value={form.mwi} options={MWI_OPTIONS} onChange={set('mwi')} disabled={ro}
            error={fieldError('mwi')} hint="How phones learn of new messages: they subscribe to message-summary, or (phones that do not) are sent NOTIFY unasked." />
          {!ro && <TextField id="u-voicemailCode" label={user?.hasVoicemailCode ? 'New voicemail code' : 'Voicemail code'} type="password"
            value={form.voicemailCode} onInput={set('voicemailCode')} disabled={form.clearVoicemail} inputMode="numeric"
            error={fieldError('voicemailCode')} autoComplete="new-password"
            hint={user?.hasVoicemailCode ? 'A code is set. Blank keeps it.' : '1-16 digits. Without one the mailbox is reached only from the user\'s own phones (*17).'} />}
          {!ro && user?.hasVoicemailCode && (
            <CheckField id="u-clearVoicemail" label="Remove the voicemail code" checked={form.clearVoicemail} onChange={set('clearVoicemail')} />
          )}
          {!isNew && <div class="field field-action"><a class="button" href={href('voicemail', user!.extension)}>Open mailbox</a></div>}
        </Fieldset>
        <Fieldset legend="Calls">
          <CheckField id="u-enabled" label="Enabled (may register and call)" checked={form.enabled} onChange={set('enabled')} disabled={ro} error={fieldError('enabled')} />
          <CheckField id="u-callWaiting" label="Call waiting" checked={form.callWaiting} onChange={set('callWaiting')} disabled={ro} />
          <CheckField id="u-outboundCalls" label="May call out through trunks" checked={form.outboundCalls} onChange={set('outboundCalls')} disabled={ro} />
          <TextField id="u-maxCalls" label="Maximum simultaneous calls" type="number" value={form.maxCalls} onInput={set('maxCalls')} disabled={ro}
            error={fieldError('maxCalls')} hint="Blank: the system default." inputMode="numeric" />
          <TextField id="u-noAnswerTimeoutSec" label="No-answer timeout (seconds)" type="number" value={form.noAnswerTimeoutSec}
            onInput={set('noAnswerTimeoutSec')} disabled={ro} error={fieldError('noAnswerTimeoutSec')} hint="Blank: the system default." inputMode="numeric" />
        </Fieldset>
        <Fieldset legend="Forwarding, do not disturb, follow me">
          <TextField id="u-forwardUnconditional" label="Forward all calls to" value={form.features.forwardUnconditional}
            onInput={setFeature('forwardUnconditional')} disabled={ro} error={fieldError('forwardUnconditional')} hint="Blank: off." />
          <TextField id="u-forwardBusy" label="Forward when busy to" value={form.features.forwardBusy}
            onInput={setFeature('forwardBusy')} disabled={ro} error={fieldError('forwardBusy')} hint="Blank: off." />
          <TextField id="u-forwardNoAnswer" label="Forward when not answered to" value={form.features.forwardNoAnswer}
            onInput={setFeature('forwardNoAnswer')} disabled={ro} error={fieldError('forwardNoAnswer')} hint="Blank: off." />
          <TextField id="u-forwardNoAnswerSec" label="Ring before forwarding (seconds)" type="number" value={form.forwardNoAnswerSec}
            onInput={set('forwardNoAnswerSec')} disabled={ro} error={fieldError('forwardNoAnswerSec')} inputMode="numeric"
            hint="5-600. Blank: the no-answer timeout." />
          <TextField id="u-forwardNumber" label="Stored forward number" value={form.features.forwardNumber}
            onInput={setFeature('forwardNumber')} disabled={ro} error={fieldError('forwardNumber')}
            hint="What the short codes *01, *03, *05 forward to. Setting a forward above also sets it." />
          <CheckField id="u-dnd" label="Do not disturb" checked={form.dnd} onChange={set('dnd')} disabled={ro} />
          <TextField id="u-dndExceptions" label="Callers that ring through do not disturb" value={form.dndExceptions}
            onInput={set('dndExceptions')} disabled={ro} error={fieldError('dndExceptions')} hint="Numbers separated by commas." />
          <TextField id="u-followMe" label="Follow me: ring calls at extension" value={form.features.followMe}
            onInput={setFeature('followMe')} disabled={ro} error={fieldError('followMe')} hint="Blank: off." />
          <TextField id="u-pickupGroup" label="Pickup group" value={form.features.pickupGroup}
            onInput={setFeature('pickupGroup')} disabled={ro} error={fieldError('pickupGroup')}
            hint="Users of one group may pick up each other's ringing calls. Blank: none." />
        </Fieldset>
        <Fieldset legend="Codecs">
          <CheckField id="u-systemCodecs" label="Use the system's codec list" checked={form.systemCodecs} onChange={set('systemCodecs')} disabled={ro} />
          <TextField id="u-codecs" label="Codecs in preference order" value={form.codecs} onInput={set('codecs')} disabled={ro || form.systemCodecs}
            error={fieldError('codecs')} hint={`Separated by commas, e.g. ${KNOWN_CODECS}.`} />
        </Fieldset>
        <Fieldset legend="Media (per user; “Same as system” follows the system setting)">
          {MEDIA.map((x) => (
            <SelectField key={x.key} id={`u-${x.key}`} label={x.label} value={form.media[x.key]} onChange={setMedia(x.key)} disabled={ro}
              hint={x.hint} error={fieldError(`media.${x.key}`)}
              options={[{ value: 'system', label: 'Same as system' }, ...x.options]} />
          ))}
        </Fieldset>
        <Notice kind="error">{unplaced || (err && err.issues.length === 0 ? err.message : '')}</Notice>
        {err && err.issues.length > 0 && !unplaced && <Notice kind="error">Not saved: correct the fields listed at the top.</Notice>}
        <Notice kind="ok">{saved}</Notice>
        {canWrite && (
          <div class="actions">
            <SubmitButton busy={busy} label={isNew ? 'Add user' : 'Save changes'} />
            <a class="button" href={href('users')}>Cancel</a>
            {!isNew && <button type="button" class="danger push-right" onClick={remove}>Delete user</button>}
          </div>
        )}
      </form>
    </>
  );
}
