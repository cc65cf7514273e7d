// The system media settings (SPEC "Media Security" and its options). Unlike
// the SIP settings beside them, the running server applies a change to its
// next call: no restart. Users set to "Same as system" follow these.
import { useState } from 'preact/hooks';
import { ApiError, describeError } from '../api.ts';
import type { SettingsResponse, SystemMedia } from '../types.ts';
import { CheckField, ErrorSummary, Fieldset, Notice, SelectField, useApp } from '../ui.tsx';

type Key = keyof SystemMedia;

const SECURITY = [
  { value: 'disabled', label: 'Disabled (RTP)' },
  { value: 'best-effort', label: 'Best Effort (SRTP, RTP fallback)' },
  { value: 'enforced', label: 'Enforced (SRTP only)' },
] as const;
const DTMF = [{ value: 'rfc4733', label: 'RFC 4733 events' }, { value: 'info', label: 'SIP INFO' }] as const;

const HINTS: Record<Key, string> = {
  security: 'Disabled: plain RTP. Best Effort: SRTP with an RTP fallback. Enforced: SRTP only (RTP/SAVP), plain RTP refused.',
  srtcp: 'Off only for phones that cannot encrypt RTCP (UNENCRYPTED_SRTCP). The DECT gateway requires it.',
  capneg: 'Best Effort offers carry the SRTP/RTP choice as RFC 5939 attributes. Only for phones that support it; the DECT gateway does not.',
  directMedia: 'RTP flows between the phones when both sides allow it and agree. Off: every call is relayed.',
  dtmf: 'Key presses as RFC 4733 events in the media, or as SIP INFO messages.',
  transport: 'Phones must register and call over TLS (SIPS).',
};

/** A user-facing value, for "Running now" notes. */
function shown(k: Key, v: unknown): string {
  if (k === 'security') return SECURITY.find((o) => o.value === v)?.label ?? String(v);
  if (k === 'dtmf') return DTMF.find((o) => o.value === v)?.label ?? String(v);
  if (k === 'srtcp') return v === 'encrypted' ? 'encrypted' : 'unencrypted';
  if (k === 'transport') return v === 'tls' ? 'TLS only' : 'any transport';
  return v ? 'on' : 'off';
}

export function MediaSettingsForm({ data, onSaved }: { data: SettingsResponse; onSaved: (r: SettingsResponse) => void }) {
  const { api, canWrite } = useApp();
  const [form, setForm] = useState<SystemMedia>(data.settings.media);
  const [err, setErr] = useState<ApiError | null>(null);
  const [saved, setSaved] = useState('');
  const set = <K extends Key>(k: K) => (v: SystemMedia[K]) => setForm((f) => ({ ...f, [k]: v }));
  const ro = !canWrite;

  const submit = async (e: Event) => {
    e.preventDefault();
    setErr(null);
    setSaved('');
    const media: Partial<Record<Key, unknown>> = {};
    for (const k of Object.keys(form) as Key[]) if (form[k] !== data.settings.media[k]) media[k] = form[k];
    if (Object.keys(media).length === 0) {
      setSaved('Nothing changed.');
      return;
    }
    try {
      const r = await api.put<SettingsResponse>('/api/settings', { media });
      setForm(r.settings.media);
      onSaved(r);
      setSaved('Media settings saved; the next call uses them.');
    } catch (e2) {
      setErr(e2 instanceof ApiError ? e2 : new ApiError(0, 'error', describeError(e2)));
    }
  };

  const hint = (k: Key) => {
    const running = data.running.media[k];
    return running === data.settings.media[k] ? HINTS[k] : `${HINTS[k]} Running now: ${shown(k, running)}.`;
  };
  const common = (k: Key) => ({ id: `m-${k}`, disabled: ro, hint: hint(k), error: err?.field(`media.${k}`) });

  return (
    <form class="form" onSubmit={submit} noValidate aria-labelledby="media-h">
      <h2 id="media-h">Media security</h2>
      <ErrorSummary err={err} idOf={(p) => `m-${p.replace(/^media\./, '')}`} />
      <p class="muted">For the whole system; users set to “Same as system” follow these. A change applies to the next call, without a restart.</p>
      <Fieldset legend="Encryption">
        <SelectField {...common('security')} label="Media security" value={form.security} options={SECURITY} onChange={set('security')} />
        <CheckField {...common('srtcp')} label="Encrypted SRTCP" checked={form.srtcp === 'encrypted'}
          onChange={(v) => set('srtcp')(v ? 'encrypted' : 'unencrypted')} />
        <CheckField {...common('capneg')} label="RFC 5939 capability negotiation" checked={form.capneg} onChange={set('capneg')} />
      </Fieldset>
      <Fieldset legend="Media path and signalling">
        <CheckField {...common('directMedia')} label="Direct media" checked={form.directMedia} onChange={set('directMedia')} />
        <SelectField {...common('dtmf')} label="DTMF" value={form.dtmf} options={DTMF} onChange={set('dtmf')} />
        <CheckField {...common('transport')} label="TLS only" checked={form.transport === 'tls'}
          onChange={(v) => set('transport')(v ? 'tls' : 'any')} />
      </Fieldset>
      <Notice kind="error">{err && (err.issues.some((i) => i.path.startsWith('media.')) ? 'Not saved: correct the fields listed at the top.' : err.message)}</Notice>
      <Notice kind="ok">{saved}</Notice>
      {canWrite && <div class="actions"><button type="submit" class="primary">Save media settings</button></div>}
    </form>
  );
}
