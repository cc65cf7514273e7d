// Provisioning at a glance on System status (GET /api/provisioning/summary):
// how many devices, how many fetched their files in the last day, how many
// are failing (their last request was refused), linking to Provisioning →
// Devices. Nothing shows while there are no devices.
import { useEffect, useState } from 'preact/hooks';
import type { Api } from '../api.ts';
import { href } from '../router.ts';
import type { ProvisioningSummary } from '../types.ts';
import './provisioning.css';

const POLL_MS = 15_000;

export function ProvisioningSection({ api }: { api: Api }) {
  const [s, setS] = useState<ProvisioningSummary | undefined>();
  useEffect(() => {
    const load = () => api.get<ProvisioningSummary>('/api/provisioning/summary', { background: true }).then(setS, () => undefined);
    void load();
    const t = window.setInterval(() => void load(), POLL_MS);
    return () => window.clearInterval(t);
  }, [api]);
  if (!s || s.devices === 0) return null;
  return (
    <section aria-labelledby="prov-h">
      <h2 id="prov-h">Provisioning</h2>
      <ul class="summary" aria-labelledby="prov-h" data-provisioning>
        <li><strong>{s.devices}</strong> {s.devices === 1 ? 'device' : 'devices'}</li>
        <li><strong>{s.fetchedLastDay}</strong> fetched in the last day</li>
        <li class={s.failing > 0 ? 'has-alarms' : ''}><strong>{s.failing}</strong> failing</li>
        <li class="summary-link"><a href={href('devices')}>Devices</a></li>
      </ul>
    </section>
  );
}
