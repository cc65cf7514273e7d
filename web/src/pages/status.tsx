// System Status, live over the WebSocket: alarms, active calls (parties,
// duration, codec, connection type), calls waiting in park slots and
// trunk registrations; conferences in progress (status-conferences.tsx).
// A call the media server answered names its application ("1001 (voicemail)",
// "IVR 8100", "conference 8200"). Nothing here reloads: every row changes as the feed
// reports it; the overload section (overload.tsx) and the list of every
// extension with its state (extension-list.tsx) ask for themselves.
import { useEffect, useState } from 'preact/hooks';
import { dateTime, duration, party } from '../format.ts';
import { useLiveStatus, type Connection } from '../live.ts';
import type { Alarm, CallStatus, ParkedCall } from '../types.ts';
import { PageTitle, useApp } from '../ui.tsx';
import { OverloadSection } from './overload.tsx';
import { ExtensionListSection } from './extension-list.tsx';
import { BansSection } from './bans.tsx';
import { TrunksSection } from './status-trunks.tsx';
import { ConferencesSection } from './status-conferences.tsx';
import { ProvisioningSection } from './status-provisioning.tsx';
import { GatewaySection } from './status-gateway.tsx';

const SEVERITY_ORDER = ['critical', 'major', 'minor', 'warning'];

const CONNECTION_TEXT: Record<Connection, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Connection lost, reconnecting…',
  stopped: 'Disconnected',
};

function stateText(s: string): string {
  return s === 'connected' ? 'In call' : s === 'ringing' ? 'Ringing' : s === 'idle' ? 'Idle' : s.charAt(0).toUpperCase() + s.slice(1);
}

