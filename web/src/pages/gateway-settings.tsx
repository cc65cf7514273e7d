// Gateway → Settings (SPEC B.1 Configuration, grouped as there: general and
// SIP, DTMF, MWI, media, call status, security and Lync; the proxies have
// their own page): mode and capacity profile, each setting with the help
// text of its model (src/model/gateway.ts). A save sends only what changed
// (PATCH /api/gateway/settings) and applies at once; the server's messages
// show beside their field.
import { useEffect, useState } from 'preact/hooks';
import {
  DNS_METHODS, GATEWAY_DEFAULTS, GATEWAY_MODES, GATEWAY_PROFILES, GATEWAY_PROFILE_NAMES, UPSTREAM_TRANSPORTS, type GatewayProfile, type GatewaySettings,
} from '../../../src/model/gateway.ts';
import { asApiError, type ApiError } from '../api.ts';
import { CheckField, ErrorSummary, Fieldset, Loading, Notice, PageTitle, SelectField, TextField, useApp } from '../ui.tsx';

type Key = keyof GatewaySettings;
type Kind = 'bool' | 'int' | 'text' | 'codecs' | readonly string[];
interface Field { key: Key; label: string; kind: Kind; hint?: string }

const MODE_TEXT: Record<string, string> = { 'call-server': 'Call server', gateway: 'Handset gateway', both: 'Both' };
const DNS_TEXT: Record<string, string> = { a: 'A/AAAA only', srv: 'SRV → A/AAAA', naptr: 'NAPTR → SRV → A/AAAA' };

