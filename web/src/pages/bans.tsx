// The lockouts part of System Status: SIP bans and administrator login locks
// in force (GET /api/bans, asked every few seconds while the page is open),
// each liftable by a security administrator. A SIP user ban says how long
// the attack has lasted: during it only the user's usual addresses get in.
import { useEffect, useState } from 'preact/hooks';
import { query, describeError, type Api } from '../api.ts';
import { dateTime } from '../format.ts';
import type { Ban } from '../types.ts';
import { Notice } from '../ui.tsx';

const POLL_MS = 5000;

const SCOPE: Record<Ban['scope'], string> = {
  pair: 'this user from this address',
  user: 'this user from addresses it never used',
  ip: 'this address for every user',
  source: 'this address for every account',
  account: 'this account from addresses it never used',
};

function who(b: Ban): string {
  return [b.user, b.ip].filter((x) => x !== undefined).join(' from ');
}

export function BansSection({ api, canLift }: { api: Api; canLift: boolean }) {
  const [bans, setBans] = useState<Ban[] | undefined>();
  const [note, setNote] = useState<{ kind: 'ok' | 'error'; text: string } | undefined>();
  const load = () => api.get<{ items: Ban[] }>('/api/bans', { background: true }).then((r) => setBans(r.items), () => undefined);
  useEffect(() => {
    void load();
    const t = window.setInterval(() => void load(), POLL_MS);
    return () => window.clearInterval(t);
  }, [api]);
  const lift = async (b: Ban) => {
    try {
      await api.delete(`/api/bans${query({ kind: b.kind, scope: b.scope, user: b.user, ip: b.ip })}`);
      setNote({ kind: 'ok', text: `Lifted: ${b.kind === 'sip' ? 'SIP' : 'login'} ${who(b)}.` });
    } catch (err) {
      setNote({ kind: 'error', text: describeError(err) });
    }
    await load();
  };
  if (!bans) return null;
  return (
    <section aria-labelledby="bans-h">
      <h2 id="bans-h">Lockouts</h2>
      <Notice kind={note?.kind ?? 'ok'}>{note?.text}</Notice>
      {bans.length === 0 ? <p class="muted">No lockouts in force.</p> : (
        <div class="table-wrap">
          <table class="responsive" aria-labelledby="bans-h">
            <thead><tr>
              <th scope="col">What</th><th scope="col">Who</th><th scope="col">Locks out</th><th scope="col">Ends</th>
              <th scope="col">Attack</th>{canLift && <th scope="col"><span class="sr-only">Action</span></th>}
            </tr></thead>
            <tbody>
              {bans.map((b) => (
                <tr key={`${b.kind}:${b.scope}:${b.user ?? ''}:${b.ip ?? ''}`} data-ban={`${b.kind}:${b.scope}`}>
                  <td data-label="What">{b.kind === 'sip' ? 'SIP' : 'Login'} {b.effect === 'slowed' ? '(slowed down)' : ''}</td>
                  <td data-label="Who">{who(b)}</td>
                  <td data-label="Locks out">{SCOPE[b.scope]}{b.workers ? ` (workers ${b.workers.join(', ')})` : ''}</td>
                  <td data-label="Ends">{dateTime(b.until)}</td>
                  <td data-label="Attack">{b.attackSince ? `since ${dateTime(b.attackSince)}, renewed ${b.renewals ?? 0}×` : '—'}</td>
                  {canLift && (
                    <td data-label="Action">
                      <button type="button" class="small danger" onClick={() => void lift(b)} aria-label={`Lift ${b.kind} ${b.scope} lockout of ${who(b)}`}>Lift</button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
