// The handset gateway at a glance on System status (issue 15 item 7): the
// List Users counters and how many lines failed, linking to Gateway → Users.
// Nothing shows while Switchboard is a call server only.
import type { Api } from '../api.ts';
import { href } from '../router.ts';
import { useGatewayStatus } from './gateway-status.ts';
import './provisioning.css';

const POLL_MS = 15_000;

export function GatewaySection({ api }: { api: Api }) {
  const { status: s } = useGatewayStatus(api, POLL_MS);
  if (!s || s.mode === 'call-server') return null;
  const failed = s.lines.filter((l) => l.registration === 'failed').length;
  return (
    <section aria-labelledby="gateway-h">
      <h2 id="gateway-h">Handset gateway</h2>
      <ul class="summary" aria-labelledby="gateway-h" data-gateway>
        <li><strong>{s.counters.sipUsers}</strong> SIP users</li>
        <li><strong>{s.counters.subscribed}</strong> subscribed</li>
        <li><strong>{s.counters.registered}</strong> registered</li>
        <li><strong>{s.counters.total}</strong> total</li>
        <li class={failed > 0 ? 'has-alarms' : ''} data-counter="failed"><strong>{failed}</strong> failed</li>
        <li class="summary-link"><a href={href('gateway')}>Gateway users</a></li>
      </ul>
    </section>
  );
}
