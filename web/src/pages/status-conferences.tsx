// Conferences in progress on System Status: every open room with its
// participants (GET /api/status/conferences, which asks every worker's media
// server). Asked again every few seconds and soon after the live feed reports
// a call change: a participant joins a room some seconds after its call is
// answered (the PIN, the announcement), so the feed alone would miss it.
import { useEffect, useRef, useState } from 'preact/hooks';
import { describeError, type Api } from '../api.ts';
import { href } from '../router.ts';
import type { ActiveConference } from '../types.ts';
import { Notice } from '../ui.tsx';

const POLL_MS = 3000;

/** "8200", or the ad-hoc room of a handset ("adhoc-1001-3" → ad-hoc of 1001). */
export function roomText(c: Pick<ActiveConference, 'room' | 'adhoc'>): string {
  return c.adhoc ? `Ad-hoc conference of ${c.room.split('-')[1] ?? '?'}` : `Room ${c.room}`;
}

export function ConferencesSection({ api, changes }: { api: Api; changes: number }) {
  const [rooms, setRooms] = useState<ActiveConference[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const t = window.setInterval(() => setTick((n) => n + 1), POLL_MS);
    return () => window.clearInterval(t);
  }, []);
  const burst = useRef<number | undefined>(undefined);
  useEffect(() => {
    if (burst.current !== undefined) return;
    burst.current = window.setTimeout(() => {
      burst.current = undefined;
      setTick((n) => n + 1);
    }, 1000);
  }, [changes]);
  useEffect(() => () => window.clearTimeout(burst.current), []);
  useEffect(() => {
    let stale = false;
    api.get<{ items: ActiveConference[] }>('/api/status/conferences', { background: true }).then(
      (r) => { if (!stale) { setRooms(r.items); setError(null); } },
      (e) => { if (!stale) setError(describeError(e)); },
    );
    return () => { stale = true; };
  }, [api, tick]);
  const cluster = rooms?.some((r) => r.worker !== null) ?? false;
  return (
    <section aria-labelledby="conf-h">
      <h2 id="conf-h">Conferences</h2>
      <Notice kind="error">{error}</Notice>
      {rooms === null ? null : rooms.length === 0 ? <p class="muted">No conference in progress.</p> : (
        <div class="table-wrap">
          <table class="responsive" aria-labelledby="conf-h">
            <thead><tr><th scope="col">Room</th><th scope="col">Participants</th>{cluster && <th scope="col">Worker</th>}</tr></thead>
            <tbody>
              {rooms.map((r) => (
                <tr key={`${r.room}@${r.worker ?? 0}`} data-room={r.room}>
                  <td data-label="Room">{r.adhoc ? roomText(r) : <a href={href('conference-rooms', r.room)}>{roomText(r)}</a>}</td>
                  <td data-label="Participants" class="num">{r.participants}</td>
                  {cluster && <td data-label="Worker" class="num">{r.worker ?? '—'}</td>}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