function AlarmsTable({ alarms }: { alarms: Alarm[] }) {
  if (alarms.length === 0) return <p class="muted">No active alarms.</p>;
  return (
    <div class="table-wrap">
      <table class="responsive" aria-labelledby="alarms-h">
        <thead>
          <tr><th scope="col">Severity</th><th scope="col">Alarm</th><th scope="col">Source</th><th scope="col">Since</th>
            <th scope="col">Latest</th><th scope="col">Count</th></tr>
        </thead>
        <tbody>
          {alarms.map((a) => (
            <tr key={a.id}>
              <td data-label="Severity"><span class={`sev sev-${a.severity}`}>{a.severity}</span></td>
              <td data-label="Alarm" class="wrap">{a.text}</td>
              <td data-label="Source">{a.source ?? '—'}</td>
              <td data-label="Since">{dateTime(a.since)}</td>
              <td data-label="Latest">{dateTime(a.lastAt)}</td>
              <td data-label="Count" class="num">{a.count}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** What the media server's applications are called in the list; the number is what the caller reached. */
function appCallee(app: string, callee: string): string {
  switch (app) {
    case 'voicemail': return callee === 'voicemail' ? 'voicemail login' : `${callee} (voicemail)`;
    case 'ivr': return `IVR ${callee}`;
    case 'conference': return callee === 'conference' ? 'ad-hoc conference' : `conference ${callee}`;
    case 'moh': return 'music on hold';
    default: return `${callee} (${app})`;
  }
}

/** The called party: the number dialled, the extension it reached with its name, the trunk used, or the application that answered. */
function called(c: CallStatus, names: Map<string, string>): string {
  if (c.app) return appCallee(c.app, c.callee);
  const ext = c.calleeExtension;
  const name = ext ? names.get(ext) : undefined;
  const who = ext ? party(name ?? '', ext) : c.callee;
  return `${ext && ext !== c.callee ? `${c.callee} → ` : ''}${who}${c.trunk ? ` via ${c.trunk}` : ''}`;
}

function CallsTable({ calls, now, names }: { calls: CallStatus[]; now: number; names: Map<string, string> }) {
  if (calls.length === 0) return <p class="muted">No active calls.</p>;
  return (
    <div class="table-wrap">
      <table class="responsive" aria-labelledby="calls-h">
        <thead>
          <tr><th scope="col">Call</th><th scope="col">State</th><th scope="col">Caller</th><th scope="col">Called</th>
            <th scope="col">Duration</th><th scope="col">Codec</th><th scope="col">Connection type</th><th scope="col">Direction</th></tr>
        </thead>
        <tbody>
          {calls.map((c) => (
            <tr key={c.ref} data-call={c.ref}>
              <td data-label="Call" class="mono">{c.ref}</td>
              <td data-label="State">{stateText(c.state)}{c.held ? ' (held)' : ''}</td>
              <td data-label="Caller">{party(c.callerName, c.caller)}</td>
              <td data-label="Called">{called(c, names)}</td>
              <td data-label="Duration" class="num">{duration((now - (c.answeredAt ?? c.startedAt)) / 1000)}</td>
              <td data-label="Codec">{c.codec ?? '—'}</td>
              <td data-label="Connection type">{c.connectionType || '—'}</td>
              <td data-label="Direction">{c.direction.charAt(0).toUpperCase() + c.direction.slice(1)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Calls waiting in park slots (*37*S# parks, *38*S# takes one), with how long each has waited. */
function ParkedTable({ parked, now, names }: { parked: ParkedCall[]; now: number; names: Map<string, string> }) {
  if (parked.length === 0) return <p class="muted">No parked calls.</p>;
  return (
    <div class="table-wrap">
      <table class="responsive" aria-labelledby="parked-h">
        <thead>
          <tr><th scope="col">Slot</th><th scope="col">Parked party</th><th scope="col">Parked by</th><th scope="col">Since</th>
            <th scope="col">Waiting</th></tr>
        </thead>
        <tbody>
          {parked.map((p) => (
            <tr key={p.slot} data-slot={p.slot}>
              <td data-label="Slot" class="mono">{p.slot}</td>
              <td data-label="Parked party">{party(p.party.name, p.party.number) || '—'}</td>
              <td data-label="Parked by">{p.parkedBy ? party(names.get(p.parkedBy) ?? '', p.parkedBy) : '—'}</td>
              <td data-label="Since">{dateTime(p.since)}</td>
              <td data-label="Waiting" class="num">{duration((now - p.since) / 1000)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function StatusPage() {
  const { api, canSecurity } = useApp();
  // A closed session lands on the login page through the API's own 401 handling.
  const live = useLiveStatus(api, () => void api.get('/api/session', { background: true }).catch(() => undefined));
  const [now, setNow] = useState(Date.now());
  const hasCalls = live.calls.size > 0 || live.parked.length > 0;
  useEffect(() => {
    if (!hasCalls) return;
    const t = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(t);
  }, [hasCalls]);

  const serverNow = now + live.clockOffsetMs;
  const alarms = [...live.alarms.values()].sort((a, b) =>
    SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity) || b.lastAt - a.lastAt);
  const calls = [...live.calls.values()].sort((a, b) => a.startedAt - b.startedAt);
  const allExt = [...live.extensions.values()];
  const registered = allExt.filter((e) => e.registered).length;
  const names = new Map(allExt.filter((e) => e.name).map((e) => [e.extension, e.name]));

  return (
    <>
      <div class="page-head">
        <PageTitle>System status</PageTitle>
        <p class={`conn conn-${live.connection}`} role="status" aria-live="polite">
          <span class="dot" aria-hidden="true" /> {CONNECTION_TEXT[live.connection]}
          {live.connection === 'stopped' && <button type="button" onClick={live.retry}>Reconnect</button>}
        </p>
      </div>
      <ul class="summary" aria-label="Summary">
        <li><strong>{registered}</strong> registered {registered === 1 ? 'extension' : 'extensions'}</li>
        <li><strong>{calls.length}</strong> active {calls.length === 1 ? 'call' : 'calls'}</li>
        <li><strong>{live.parked.length}</strong> parked {live.parked.length === 1 ? 'call' : 'calls'}</li>
        <li class={alarms.length > 0 ? 'has-alarms' : ''}><strong>{alarms.length}</strong> {alarms.length === 1 ? 'alarm' : 'alarms'}</li>
      </ul>

      <TrunksSection trunks={live.trunks} />

      <ProvisioningSection api={api} />

      <GatewaySection api={api} />

      <section aria-labelledby="alarms-h">
        <h2 id="alarms-h">Alarms</h2>
        <AlarmsTable alarms={alarms} />
      </section>

      <section aria-labelledby="calls-h">
        <h2 id="calls-h">Active calls</h2>
        <CallsTable calls={calls} now={serverNow} names={names} />
      </section>

      <section aria-labelledby="parked-h">
        <h2 id="parked-h">Parked calls</h2>
        <ParkedTable parked={live.parked} now={serverNow} names={names} />
      </section>

      <ConferencesSection api={api} changes={live.version} />

      <ExtensionListSection api={api} changes={live.version} />

      <OverloadSection api={api} />

      <BansSection api={api} canLift={canSecurity} />
    </>
  );
}
