// The handset gateway's live state as the pages read it (GET
// /api/gateway/status: counters, each line's registration with its failure
// reason, B-32, and each proxy's blacklist): polled in the background so a
// watched page keeps refreshing without renewing the session's idle time.
import { useEffect, useState } from 'preact/hooks';
import type { GatewayStatus, LineStatus } from '../../../src/model/gateway.ts';
import { describeError, type Api } from '../api.ts';

/** The poll runs while the page shows; `changes` asks for a read now (after an action). */
export function useGatewayStatus(api: Api, everyMs: number, changes = 0): { status: GatewayStatus | undefined; error: string } {
  const [status, setStatus] = useState<GatewayStatus | undefined>();
  const [error, setError] = useState('');
  useEffect(() => {
    let live = true;
    const load = () => api.get<GatewayStatus>('/api/gateway/status', { background: true }).then((s) => {
      if (!live) return;
      setStatus(s);
      setError('');
    }, (e) => live && setError(describeError(e)));
    void load();
    const t = window.setInterval(() => void load(), everyMs);
    return () => {
      live = false;
      window.clearInterval(t);
    };
  }, [api, everyMs, changes]);
  return { status, error };
}

const STATE_TEXT: Record<LineStatus['registration'], string> = {
  disabled: 'Disabled',
  waiting: 'Waiting',
  registering: 'Registering…',
  registered: 'Registered',
  failed: 'Failed',
};

/** A line's registration state in a word (a failed line's reason is shown beside it). */
export const registrationText = (s: LineStatus): string => STATE_TEXT[s.registration];

export const registrationBadge = (s: LineStatus): string =>
  s.registration === 'registered' ? 'badge-ok' : s.registration === 'failed' ? 'badge-bad' : 'badge-warn';
