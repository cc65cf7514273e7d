// Hunt groups: a number that rings its members by a strategy. The list shows
// each member's logged-in state (members log in and out by short code, or an
// administrator does it here); the editor keeps the members in hunting order.
// Rules and defaults are the hunt group model's (src/model/hunt-group.ts).
import { useState } from 'preact/hooks';
import {
  HUNT_MEMBERS_MAX, HUNT_NO_ANSWER_SEC_DEFAULT, HUNT_NO_ANSWER_SEC_RANGE, HUNT_STRATEGIES,
} from '../../../src/model/hunt-group.ts';
import { asApiError, type ApiError } from '../api.ts';
import { ResourceHead, useResourcePage } from '../resource-page.tsx';
import { href } from '../router.ts';
import type { HuntGroup, HuntStrategy } from '../types.ts';
import { ErrorSummary, Fieldset, FormEnd, Loading, RequiredNote, SelectField, TextField, useApp } from '../ui.tsx';

const STRATEGY_TEXT: Record<HuntStrategy, string> = {
  sequential: 'Sequential (in list order)',
  rotary: 'Rotary (after the last one rung)',
  'ring-all': 'Ring all at once',
  'longest-idle': 'Longest idle first',
};
const STRATEGIES = HUNT_STRATEGIES.map((s) => ({ value: s, label: STRATEGY_TEXT[s] }));

const groupPath = (n: string) => `/api/hunt-groups/${encodeURIComponent(n)}`;

interface Form { number: string; name: string; strategy: HuntStrategy; members: string[]; noAnswerSec: string; overflow: string }

function formOf(g: HuntGroup | null): Form {
  return {
    number: g?.number ?? '', name: g?.name ?? '', strategy: g?.strategy ?? 'sequential', members: g?.members.map((m) => m.extension) ?? [],
    noAnswerSec: String(g?.noAnswerSec ?? HUNT_NO_ANSWER_SEC_DEFAULT), overflow: g?.overflow ?? '',
  };
}

/** The ordered member list: add by extension, move up and down, remove; every control a labelled button. */
function MemberList(p: { members: string[]; states: Map<string, boolean>; disabled: boolean; error?: string; onChange: (m: string[]) => void }) {
  const [adding, setAdding] = useState('');
  const move = (i: number, by: number) => {
    const next = [...p.members];
    const [m] = next.splice(i, 1);
    next.splice(i + by, 0, m!);
    p.onChange(next);
  };
  const add = () => {
    const ext = adding.trim();
    if (ext === '' || p.members.includes(ext)) return;
    p.onChange([...p.members, ext]);
    setAdding('');
  };
  return (
    <div class={`members${p.error ? ' has-error' : ''}`}>
      <p class="label-like" id="hg-members-label">Members in hunting order</p>
      {p.members.length === 0 ? <p class="muted">No members yet.</p> : (
        <ol class="member-list" aria-labelledby="hg-members-label">
          {p.members.map((m, i) => (
            <li key={m}>
              <span class="mono">{m}</span>{' '}
              {p.states.has(m) && <span class="sub">{p.states.get(m) ? 'logged in' : 'logged out'}</span>}
              {!p.disabled && (
                <span class="member-actions">
                  <button type="button" class="small" disabled={i === 0} onClick={() => move(i, -1)} aria-label={`Move ${m} up`}>Up</button>
                  <button type="button" class="small" disabled={i === p.members.length - 1} onClick={() => move(i, 1)} aria-label={`Move ${m} down`}>Down</button>
                  <button type="button" class="small danger" onClick={() => p.onChange(p.members.filter((x) => x !== m))} aria-label={`Remove member ${m}`}>Remove</button>
                </span>
              )}
            </li>
          ))}
        </ol>
      )}
      {p.error && <span class="field-error" id="hg-members-error" role="alert">{p.error}</span>}
      {!p.disabled && (
        <div class="inline-form">
          <TextField id="hg-add-member" label="Add member (extension)" value={adding} onInput={setAdding}
            hint={`Up to ${HUNT_MEMBERS_MAX}; a new member starts logged in.`} />
          <div class="field"><span class="label-like" aria-hidden="true">&nbsp;</span>
            <button type="button" onClick={add} disabled={adding.trim() === ''}>Add member</button></div>
        </div>
      )}
    </div>
  );
}

