// Provisioning at a glance on System Status: how many devices, how many
// fetched their files in the last day, how many are failing (their last
// request was refused), linking to Provisioning → Devices. Nothing shows
// while there are no devices.
import { useEffect, useState } from 'preact/hooks';
import type { Api } from '../api.ts';
import { href } from '../router.ts';
import type { Device } from '../types.ts';
import { failed } from './provisioning-devices.tsx';

const POLL_MS = 15_000;
const DAY_MS = 86_400_000;

export function ProvisioningSection({ api }: { api: Api }) {
  const [devices, setDevices] = useState<Device[] | undefined>();
  useEffect(() => {
    const load = () => api.get<{ items: Device[] }>('/api/devices', { background: true }).then((r) => setDevices(r.items), () => undefined);
    void load();
    const t = window.setInterval(() => void load(), POLL_MS);
    return () => window.clearInterval(t);
  }, [api]);
  if (!devices || devices.length === 0) return null;
  const now = Date.now();
  const fetched = devices.filter((d) => d.lastFetch && now - d.lastFetch.at < DAY_MS).length;
  const failing = devices.filter((d) => d.lastFetch && failed(d.lastFetch.status)).length;
  return (
    <section aria-labelledby="prov-h">
      <h2 id="prov-h">Provisioning</h2>
      <ul class="summary" aria-labelledby="prov-h" data-provisioning>
        <li><strong>{devices.length}</strong> {devices.length === 1 ? 'device' : 'devices'}</li>
        <li><strong>{fetched}</strong> fetched in the last day</li>
        <li class={failing > 0 ? 'has-alarms' : ''}><strong>{failing}</strong> failing</li>
        <li class="summary-link"><a href={href('devices')}>Devices</a></li>
      </ul>
    </section>
  );
}