const GROUPS: readonly { legend: string; fields: readonly Field[] }[] = [
  {
    legend: 'General',
    fields: [
      { key: 'mode', label: 'Mode', kind: GATEWAY_MODES, hint: 'Gateway: every gateway user\'s line registers upstream. Both: also a call server for other phones.' },
      { key: 'profile', label: 'Capacity profile', kind: GATEWAY_PROFILE_NAMES, hint: 'Caps the number of lines; a line over the cap is refused.' },
    ],
  },
  {
    legend: 'SIP',
    fields: [
      { key: 'defaultDomain', label: 'Default domain', kind: 'text', hint: 'Domain of a line that has none of its own (with Lync: the SIP domain).' },
      { key: 'transport', label: 'Transport', kind: UPSTREAM_TRANSPORTS },
      { key: 'dnsMethod', label: 'DNS method', kind: DNS_METHODS, hint: 'How proxy and domain names are resolved (RFC 3263).' },
      { key: 'sips', label: 'Use sips: URIs', kind: 'bool', hint: 'AoR, Request-URI and Contact use sips: (every hop TLS).' },
      { key: 'registerExpiresSec', label: 'Registration expiry (s)', kind: 'int', hint: '30-86400.' },
      { key: 'maxPendingRegistrations', label: 'Registrations in flight', kind: 'int', hint: 'REGISTER transactions at once; 1: one after another.' },
      { key: 'separatePorts', label: 'Separate local port per line', kind: 'bool' },
      { key: 'sendToCurrentRegistrar', label: 'Send to current registrar', kind: 'bool', hint: 'Every request of a line goes to the proxy that accepted its registration.' },
      { key: 'internalRoutingFallback', label: 'Internal routing fallback', kind: 'bool', hint: 'Handset-to-handset calls are routed locally when upstream is unreachable.' },
      { key: 'maxForwards', label: 'Max-Forwards', kind: 'int', hint: '1-255.' },
      { key: 'clientTransactionTimeoutMs', label: 'Transaction timeout (ms)', kind: 'int', hint: '1000-64000.' },
      { key: 'blacklistTimeoutSec', label: 'Blacklist timeout (s)', kind: 'int', hint: 'How long an unresponsive proxy is skipped; 0-3600.' },
      { key: 'gruu', label: 'Request a GRUU', kind: 'bool', hint: 'RFC 5627.' },
      { key: 'tcpEphemeralContact', label: 'Contact with the connection\'s local port', kind: 'bool', hint: 'TCP/TLS: the Contact carries the ephemeral port of the connection.' },
      { key: 'keepaliveIntervalSec', label: 'Keep-alive interval (s)', kind: 'int', hint: 'CRLF keep-alive on TCP/TLS (RFC 5626); 0: off.' },
    ],
  },
  {
    legend: 'DTMF',
    fields: [
      { key: 'dtmfRfc2833', label: 'RFC 2833 events', kind: 'bool' },
      { key: 'dtmfPayloadType', label: 'RFC 2833 payload type', kind: 'int', hint: '96-127.' },
      { key: 'dtmfInfo', label: 'SIP INFO', kind: 'bool' },
      { key: 'dtmfDurationMs', label: 'Tone duration (ms)', kind: 'int', hint: '40-2000.' },
    ],
  },
  {
    legend: 'Message waiting',
    fields: [
      { key: 'mwi', label: 'Subscribe to message waiting upstream', kind: 'bool' },
      { key: 'mwiExpiresSec', label: 'Subscription expiry (s)', kind: 'int', hint: '60-86400.' },
    ],
  },
  {
    legend: 'Media',
    fields: [
      { key: 'codecs', label: 'Codec priority', kind: 'codecs', hint: 'Up to 6, first preferred, separated by commas: PCMU, PCMA, G722, G729.' },
      { key: 'g729a', label: 'G.729 as Annex A', kind: 'bool' },
      { key: 'answerPreferredCodec', label: 'Answer with the preferred codec', kind: 'bool' },
      { key: 'answerSingleCodec', label: 'Answer with one codec only', kind: 'bool' },
      { key: 'ignoreSdpVersion', label: 'Ignore the SDP version', kind: 'bool' },
      { key: 'srtp', label: 'Offer SRTP', kind: 'bool' },
      { key: 'requireSrtp', label: 'Require SRTP', kind: 'bool' },
      { key: 'sdesLifetime', label: 'SDES lifetime', kind: 'bool' },
      { key: 'sdesMki', label: 'SDES MKI', kind: 'bool' },
      { key: 'packetMs', label: 'Packet time (ms)', kind: 'int', hint: '10-60.' },
    ],
  },
  {
    legend: 'Call status',
    fields: [
      { key: 'holdBeforeRefer', label: 'Hold before transfer', kind: 'bool' },
      { key: 'byeWithRefer', label: 'BYE after transfer', kind: 'bool' },
      { key: 'callWaiting', label: 'Call waiting', kind: 'bool' },
    ],
  },
  {
    legend: 'Security and Lync',
    fields: [
      { key: 'tlsAllowInsecure', label: 'Accept an upstream certificate that fails validation', kind: 'bool', hint: 'Insecure: logged on every connection.' },
      { key: 'legacyTls', label: 'Legacy TLS', kind: 'bool', hint: 'Off: TLS 1.2 and newer with modern suites only. On: also TLS 1.0/1.1 and older suites.' },
      { key: 'stripPasswordsOnExport', label: 'Strip passwords on export', kind: 'bool', hint: 'Exports carry no upstream passwords unless asked.' },
      { key: 'trustedServer', label: 'Trusted server (mutual TLS)', kind: 'bool', hint: 'Authenticate to the upstream as a trusted application; lines need no passwords.' },
    ],
  },
];

type Form = Record<string, string | boolean>;

function formOf(s: GatewaySettings): Form {
  const f: Form = {};
  for (const g of GROUPS) {
    for (const x of g.fields) {
      const v = s[x.key];
      f[x.key] = typeof v === 'boolean' ? v : Array.isArray(v) ? v.join(', ') : String(v);
    }
  }
  return f;
}

function valueOf(x: Field, v: string | boolean): unknown {
  if (x.kind === 'bool') return v;
  const t = String(v).trim();
  if (x.kind === 'int') return t === '' ? NaN : Number(t);
  if (x.kind === 'codecs') return t.split(/[\s,]+/).filter((c) => c !== '').map((c) => c.toUpperCase());
  return t;
}

function optionText(key: Key, v: string): string {
  if (key === 'mode') return MODE_TEXT[v] ?? v;
  if (key === 'dnsMethod') return DNS_TEXT[v] ?? v;
  if (key === 'transport') return v.toUpperCase();
  return v;
}