function GroupEditor({ group, onDone }: { group: HuntGroup | null; onDone: (msg: string) => void }) {
  const { api, canWrite } = useApp();
  const [f, setF] = useState(formOf(group));
  const [err, setErr] = useState<ApiError | null>(null);
  const set = <K extends keyof Form>(k: K) => (v: Form[K]) => setF((x) => ({ ...x, [k]: v }));
  const ro = !canWrite;
  const states = new Map(group?.members.map((m) => [m.extension, m.loggedIn]) ?? []);
  const submit = async (e: Event) => {
    e.preventDefault();
    setErr(null);
    const body = {
      number: f.number.trim(), name: f.name.trim(), strategy: f.strategy, members: f.members,
      noAnswerSec: Number(f.noAnswerSec || HUNT_NO_ANSWER_SEC_DEFAULT), overflow: f.overflow.trim() || null,
    };
    try {
      if (group) await api.patch(groupPath(group.number), body);
      else await api.post('/api/hunt-groups', body);
      onDone(`Hunt group ${body.number} saved.`);
    } catch (e2) {
      setErr(asApiError(e2));
    }
  };
  const members = err?.field('members') ?? err?.issues.filter((i) => i.path.startsWith('members.')).map((i) => i.message).join('; ');
  return (
    <form class="form" onSubmit={submit} noValidate aria-labelledby="hg-form-h">
      <h2 id="hg-form-h">{group ? `Hunt group ${group.number} — ${group.name}` : 'Add hunt group'}</h2>
      <ErrorSummary err={err} idOf={(p) => (p.startsWith('members') ? 'hg-add-member' : `hg-${p.split('.')[0]}`)} />
      {!ro && <RequiredNote />}
      <Fieldset legend="Group">
        <TextField id="hg-number" label="Number" value={f.number} onInput={set('number')} required disabled={ro} error={err?.field('number')}
          hint="Dialled to reach the group; no user extension." />
        <TextField id="hg-name" label="Name" value={f.name} onInput={set('name')} required disabled={ro} error={err?.field('name')} />
        <SelectField id="hg-strategy" label="Strategy" value={f.strategy} options={STRATEGIES} onChange={set('strategy')} disabled={ro}
          error={err?.field('strategy')} />
        <TextField id="hg-noAnswerSec" label="No answer after (s)" type="number" value={f.noAnswerSec} onInput={set('noAnswerSec')} disabled={ro}
          error={err?.field('noAnswerSec')} hint={`${HUNT_NO_ANSWER_SEC_RANGE[0]}-${HUNT_NO_ANSWER_SEC_RANGE[1]}: how long each member rings (ring all: all of them).`} />
        <TextField id="hg-overflow" label="Overflow to" value={f.overflow} onInput={set('overflow')} disabled={ro} error={err?.field('overflow')}
          hint="Group, extension or number for unanswered calls; blank: the caller hears busy." />
      </Fieldset>
      <fieldset>
        <legend>Members</legend>
        <MemberList members={f.members} states={states} disabled={ro} error={members || undefined} onChange={set('members')} />
      </fieldset>
      <FormEnd err={err} save={group ? 'Save hunt group' : 'Add hunt group'} cancelHref={href('hunt-groups')} />
    </form>
  );
}

