// What runs: version, uptime, listeners, each worker, storage and disk,
// capacity now against the limits, and the recent warnings and errors of
// every worker (refreshed every few seconds while the page is open).
import { Fragment } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { describeError } from '../api.ts';
import { dateTime, duration } from '../format.ts';
import { Loading, Notice, PageTitle, useApp } from '../ui.tsx';

interface Worker { worker: number; pid: number; calls: number; bindings: number; connections: number; forwarded: number }
interface SystemInfo {
  version: string;
  node: string;
  nodeJs: string;
  startedAt: number;
  uptimeSec: number;
  dataDir: string;
  schemaVersion: number;
  listeners: { transport: string; address: string; port: number }[];
  workers: Worker[];
  storage: { kind: 'sqlite' | 'postgresql'; location: string; sizeBytes?: number };
  disk?: { freeBytes: number; totalBytes: number };
  capacity: { users: number; registrations: number; calls: number; connections: number; limits: Record<string, number> };
}
interface LogLine { at: number; level: 'warn' | 'error'; msg: string; fields: string; worker?: number }

const POLL_MS = 5000;

export function bytes(n: number | undefined): string {
  if (n === undefined) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

const LIMIT_LABELS: Record<string, string> = {
  workers: 'Worker processes',
  sipConnectionsPerWorker: 'SIP TCP/TLS connections per worker',
  sipConnectionsPerSource: 'SIP connections per address',
  httpConnections: 'Web connections',
  openFilesPerWorker: 'Open files per worker',
  contactsPerUser: 'Registered devices per user',
  callsPerUser: 'Calls per user at once',
  relayPorts: 'Media relay ports (2 per relayed leg)',
};

const hostPort = (a: string, p: number) => (a.includes(':') ? `[${a}]:${p}` : `${a}:${p}`);

export function SystemPage() {
  const { api } = useApp();
  const [info, setInfo] = useState<SystemInfo | undefined>();
  const [log, setLog] = useState<LogLine[] | undefined>();
  const [level, setLevel] = useState<'all' | 'error'>('all');
  const [error, setError] = useState('');
  useEffect(() => {
    // Refreshes are the page's own doing: they do not renew the session (the first load does).
    const load = (background = false) => Promise.all([api.get<SystemInfo>('/api/system', { background }), api.get<{ items: LogLine[] }>('/api/system/log', { background })]).then(([i, l]) => {
      setInfo(i);
      setLog(l.items);
      setError('');
    }, (e) => setError(describeError(e)));
    void load();
    const t = window.setInterval(() => void load(true), POLL_MS);
    return () => window.clearInterval(t);
  }, [api]);
  const shown = (log ?? []).filter((l) => level === 'all' || l.level === 'error');
  return (
    <>
      <PageTitle>System</PageTitle>
      <Notice kind="error">{error}</Notice>
      {!info ? !error && <Loading /> : (
        <>
          <ul class="summary" aria-label="Overview">
            <li><strong>{info.version}</strong> version</li>
            <li><strong>{duration(info.uptimeSec)}</strong> up since {dateTime(info.startedAt)}</li>
            <li><strong>{info.capacity.users}</strong> users</li>
            <li><strong>{info.capacity.registrations}</strong> registrations</li>
            <li><strong>{info.capacity.calls}</strong> calls now</li>
          </ul>
          <section aria-labelledby="listen-h">
            <h2 id="listen-h">Listeners</h2>
            <div class="table-wrap">
              <table class="responsive" aria-labelledby="listen-h">
                <thead><tr><th scope="col">Protocol</th><th scope="col">Address</th></tr></thead>
                <tbody>{info.listeners.map((l) => (
                  <tr key={`${l.transport}${l.address}${l.port}`}><td data-label="Protocol">{l.transport.toUpperCase()}</td><td data-label="Address" class="mono">{hostPort(l.address, l.port)}</td></tr>
                ))}</tbody>
              </table>
            </div>
          </section>
          <section aria-labelledby="workers-h">
            <h2 id="workers-h">Workers</h2>
            <div class="table-wrap">
              <table class="responsive" aria-labelledby="workers-h">
                <thead><tr>
                  <th scope="col">Worker</th><th scope="col">Process</th><th scope="col">State</th><th scope="col" class="num">Calls</th>
                  <th scope="col" class="num">Connections</th><th scope="col" class="num">Handed over</th>
                </tr></thead>
                <tbody>{info.workers.map((w) => (
                  <tr key={w.worker} data-worker={w.worker}>
                    <td data-label="Worker">{w.worker}{w.worker === 1 && <span class="sub">serves this page</span>}</td>
                    <td data-label="Process" class="mono">{w.pid}</td>
                    <td data-label="State"><span class="nowrap"><span class="dot dot-on" aria-hidden="true" />answering</span></td>
                    <td data-label="Calls" class="num">{w.calls}</td>
                    <td data-label="Connections" class="num">{w.connections}</td>
                    <td data-label="Handed over" class="num">{w.forwarded}</td>
                  </tr>
                ))}</tbody>
              </table>
            </div>
            {info.workers.length < (info.capacity.limits.workers ?? 1) && (
              <Notice kind="error">{(info.capacity.limits.workers ?? 1) - info.workers.length} worker(s) did not answer.</Notice>
            )}
          </section>
          <section aria-labelledby="storage-h">
            <h2 id="storage-h">Storage</h2>
            <dl class="facts">
              <dt>Database</dt><dd>{info.storage.kind === 'sqlite' ? 'SQLite' : 'PostgreSQL'} (schema {info.schemaVersion})</dd>
              <dt>Location</dt><dd class="mono wrap">{info.storage.location}</dd>
              {info.storage.sizeBytes !== undefined && <><dt>Size</dt><dd>{bytes(info.storage.sizeBytes)}</dd></>}
              <dt>Data directory</dt><dd class="mono wrap">{info.dataDir}</dd>
              {info.disk && <><dt>Free disk</dt><dd>{bytes(info.disk.freeBytes)} of {bytes(info.disk.totalBytes)}</dd></>}
              <dt>Node</dt><dd>{info.node} · Node.js {info.nodeJs}</dd>
            </dl>
          </section>
          <section aria-labelledby="cap-h">
            <h2 id="cap-h">Capacity</h2>
            <p class="muted">No licence limits: these are the configured or derived limits of this installation.</p>
            <dl class="facts">
              <dt>SIP connections now</dt><dd>{info.capacity.connections}</dd>
              {Object.entries(info.capacity.limits).map(([k, v]) => <Fragment key={k}><dt>{LIMIT_LABELS[k] ?? k}</dt><dd>{v.toLocaleString()}</dd></Fragment>)}
            </dl>
          </section>
        </>
      )}
      <section aria-labelledby="log-h">
        <h2 id="log-h">Recent warnings and errors</h2>
        <div class="toolbar">
          <div class="field">
            <label for="log-level">Show</label>
            <select id="log-level" value={level} onChange={(e) => setLevel((e.currentTarget as HTMLSelectElement).value as 'all' | 'error')}>
              <option value="all">Warnings and errors</option>
              <option value="error">Errors only</option>
            </select>
          </div>
        </div>
        <p class="muted">The last {200} of each worker, kept in memory since the start; newest first. Secrets are never shown.</p>
        {log && (shown.length === 0 ? <p class="muted">Nothing logged.</p> : (
          <div class="table-wrap">
            <table class="responsive log" aria-labelledby="log-h">
              <thead><tr><th scope="col">When</th><th scope="col">Level</th><th scope="col">Worker</th><th scope="col">Message</th></tr></thead>
              <tbody>{shown.map((l, i) => (
                <tr key={`${l.at}-${i}`} data-level={l.level}>
                  <td data-label="When">{dateTime(l.at)}</td>
                  <td data-label="Level"><span class={`badge badge-${l.level === 'error' ? 'bad' : 'warn'}`}>{l.level === 'error' ? 'Error' : 'Warning'}</span></td>
                  <td data-label="Worker">{l.worker ?? 1}</td>
                  <td data-label="Message" class="wrap">{l.msg}{l.fields !== '{}' && <span class="sub mono">{l.fields}</span>}</td>
                </tr>
              ))}</tbody>
            </table>
          </div>
        ))}
      </section>
    </>
  );
}