export function GatewaySettingsPage() {
  const { api, canWrite } = useApp();
  const [saved, setSaved] = useState<GatewaySettings | undefined>();
  const [form, setForm] = useState<Form>({});
  const [err, setErr] = useState<ApiError | null>(null);
  const [message, setMessage] = useState('');
  const [busy, setBusy] = useState(false);
  const load = (s: GatewaySettings) => {
    setSaved(s);
    setForm(formOf(s));
  };
  useEffect(() => {
    api.get<GatewaySettings>('/api/gateway/settings').then(load, (e) => setErr(asApiError(e)));
  }, []);
  if (!saved) return <><PageTitle>Gateway settings</PageTitle>{err ? <Notice kind="error">{err.message}</Notice> : <Loading />}</>;

  const before = formOf(saved);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    setErr(null);
    setMessage('');
    const patch: Record<string, unknown> = {};
    for (const g of GROUPS) for (const x of g.fields) if (form[x.key] !== before[x.key]) patch[x.key] = valueOf(x, form[x.key]!);
    if (Object.keys(patch).length === 0) {
      setMessage('Nothing changed.');
      return;
    }
    setBusy(true);
    try {
      load(await api.patch<GatewaySettings>('/api/gateway/settings', patch));
      setMessage('Gateway settings saved; they apply now.');
    } catch (e2) {
      setErr(asApiError(e2));
    } finally {
      setBusy(false);
    }
  };
  const ro = !canWrite;
  return (
    <>
      <PageTitle>Gateway settings</PageTitle>
      {ro && <Notice kind="info">Your role can read the gateway settings but not change them.</Notice>}
      <form class="form" onSubmit={submit} noValidate aria-label="Gateway settings">
        <ErrorSummary err={err} idOf={(p) => `gs-${p.split('.')[0]}`} />
        {GROUPS.map((g) => (
          <Fieldset key={g.legend} legend={g.legend}>
            {g.fields.map((x) => field(x))}
          </Fieldset>
        ))}
        <Notice kind="error">{err && (err.issues.length === 0 ? err.message : 'Not saved: correct the fields listed at the top.')}</Notice>
        <Notice kind="ok">{message}</Notice>
        {canWrite && (
          <div class="actions">
            <button type="submit" class="primary" aria-disabled={busy ? 'true' : undefined}>{busy ? 'Saving…' : 'Save gateway settings'}</button>
          </div>
        )}
      </form>
    </>
  );

  // A plain function, not a component: a component defined in here would be new on every render and lose the focus.
  function field(x: Field) {
    const id = `gs-${x.key}`;
    const def = GATEWAY_DEFAULTS[x.key];
    const defText = typeof def === 'boolean' ? (def ? 'on' : 'off') : Array.isArray(def) ? def.join(', ') : String(def) || 'blank';
    const caps = x.key === 'profile' ? GATEWAY_PROFILES[form.profile as GatewayProfile] : undefined;
    const hint = [x.hint, caps && `This one: up to ${caps.handsets} handsets, ${caps.channels} channels (${caps.channelsSrtp} with SRTP).`, `Default: ${defText}.`]
      .filter(Boolean).join(' ');
    const v = form[x.key];
    // A list's issues name the item (codecs.1): shown beside the list's field.
    const error = [err?.field(x.key), ...(err?.issues.filter((i) => i.path.startsWith(`${x.key}.`)).map((i) => i.message) ?? [])]
      .filter(Boolean).join('; ') || undefined;
    const set = (nv: string | boolean) => setForm((f) => ({ ...f, [x.key]: nv }));
    if (x.kind === 'bool') {
      return <CheckField key={x.key} id={id} label={x.label} checked={v === true} onChange={set} disabled={ro} hint={hint} error={error} />;
    }
    if (typeof x.kind !== 'string') {
      return (
        <SelectField key={x.key} id={id} label={x.label} value={String(v)} onChange={set} disabled={ro} hint={hint} error={error}
          options={x.kind.map((o) => ({ value: o, label: optionText(x.key, o) }))} />
      );
    }
    return (
      <TextField key={x.key} id={id} label={x.label} value={String(v ?? '')} onInput={set} type={x.kind === 'int' ? 'number' : 'text'}
        disabled={ro} hint={hint} error={error} />
    );
  }
}