/** A member with its state and, for administrators, the button that logs it in or out. */
function Member({ g, m, canWrite, onToggle }: {
  g: HuntGroup; m: HuntGroup['members'][number]; canWrite: boolean; onToggle: (g: HuntGroup, ext: string, loggedIn: boolean) => void;
}) {
  return (
    <li class="member" data-member={m.extension}>
      <span class={`dot ${m.loggedIn ? 'dot-on' : 'dot-off'}`} aria-hidden="true" />
      <span class="mono">{m.extension}</span> <span class="muted">{m.loggedIn ? 'logged in' : 'logged out'}</span>
      {canWrite && (
        <button type="button" class="small" onClick={() => onToggle(g, m.extension, !m.loggedIn)}
          aria-label={`${m.loggedIn ? 'Log out' : 'Log in'} ${m.extension} ${m.loggedIn ? 'from' : 'to'} group ${g.number}`}>
          {m.loggedIn ? 'Log out' : 'Log in'}
        </button>
      )}
    </li>
  );
}

export function HuntGroupsPage({ edit }: { edit: string | undefined }) {
  const { api, canWrite } = useApp();
  const page = useResourcePage<HuntGroup>('/api/hunt-groups', 'hunt-groups');
  const { items: groups, error, message, done } = page;
  const remove = (g: HuntGroup) => {
    if (!window.confirm(`Remove hunt group ${g.number} (${g.name})?`)) return;
    void page.act(() => api.delete(groupPath(g.number)), `Hunt group ${g.number} removed.`);
  };
  // The answer is the changed group: put it in place rather than read the whole list again.
  const toggle = async (g: HuntGroup, ext: string, loggedIn: boolean) => {
    try {
      const after = await api.put<HuntGroup>(`${groupPath(g.number)}/members/${encodeURIComponent(ext)}`, { loggedIn });
      page.setItems((gs) => gs?.map((x) => (x.number === after.number ? after : x)) ?? null);
      page.setMessage(`${ext} logged ${loggedIn ? 'in to' : 'out of'} group ${g.number}.`);
    } catch (e) {
      page.fail(e);
    }
  };
  const editing = edit === 'new' ? null : groups?.find((g) => g.number === edit);

  return (
    <>
      <ResourceHead title="Hunt groups" section="hunt-groups" noun="hunt group" edit={edit} loaded={groups !== null}
        found={editing !== undefined} message={message} error={error}>
        <GroupEditor key={edit} group={editing ?? null} onDone={done} />
      </ResourceHead>
      <section aria-labelledby="groups-h">
        <h2 id="groups-h">Groups</h2>
        {groups === null ? <Loading /> : groups.length === 0 ? <p class="muted">No hunt groups.</p> : (
          <div class="table-wrap">
            <table class="responsive" aria-labelledby="groups-h">
              <thead>
                <tr><th scope="col">Number</th><th scope="col">Name</th><th scope="col">Strategy</th><th scope="col">Members</th>
                  <th scope="col">No answer</th><th scope="col">Overflow</th>{canWrite && <th scope="col"><span class="sr-only">Actions</span></th>}</tr>
              </thead>
              <tbody>
                {groups.map((g) => (
                  <tr key={g.number} data-group={g.number}>
                    <td data-label="Number"><a href={href('hunt-groups', g.number)} aria-label={`Group ${g.number}`}>{g.number}</a></td>
                    <td data-label="Name">{g.name}</td>
                    <td data-label="Strategy">{STRATEGY_TEXT[g.strategy]}</td>
                    <td data-label="Members">
                      {g.members.length === 0 ? <span class="muted">none</span> : (
                        <ol class="member-states">
                          {g.members.map((m) => <Member key={m.extension} g={g} m={m} canWrite={canWrite} onToggle={toggle} />)}
                        </ol>
                      )}
                    </td>
                    <td data-label="No answer">{g.noAnswerSec} s</td>
                    <td data-label="Overflow">{g.overflow ?? <span class="muted">busy</span>}</td>
                    {canWrite && (
                      <td><button type="button" class="danger small" onClick={() => remove(g)} aria-label={`Remove hunt group ${g.number}`}>Remove</button></td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}
