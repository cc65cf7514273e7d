// Provisioning → Requests: what the provisioning server answered lately,
// newest first, unknown devices and refusals included (digest challenges
// are shown but not counted as refusals) (GET
// /api/provisioning/requests, asked again every few seconds while open).
// Kept in memory by the server: empty after a restart; each device keeps
// its last request on the Devices tab.
import { useEffect, useState } from 'preact/hooks';
import { describeError } from '../api.ts';
import { dateTime, macText } from '../format.ts';
import { href } from '../router.ts';
import type { ProvisioningRequest } from '../types.ts';
import { Loading, Notice, PageTitle, useApp } from '../ui.tsx';
import { failed } from './provisioning-devices.tsx';
import './provisioning.css';

const POLL_MS = 5000;

/**
 * A digest client's first request is answered with a challenge (401) before
 * it sends credentials: part of every fetch, not a failure.
 */
const challenge = (r: ProvisioningRequest) => r.status === 401 && r.result.startsWith('challenged');
const refusedRequest = (r: ProvisioningRequest) => failed(r.status) && !challenge(r);

export function ProvisioningRequestsPage() {
  const { api } = useApp();
  const [items, setItems] = useState<ProvisioningRequest[] | undefined>();
  const [error, setError] = useState('');
  useEffect(() => {
    const load = () => api.get<{ items: ProvisioningRequest[] }>('/api/provisioning/requests', { background: true }).then((r) => {
      setItems(r.items);
      setError('');
    }, (e) => setError(describeError(e)));
    void load();
    const t = window.setInterval(() => void load(), POLL_MS);
    return () => window.clearInterval(t);
  }, [api]);
  const refused = items?.filter(refusedRequest).length ?? 0;
  return (
    <>
      <PageTitle>Provisioning requests</PageTitle>
      <Notice kind="error">{error}</Notice>
      {items === undefined ? (!error && <Loading />) : items.length === 0 ? (
        <p class="muted">No requests since the provisioning server started.</p>
      ) : (
        <section aria-labelledby="requests-h">
          <h2 id="requests-h" class="sr-only">Recent requests</h2>
          <p class="muted">{items.length} recent {items.length === 1 ? 'request' : 'requests'}, newest first{refused > 0 && <> · <span class="badge badge-bad">{refused} refused</span></>}</p>
          <div class="table-wrap">
            <table class="responsive" aria-labelledby="requests-h">
              <thead><tr>
                <th scope="col">Time</th><th scope="col">Source</th><th scope="col">Device</th><th scope="col">File</th>
                <th scope="col">Status</th><th scope="col">Result</th>
              </tr></thead>
              <tbody>
                {items.map((r, i) => (
                  <tr key={i} data-request={r.mac ?? 'unknown'} class={refusedRequest(r) ? 'error-row' : undefined}>
                    <td data-label="Time">{dateTime(r.at)}</td>
                    <td data-label="Source" class="mono">{r.source}</td>
                    <td data-label="Device" class="mono">{r.mac ? <a href={href('devices', r.mac, 'files')}>{macText(r.mac)}</a> : <span class="muted">unknown</span>}</td>
                    <td data-label="File" class="mono wrap">{r.method} {r.file}</td>
                    <td data-label="Status"><span class={`badge ${challenge(r) ? 'badge-warn' : failed(r.status) ? 'badge-bad' : 'badge-ok'}`}>{r.status}</span></td>
                    <td data-label="Result" class="wrap">{r.result}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      )}
    </>
  );
}
