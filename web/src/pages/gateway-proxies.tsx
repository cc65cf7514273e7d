// Gateway → Proxies (B-02): the upstream proxies in the order they are
// tried (priority, then weight among equals), each with what it resolves to
// and whether that target is blacklisted now (from the live status); add up
// to MAX_PROXIES, remove.
import { useEffect, useState } from 'preact/hooks';
import { MAX_PROXIES, type ProxyView } from '../../../src/model/gateway.ts';
import { asApiError, type ApiError } from '../api.ts';
import { dateTime, plural } from '../format.ts';
import { ErrorSummary, Fieldset, Loading, Notice, PageTitle, SubmitButton, TextField, useApp } from '../ui.tsx';
import { useGatewayStatus } from './gateway-status.ts';
import './gateway.css';

const POLL_MS = 5_000;

export function GatewayProxiesPage() {
  const { api, canWrite } = useApp();
  const [proxies, setProxies] = useState<ProxyView[] | undefined>();
  const [form, setForm] = useState({ uri: '', priority: '1', weight: '100' });
  const [err, setErr] = useState<ApiError | null>(null);
  const [message, setMessage] = useState('');
  const [busy, setBusy] = useState(false);
  const [changes, setChanges] = useState(0);
  const { status } = useGatewayStatus(api, POLL_MS, changes);
  useEffect(() => {
    api.get<{ items: ProxyView[] }>('/api/gateway/proxies').then((r) => setProxies(r.items), (e) => setErr(asApiError(e)));
  }, [changes]);

  const add = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    setErr(null);
    setMessage('');
    setBusy(true);
    try {
      const p = await api.post<ProxyView>('/api/gateway/proxies', {
        uri: form.uri.trim(), priority: Number(form.priority || 1), weight: Number(form.weight || 100),
      });
      setMessage(`Proxy ${p.uri} added.`);
      setForm({ uri: '', priority: '1', weight: '100' });
      setChanges((n) => n + 1);
    } catch (e2) {
      setErr(asApiError(e2));
    } finally {
      setBusy(false);
    }
  };
  const remove = async (p: ProxyView) => {
    if (!window.confirm(`Remove proxy ${p.uri}?`)) return;
    setErr(null);
    setMessage('');
    try {
      await api.delete(`/api/gateway/proxies/${p.id}`);
      setMessage(`Proxy ${p.uri} removed.`);
      setChanges((n) => n + 1);
    } catch (e2) {
      setErr(asApiError(e2));
    }
  };

  const live = new Map(status?.proxies.map((p) => [p.uri, p.targets]));
  const now = Date.now();
  return (
    <>
      <PageTitle>Upstream proxies</PageTitle>
      <p class="muted">Tried by priority (lowest first), shared by weight among equal priorities. Without proxies, each line's domain is resolved (DNS method in Settings).</p>
      <Notice kind="ok">{message}</Notice>
      <Notice kind="error">{err && err.issues.length === 0 ? err.message : ''}</Notice>
      {proxies === undefined ? (!err && <Loading />) : proxies.length === 0 ? <p class="muted">No proxies.</p> : (
        <div class="table-wrap">
          <table class="responsive" aria-label="Proxies">
            <thead><tr>
              <th scope="col">Priority</th><th scope="col">Weight</th><th scope="col">URI</th><th scope="col">Targets now</th>
              {canWrite && <th scope="col"><span class="sr-only">Actions</span></th>}
            </tr></thead>
            <tbody>
              {proxies.map((p) => {
                const targets = live.get(p.uri);
                return (
                  <tr key={p.id} data-proxy={p.uri}>
                    <td data-label="Priority" class="num">{p.priority}</td>
                    <td data-label="Weight" class="num">{p.weight}</td>
                    <td data-label="URI" class="mono wrap">{p.uri}</td>
                    <td data-label="Targets now">
                      {targets === undefined ? <span class="muted">—</span> : targets.length === 0 ? <span class="badge badge-warn">Not resolved</span>
                        : <span class="targets">{targets.map((t) => {
                          const black = t.blacklistedUntil !== null && t.blacklistedUntil > now;
                          return (
                            <span key={t.target} class="target">
                              <span class="mono">{t.target}</span>{' '}
                              <span class={`badge ${black ? 'badge-bad' : 'badge-ok'}`} data-blacklisted={String(black)}>
                                {black ? `Blacklisted until ${dateTime(t.blacklistedUntil)}` : 'Usable'}
                              </span>
                            </span>
                          );
                        })}</span>}
                    </td>
                    {canWrite && (
                      <td class="row-actions">
                        <button type="button" class="small danger" onClick={() => void remove(p)} aria-label={`Remove ${p.uri}`}>Remove</button>
                      </td>
                    )}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {canWrite && proxies !== undefined && (proxies.length >= MAX_PROXIES ? (
        <Notice kind="info">{plural(MAX_PROXIES, 'proxy', 'proxies')} at most: remove one to add another.</Notice>
      ) : (
        <form class="form" onSubmit={add} noValidate aria-labelledby="gp-add-h">
          <h2 id="gp-add-h">Add proxy</h2>
          <ErrorSummary err={err} idOf={(p) => `gp-${p.split('.')[0]}`} />
          <Fieldset legend="Proxy">
            <TextField id="gp-uri" label="URI" value={form.uri} onInput={(uri) => setForm({ ...form, uri })} required error={err?.field('uri')}
              placeholder="sip:proxy.example.com;transport=tls" hint="sip:HOST[:PORT][;transport=udp|tcp|tls] or sips:HOST[:PORT]" />
            <TextField id="gp-priority" label="Priority" type="number" value={form.priority} onInput={(priority) => setForm({ ...form, priority })}
              error={err?.field('priority')} hint="Lower is tried first." />
            <TextField id="gp-weight" label="Weight" type="number" value={form.weight} onInput={(weight) => setForm({ ...form, weight })}
              error={err?.field('weight')} hint="Share among proxies of equal priority." />
          </Fieldset>
          <div class="actions"><SubmitButton busy={busy} label="Add proxy" busyLabel="Adding…" /></div>
        </form>
      ))}
    </>
  );
}
