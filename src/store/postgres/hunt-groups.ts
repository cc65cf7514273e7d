// Hunt groups in PostgreSQL (semantics as src/store/sqlite/hunt-groups.ts).
import {
  huntGroupCreateSchema, huntGroupPatchSchema, type HuntGroup, type HuntGroupInput, type HuntGroupPatch,
} from '../../model/hunt-group.ts';
import { StoreError } from '../errors.ts';
import { parseModel } from '../model-parse.ts';
import { watchRevision } from '../watch.ts';
import type { ChangeWatcher, HuntGroupRepository, WatchOptions } from '../types.ts';
import { groupsWithMembers, patchedGroup, toGroup, type Fields, type GroupRow, type MemberRow } from '../sqlite/hunt-groups.ts';
import type { PgDb } from './db.ts';
import { PgNumbering } from './numbering.ts';
import { revisionOf } from './revisions.ts';
import type { WatchWiring } from './watch-wiring.ts';

const MEMBERS = 'SELECT group_id, extension, logged_in FROM hunt_group_members';

async function find(t: PgDb, number: string): Promise<HuntGroup | undefined> {
  if (typeof number !== 'string') return undefined;
  const row = await t.get<GroupRow>('SELECT * FROM hunt_groups WHERE number = ?', [number]);
  return row && toGroup(row, await t.all<MemberRow>(`${MEMBERS} WHERE group_id = ? ORDER BY position`, [row.id]));
}

async function mustGet(t: PgDb, number: string): Promise<HuntGroup> {
  const g = await find(t, number);
  if (!g) throw new StoreError('not-found', 'number', `no hunt group ${String(number)}`);
  return g;
}

async function check(t: PgDb, f: Fields, cur: HuntGroup | null): Promise<void> {
  if (f.number !== cur?.number) {
    if (await t.get('SELECT 1 FROM hunt_groups WHERE number = ?', [f.number])) {
      throw new StoreError('duplicate', 'number', `hunt group ${f.number} already exists`);
    }
    await new PgNumbering(t).checkGroupNumber(f.number);
  }
  if (f.overflow === f.number) throw new StoreError('invalid', 'overflow', 'overflow: must not be the group itself');
  for (const ext of f.members) {
    if (!(await t.get('SELECT 1 FROM users WHERE extension = ?', [ext]))) {
      throw new StoreError('not-found', 'members', `members: no user with extension ${ext}`);
    }
  }
}

/** Rewrites the member list in order; loggedIn carries the state of members that stay. */
async function writeMembers(t: PgDb, id: number, members: readonly string[], loggedIn: Map<string, boolean>): Promise<void> {
  await t.run('DELETE FROM hunt_group_members WHERE group_id = ?', [id]);
  for (const [i, ext] of members.entries()) {
    await t.run('INSERT INTO hunt_group_members (group_id, position, extension, logged_in) VALUES (?, ?, ?, ?)',
      [id, i, ext, loggedIn.get(ext) === false ? 0 : 1]);
  }
}

export class PgHuntGroupRepository implements HuntGroupRepository {
  constructor(
    private readonly db: PgDb,
    private readonly now: () => number,
    private readonly wiring: WatchWiring,
  ) {}

  add(input: HuntGroupInput): Promise<HuntGroup> {
    return this.db.tx(async (t) => {
      const f = parseModel(huntGroupCreateSchema, input);
      await check(t, f, null);
      const at = this.now();
      const row = await t.get<{ id: number }>(`INSERT INTO hunt_groups (number, name, strategy, no_answer_sec, overflow,
        created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, [f.number, f.name, f.strategy, f.noAnswerSec, f.overflow, at, at]);
      await writeMembers(t, row!.id, f.members, new Map());
      return (await find(t, f.number))!;
    }, { lock: true });
  }

  update(number: string, patch: HuntGroupPatch): Promise<HuntGroup> {
    return this.db.tx(async (t) => {
      const cur = await mustGet(t, number);
      const p = parseModel(huntGroupPatchSchema, patch);
      const f = patchedGroup(cur, p);
      await check(t, f, cur);
      await t.run('UPDATE hunt_groups SET number=?, name=?, strategy=?, no_answer_sec=?, overflow=?, updated_at=? WHERE id=?',
        [f.number, f.name, f.strategy, f.noAnswerSec, f.overflow, this.now(), cur.id]);
      if (p.members) await writeMembers(t, cur.id, f.members, new Map(cur.members.map((m) => [m.extension, m.loggedIn])));
      return (await find(t, f.number))!;
    }, { lock: true });
  }

  remove(number: string): Promise<HuntGroup> {
    return this.db.tx(async (t) => {
      const g = await mustGet(t, number);
      await t.run('DELETE FROM hunt_groups WHERE id = ?', [g.id]);
      return g;
    }, { lock: true });
  }

  get(number: string): Promise<HuntGroup | undefined> {
    return find(this.db, number);
  }

  list(): Promise<HuntGroup[]> {
    return this.db.tx(async (t) => {
      const groups = await t.all<GroupRow>('SELECT * FROM hunt_groups ORDER BY length(number), number COLLATE "C"');
      return groupsWithMembers(groups, await t.all<MemberRow>(`${MEMBERS} ORDER BY group_id, position`));
    }, { snapshot: true });
  }

  setMemberLoggedIn(number: string, extension: string, loggedIn: boolean): Promise<HuntGroup> {
    return this.db.tx(async (t) => {
      const g = await mustGet(t, number);
      if (!g.members.some((m) => m.extension === extension)) {
        throw new StoreError('not-found', 'extension', `extension ${extension} is not a member of hunt group ${g.number}`);
      }
      await t.run('UPDATE hunt_group_members SET logged_in = ? WHERE group_id = ? AND extension = ?', [loggedIn ? 1 : 0, g.id, extension]);
      await t.run('UPDATE hunt_groups SET updated_at = ? WHERE id = ?', [this.now(), g.id]);
      return (await find(t, g.number))!;
    }, { lock: true });
  }

  async setLastMember(number: string, extension: string | null): Promise<void> {
    await this.db.run('UPDATE hunt_groups SET last_member = ? WHERE number = ?', [extension, number]);
  }

  revision(): Promise<number> {
    return revisionOf(this.db, 'hunt_groups');
  }

  watch(listener: () => void | Promise<void>, opts: WatchOptions = {}): ChangeWatcher {
    return watchRevision(() => this.revision(), listener, this.wiring.triggers('hunt_groups', opts));
  }
}
