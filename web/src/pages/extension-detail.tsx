// One extension, for the administrator asking "why does this phone not
// work?" (issue 12 item 1): each registered contact with its reachability,
// the last registration failures in plain words, last seen, media stream,
// forwarding and do not disturb, message waiting (SPEC status view: Message
// Waiting, Number of New Messages), current and recent calls. Read from
// GET /api/users/:ext/detail every few seconds while the page is open, so a
// refused REGISTER or a phone that stopped answering shows within seconds.
import { useEffect, useState } from 'preact/hooks';
import { describeError } from '../api.ts';
import { ago, dateTime, duration } from '../format.ts';
import { href } from '../router.ts';
import type { ExtensionDetail, RegistrationFailure } from '../../../src/model/extension-detail.ts';
import { Loading, Notice, PageTitle, useApp } from '../ui.tsx';
import { MessageWaiting } from './voicemail.tsx';
import './extensions.css';

const POLL_MS = 2000;

const REACH_TEXT = { reachable: 'Reachable', unreachable: 'Unreachable', unknown: 'Not probed' } as const;

function where(address: string, port: number): string {
  const host = address.includes(':') ? `[${address}]` : address;
  return port ? `${host}:${port}` : host;
}

function FailureRow({ f, now }: { f: RegistrationFailure; now: number }) {
  return (
    <tr>
      <td data-label="When"><span>{dateTime(f.at)} <span class="muted">({ago(f.at, now)})</span></span></td>
      <td data-label="Reason" class="wrap"><strong>{f.text}</strong></td>
      <td data-label="From" class="mono">{f.transport.toUpperCase()} {where(f.address, f.port)}</td>
      <td data-label="Request">{f.method}</td>
      <td data-label="User agent" class="wrap">{f.userAgent ?? '—'}</td>
    </tr>
  );
}

function Failures({ list, now, label }: { list: RegistrationFailure[]; now: number; label: string }) {
  return (
    <div class="table-wrap">
      <table class="responsive" aria-label={label}>
        <thead><tr><th scope="col">When</th><th scope="col">Reason</th><th scope="col">From</th><th scope="col">Request</th><th scope="col">User agent</th></tr></thead>
        <tbody>{list.map((f) => <FailureRow key={`${f.at}-${f.address}-${f.port}-${f.reason}`} f={f} now={now} />)}</tbody>
      </table>
    </div>
  );
}

