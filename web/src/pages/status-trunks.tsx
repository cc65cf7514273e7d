// The trunks at the top of System Status: each one's state from its OPTIONS
// probes and registration (up, down, registering, registered, refused), why,
// since when and the last round trip, live from the feed. Trunks in trouble
// come first: they are why an operator opens this page.
import { dateTime } from '../format.ts';
import type { TrunkStatus } from '../types.ts';

const STATE_TEXT: Record<string, string> = {
  unknown: 'Checking',
  up: 'Up',
  down: 'Down',
  registering: 'Registering',
  registered: 'Registered',
  refused: 'Registration refused',
};

/** Badge classes of styles.css: red for trouble, amber for on the way, green for working. */
const STATE_CLASS: Record<string, string> = {
  unknown: 'state state-off',
  up: 'state state-idle',
  down: 'sev sev-major',
  registering: 'state state-ringing',
  registered: 'state state-idle',
  refused: 'sev sev-major',
};

const TROUBLE = new Set(['down', 'refused']);

function detail(t: TrunkStatus): string {
  // 401/403 after our digest answer: the trunk does not take the credentials.
  if (t.state === 'refused' && (t.lastStatus === 401 || t.lastStatus === 403)) return `${t.reason}: check the trunk's register user and password`;
  if (t.reason) return t.reason;
  if (t.state === 'registered' && t.expiresAt) return `registered until ${dateTime(t.expiresAt)}`;
  if (t.probeStatus) return `answers OPTIONS (${t.probeStatus})`;
  return '—';
}

export function TrunksSection({ trunks }: { trunks: TrunkStatus[] }) {
  if (trunks.length === 0) return null;
  const sorted = [...trunks].sort((a, b) => Number(TROUBLE.has(b.state)) - Number(TROUBLE.has(a.state)) || (a.trunk < b.trunk ? -1 : 1));
  const trouble = sorted.filter((t) => TROUBLE.has(t.state)).length;
  return (
    <section aria-labelledby="trunks-h" class="trunks">
      <h2 id="trunks-h">Trunks</h2>
      <p class={trouble > 0 ? 'notice notice-error' : 'muted'} role={trouble > 0 ? 'alert' : undefined}>
        {trouble > 0
          ? `${trouble} of ${trunks.length} ${trunks.length === 1 ? 'trunk' : 'trunks'} not working: calls to a trunk that is down are refused at once.`
          : `${trunks.length === 1 ? 'The trunk is' : `All ${trunks.length} trunks are`} working or being checked.`}
      </p>
      <div class="table-wrap">
        <table class="responsive" aria-labelledby="trunks-h">
          <thead>
            <tr><th scope="col">Trunk</th><th scope="col">State</th><th scope="col">Since</th><th scope="col">Round trip</th>
              <th scope="col">Detail</th></tr>
          </thead>
          <tbody>
            {sorted.map((t) => (
              <tr key={t.trunk} data-trunk={t.trunk} data-state={t.state} class={TROUBLE.has(t.state) ? 'error-row' : undefined}>
                <td data-label="Trunk">{t.trunk}</td>
                <td data-label="State"><span class={STATE_CLASS[t.state] ?? 'state state-off'}>{STATE_TEXT[t.state] ?? t.state}</span></td>
                <td data-label="Since">{dateTime(t.since)}</td>
                <td data-label="Round trip" class="num">{t.rttMs === null || t.reachable === 'down' ? '—' : `${Math.round(t.rttMs)} ms`}</td>
                <td data-label="Detail" class="wrap">{detail(t)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
