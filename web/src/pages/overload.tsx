// The overload part of System Status: the receive delay, the shares of new
// requests admitted, what was shed, the RFC 7339 reductions trunks asked of
// us and, in a cluster, each worker. It changes every 100 ms on the server,
// so it is not part of the live feed: this section asks GET /api/status
// every few seconds while the page is open.
import { useEffect, useState } from 'preact/hooks';
import type { Api } from '../api.ts';
import type { OverloadStatus, StatusSnapshot, WorkerStatus } from '../types.ts';

const POLL_MS = 5000;

function share(o: OverloadStatus, x: number): string {
  return o.enabled ? `${Math.round(x * 1000) / 10} %` : 'off';
}

function Cells({ o }: { o: OverloadStatus }) {
  return (
    <>
      <td data-label="Receive delay">{Math.round(o.receiveDelayMs)} ms</td>
      <td data-label="Admitted (with credentials)">{share(o, o.admitted)}</td>
      <td data-label="Admitted (without)">{share(o, o.admittedUnauthenticated)}</td>
      <td data-label="Refused (503)">{o.refused}</td>
      <td data-label="Dropped">{o.dropped}</td>
    </>
  );
}

const HEAD = ['Receive delay', 'Admitted (with credentials)', 'Admitted (without)', 'Refused (503)', 'Dropped'];

export function OverloadSection({ api }: { api: Api }) {
  const [data, setData] = useState<{ overload?: OverloadStatus; workers?: WorkerStatus[] } | undefined>();
  useEffect(() => {
    let stopped = false;
    const poll = () => void api.get<StatusSnapshot>('/api/status', { background: true }).then(
      (s) => !stopped && setData({ overload: s.overload, workers: s.workers }),
      () => undefined,
    );
    poll();
    const t = window.setInterval(poll, POLL_MS);
    return () => {
      stopped = true;
      window.clearInterval(t);
    };
  }, [api]);
  const o = data?.overload;
  if (!o) return null;
  const asked = o.trunks.filter((t) => t.reduction > 0 || t.shed > 0);
  return (
    <section aria-labelledby="overload-h">
      <h2 id="overload-h">Overload control</h2>
      <div class="table-wrap">
        <table class="responsive" aria-labelledby="overload-h">
          <thead><tr><th scope="col">Where</th>{HEAD.map((h) => <th scope="col" key={h}>{h}</th>)}</tr></thead>
          <tbody>
            <tr data-overload="all"><td data-label="Where">{data.workers ? 'All workers' : 'This server'}</td><Cells o={o} /></tr>
            {(data.workers ?? []).map((w) => w.overload && (
              <tr key={w.worker} data-overload={`worker-${w.worker}`}>
                <td data-label="Where">Worker {w.worker} ({w.bindings} registrations, {w.calls} calls)</td><Cells o={w.overload} />
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {asked.length > 0 && (
        <p>Trunks asking for fewer calls (RFC 7339): {asked.map((t) => `${t.trunk} ${t.reduction} % (${t.shed} not sent)`).join(', ')}</p>
      )}
    </section>
  );
}