function Contacts({ d, now }: { d: ExtensionDetail; now: number }) {
  if (d.contacts.length === 0) return <p class="muted">No phone is registered.</p>;
  return (
    <div class="table-wrap">
      <table class="responsive" aria-labelledby="contacts-h">
        <thead>
          <tr><th scope="col">Address</th><th scope="col">Transport</th><th scope="col">User agent</th><th scope="col">Reachability</th>
            <th scope="col">Last REGISTER</th><th scope="col">Expires</th></tr>
        </thead>
        <tbody>
          {d.contacts.map((c) => {
            const r = c.reachability;
            return (
              <tr key={c.contact} data-contact={c.contact}>
                <td data-label="Address" class="mono">{where(c.address, c.port)}</td>
                <td data-label="Transport">{c.transport.toUpperCase()}</td>
                <td data-label="User agent" class="wrap">{c.userAgent ?? '—'}</td>
                <td data-label="Reachability"><div>
                  <span class={`state state-${r.state}`} data-reach={r.state}>{REACH_TEXT[r.state]}</span>
                  {r.lastProbeAt !== null && (
                    <div class="muted fine">
                      {r.rttMs !== null ? `${r.rttMs} ms, ` : ''}probed {ago(r.lastProbeAt, now)}
                      {r.state === 'unreachable' && r.since !== null ? `; since ${dateTime(r.since)}` : ''}
                    </div>
                  )}
                  {r.state === 'unknown' && c.transport !== 'udp' && <div class="muted fine">its connection shows it</div>}
                </div></td>
                <td data-label="Last REGISTER">{dateTime(c.registeredAt)}</td>
                <td data-label="Expires"><span>{dateTime(c.expiresAt)} <span class="muted">(in {duration(Math.max(0, (c.expiresAt - now) / 1000))})</span></span></td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function Forwarding({ f }: { f: ExtensionDetail['features'] }) {
  const rows: Array<[string, string | null]> = [
    ['Always', f.forwardUnconditional], ['When busy', f.forwardBusy], ['No answer', f.forwardNoAnswer], ['Follow me', f.followMe],
  ];
  const on = rows.filter(([, v]) => v !== null);
  return (
    <>
      <dt>Do not disturb</dt><dd>{f.dnd ? <strong>On</strong> : 'Off'}</dd>
      <dt>Forwarding</dt>
      <dd>{on.length === 0 ? 'Off' : on.map(([k, v]) => <div key={k}>{k} → {v}</div>)}</dd>
    </>
  );
}

/** The headline: registered and reachable, or why not. */
function verdict(d: ExtensionDetail): { kind: 'ok' | 'bad' | 'warn'; text: string } {
  if (!d.enabled) return { kind: 'bad', text: 'Account disabled: its phones cannot register.' };
  if (d.registered) {
    const unreachable = d.contacts.filter((c) => c.reachability.state === 'unreachable').length;
    if (unreachable === d.contacts.length) return { kind: 'bad', text: 'Registered, but its phone does not answer (unreachable).' };
    if (unreachable > 0) return { kind: 'warn', text: `Registered; ${unreachable} of ${d.contacts.length} phones do not answer.` };
    return { kind: 'ok', text: `Registered (${d.contacts.length === 1 ? 'one phone' : `${d.contacts.length} phones`}).` };
  }
  if (d.lastFailure && (!d.lastSeen || d.lastFailure.at >= d.lastSeen.at)) return { kind: 'bad', text: `Not registered: ${d.lastFailure.text}.` };
  return { kind: 'warn', text: 'Not registered: no attempt seen since the server started.' };
}

export function ExtensionDetailPage({ extension }: { extension: string }) {
  const { api } = useApp();
  const [d, setD] = useState<ExtensionDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    let stop = false;
    // Its refreshes are the page's own doing, not the administrator's (they do not renew the session).
    const load = (background = false) => api.get<ExtensionDetail>(`/api/users/${encodeURIComponent(extension)}/detail`, { background }).then(
      (x) => { if (!stop) { setD(x); setError(null); setNow(Date.now()); } },
      (e) => { if (!stop) setError(describeError(e)); },
    );
    void load();
    const t = window.setInterval(() => void load(true), POLL_MS);
    return () => {
      stop = true;
      window.clearInterval(t);
    };
  }, [api, extension]);

  const v = d && verdict(d);
  return (
    <>
      <p class="crumbs"><a href={href('users')}>Users</a> / <a href={href('status')}>System status</a></p>
      <div class="page-head">
        <PageTitle>Extension {extension}{d?.name ? ` — ${d.name}` : ''}</PageTitle>
        <a class="button" href={href('users', extension)}>Edit user</a>
      </div>
      <Notice kind="error">{error}</Notice>
      {d === null ? (error ? null : <Loading />) : (
        <div class="ext-detail">
          <p class={`verdict verdict-${v!.kind}`} role="status" data-verdict={v!.kind}>{v!.text}</p>

          <section aria-labelledby="contacts-h">
            <h2 id="contacts-h">Registration</h2>
            <Contacts d={d} now={now} />
          </section>

          <section aria-labelledby="failure-h">
            <h2 id="failure-h">Last failure</h2>
            {d.lastFailure === null ? <p class="muted">No refused registration since the server started.</p> : (
              <div class="last-failure" data-reason={d.lastFailure.reason}>
                <p><strong>{d.lastFailure.text}</strong></p>
                <p class="muted">{dateTime(d.lastFailure.at)} ({ago(d.lastFailure.at, now)}) · {d.lastFailure.method} from {d.lastFailure.transport.toUpperCase()} {where(d.lastFailure.address, d.lastFailure.port)}{d.lastFailure.userAgent ? ` · ${d.lastFailure.userAgent}` : ''}</p>
              </div>
            )}
            {d.recentFailures.length > 1 && (
              <details>
                <summary>Recent failures ({d.recentFailures.length})</summary>
                <Failures list={d.recentFailures} now={now} label="Recent failures" />
              </details>
            )}
            {d.tlsFailures.length > 0 && (
              <>
                <h3>TLS handshakes that failed from its addresses</h3>
                <Failures list={d.tlsFailures} now={now} label="Failed TLS handshakes" />
              </>
            )}
          </section>

          <section aria-labelledby="facts-h">
            <h2 id="facts-h">Now</h2>
            <dl class="facts">
              <dt>Last seen</dt>
              <dd>{d.lastSeen ? <>{dateTime(d.lastSeen.at)} <span class="muted">({ago(d.lastSeen.at, now)}, {d.lastSeen.method} from {d.lastSeen.transport.toUpperCase()} {where(d.lastSeen.address, d.lastSeen.port)})</span></> : 'Not since the server started'}</dd>
              <dt>Call state</dt><dd>{d.state === 'connected' ? 'In call' : d.state === 'ringing' ? 'Ringing' : 'Idle'}</dd>
              <dt>Media stream</dt><dd>{d.mediaStream}</dd>
              <Forwarding f={d.features} />
              <dt>Message waiting</dt>
              <dd data-mwi={d.voicemail.new > 0 ? 'on' : 'off'}>{d.voicemail.new > 0 ? 'On' : 'Off'}{d.voicemail.enabled ? '' : ' (the mailbox is off)'}</dd>
              <dt>Number of new messages</dt>
              <dd><MessageWaiting count={d.voicemail.new} />{' '}
                <span class="muted">({d.voicemail.saved} saved · <a href={href('voicemail', extension)}>mailbox</a>)</span></dd>
            </dl>
          </section>

          <section aria-labelledby="calls-now-h">
            <h2 id="calls-now-h">Current calls</h2>
            {d.calls.length === 0 ? <p class="muted">None.</p> : (
              <ul class="plain">
                {d.calls.map((c) => <li key={c.ref}><span class="mono">{c.ref}</span> {c.caller} → {c.callee} · {c.state} · {duration(c.durationSec)} · {c.connectionType}</li>)}
              </ul>
            )}
          </section>

          <section aria-labelledby="recent-h">
            <h2 id="recent-h">Recent calls</h2>
            {d.recentCalls.length === 0 ? <p class="muted">No recorded calls.</p> : (
              <div class="table-wrap">
                <table class="responsive" aria-labelledby="recent-h">
                  <thead><tr><th scope="col">Started</th><th scope="col">Direction</th><th scope="col">From</th><th scope="col">To</th><th scope="col">Result</th><th scope="col">Duration</th></tr></thead>
                  <tbody>
                    {d.recentCalls.map((c) => (
                      <tr key={c.callRef}>
                        <td data-label="Started">{dateTime(c.startedAt)}</td>
                        <td data-label="Direction">{c.direction}</td>
                        <td data-label="From">{c.caller}</td>
                        <td data-label="To">{c.callee}</td>
                        <td data-label="Result">{c.disposition} ({c.status})</td>
                        <td data-label="Duration" class="num">{c.answeredAt === null ? '—' : duration((c.endedAt - c.answeredAt) / 1000)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
        </div>
      )}
    </>
  );
}
