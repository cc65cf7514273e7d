// Hunt groups in SQLite: one row per group, members in their own table in
// hunting order. Validation comes from the model (src/model/hunt-group.ts).
import type Database from 'better-sqlite3';
import {
  huntGroupCreateSchema, huntGroupPatchSchema, type HuntGroup, type HuntGroupInput, type HuntGroupMember,
  type HuntGroupPatch, type HuntStrategy,
} from '../../model/hunt-group.ts';
import { StoreError } from '../errors.ts';
import { parseModel } from '../model-parse.ts';
import { watchRevision } from '../watch.ts';
import type { ChangeWatcher, HuntGroupRepository, WatchOptions } from '../types.ts';
import { Numbering } from './numbering.ts';

export interface GroupRow {
  id: number;
  number: string;
  name: string;
  strategy: string;
  no_answer_sec: number;
  overflow: string | null;
  last_member: string | null;
  created_at: number;
  updated_at: number;
}

export interface MemberRow {
  group_id: number;
  extension: string;
  logged_in: number;
}

export type Fields = Omit<HuntGroup, 'id' | 'members' | 'lastMember' | 'createdAt' | 'updatedAt'> & { members: readonly string[] };

const ORDER = 'ORDER BY length(number), number';

export class SqliteHuntGroupRepository implements HuntGroupRepository {
  private readonly s;
  private readonly numbering;
  private readonly addTx;
  private readonly updateTx;

  constructor(
    private readonly db: Database.Database,
    private readonly now: () => number,
    private readonly onError: (err: Error) => void,
  ) {
    const p = <R>(sql: string) => db.prepare<unknown[], R>(sql);
    this.numbering = new Numbering(db);
    this.s = {
      byNumber: p<GroupRow>('SELECT * FROM hunt_groups WHERE number = ?'),
      all: p<GroupRow>(`SELECT * FROM hunt_groups ${ORDER}`),
      members: p<MemberRow>('SELECT group_id, extension, logged_in FROM hunt_group_members WHERE group_id = ? ORDER BY position'),
      allMembers: p<MemberRow>('SELECT group_id, extension, logged_in FROM hunt_group_members ORDER BY group_id, position'),
      user: p<number>('SELECT 1 FROM users WHERE extension = ?').pluck(),
      insert: p(`INSERT INTO hunt_groups (number, name, strategy, no_answer_sec, overflow, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?)`),
      update: p('UPDATE hunt_groups SET number=?, name=?, strategy=?, no_answer_sec=?, overflow=?, updated_at=? WHERE id=?'),
      remove: p('DELETE FROM hunt_groups WHERE id = ?'),
      clearMembers: p('DELETE FROM hunt_group_members WHERE group_id = ?'),
      addMember: p('INSERT INTO hunt_group_members (group_id, position, extension, logged_in) VALUES (?, ?, ?, ?)'),
      login: p('UPDATE hunt_group_members SET logged_in = ? WHERE group_id = ? AND extension = ?'),
      touch: p('UPDATE hunt_groups SET updated_at = ? WHERE id = ?'),
      lastMember: p('UPDATE hunt_groups SET last_member = ? WHERE number = ?'),
      revision: p<number>("SELECT revision FROM revisions WHERE name = 'hunt_groups'").pluck(),
    };
    this.addTx = db.transaction((input: HuntGroupInput): HuntGroup => {
      const f = parseModel(huntGroupCreateSchema, input);
      this.check(f, null);
      const t = this.now();
      const id = Number(this.s.insert.run(f.number, f.name, f.strategy, f.noAnswerSec, f.overflow, t, t).lastInsertRowid);
      this.writeMembers(id, f.members, new Map());
      return this.find(f.number)!;
    });
    this.updateTx = db.transaction((number: string, patch: HuntGroupPatch): HuntGroup => {
      const cur = this.mustGet(number);
      const p2 = parseModel(huntGroupPatchSchema, patch);
      const f = patchedGroup(cur, p2);
      this.check(f, cur);
      this.s.update.run(f.number, f.name, f.strategy, f.noAnswerSec, f.overflow, this.now(), cur.id);
      if (p2.members) this.writeMembers(cur.id, f.members, new Map(cur.members.map((m) => [m.extension, m.loggedIn])));
      return this.find(f.number)!;
    });
  }

  private check(f: Fields, cur: HuntGroup | null): void {
    if (f.number !== cur?.number) {
      if (this.s.byNumber.get(f.number)) throw new StoreError('duplicate', 'number', `hunt group ${f.number} already exists`);
      this.numbering.checkGroupNumber(f.number);
    }
    if (f.overflow === f.number) throw new StoreError('invalid', 'overflow', 'overflow: must not be the group itself');
    for (const ext of f.members) {
      if (!this.s.user.get(ext)) throw new StoreError('not-found', 'members', `members: no user with extension ${ext}`);
    }
  }

  /** Rewrites the member list in order; loggedIn carries the state of members that stay. */
  private writeMembers(id: number, members: readonly string[], loggedIn: Map<string, boolean>): void {
    this.s.clearMembers.run(id);
    members.forEach((ext, i) => this.s.addMember.run(id, i, ext, loggedIn.get(ext) === false ? 0 : 1));
  }

  private mustGet(number: string): HuntGroup {
    const g = typeof number === 'string' ? this.find(number) : undefined;
    if (!g) throw new StoreError('not-found', 'number', `no hunt group ${String(number)}`);
    return g;
  }

  async add(input: HuntGroupInput): Promise<HuntGroup> {
    return this.addTx.immediate(input);
  }

  async update(number: string, patch: HuntGroupPatch): Promise<HuntGroup> {
    return this.updateTx.immediate(number, patch);
  }

  async remove(number: string): Promise<HuntGroup> {
    return this.db.transaction(() => {
      const g = this.mustGet(number);
      this.s.remove.run(g.id);
      return g;
    }).immediate();
  }

  private find(number: string): HuntGroup | undefined {
    const row = this.s.byNumber.get(number);
    return row && toGroup(row, this.s.members.all(row.id));
  }

  async get(number: string): Promise<HuntGroup | undefined> {
    return this.find(number);
  }

  async list(): Promise<HuntGroup[]> {
    return this.db.transaction(() => groupsWithMembers(this.s.all.all(), this.s.allMembers.all())).deferred();
  }

  async setMemberLoggedIn(number: string, extension: string, loggedIn: boolean): Promise<HuntGroup> {
    return this.db.transaction(() => {
      const g = this.mustGet(number);
      if (!g.members.some((m) => m.extension === extension)) {
        throw new StoreError('not-found', 'extension', `extension ${extension} is not a member of hunt group ${g.number}`);
      }
      this.s.login.run(loggedIn ? 1 : 0, g.id, extension);
      this.s.touch.run(this.now(), g.id);
      return this.find(g.number)!;
    }).immediate();
  }

  async setLastMember(number: string, extension: string | null): Promise<void> {
    this.s.lastMember.run(extension, number);
  }

  async revision(): Promise<number> {
    return this.s.revision.get() ?? 0;
  }

  watch(listener: () => void | Promise<void>, opts: WatchOptions = {}): ChangeWatcher {
    return watchRevision(() => this.revision(), listener, { intervalMs: opts.intervalMs ?? 500, onError: this.onError });
  }
}

/** The group's fields after a (validated) patch. */
export function patchedGroup(cur: HuntGroup, p: HuntGroupPatch): Fields {
  return {
    number: p.number ?? cur.number,
    name: p.name ?? cur.name,
    strategy: p.strategy ?? cur.strategy,
    members: p.members ?? cur.members.map((m) => m.extension),
    noAnswerSec: p.noAnswerSec ?? cur.noAnswerSec,
    overflow: p.overflow === undefined ? cur.overflow : p.overflow,
  };
}

/** Groups in their order, each with its members (members: ordered by group, then position). */
export function groupsWithMembers(groups: readonly GroupRow[], members: readonly MemberRow[]): HuntGroup[] {
  const byGroup = new Map<number, MemberRow[]>();
  for (const m of members) {
    const l = byGroup.get(m.group_id);
    if (l) l.push(m);
    else byGroup.set(m.group_id, [m]);
  }
  return groups.map((r) => toGroup(r, byGroup.get(r.id) ?? []));
}

export function toGroup(r: GroupRow, members: readonly MemberRow[]): HuntGroup {
  return Object.freeze({
    id: r.id,
    number: r.number,
    name: r.name,
    strategy: r.strategy as HuntStrategy,
    members: Object.freeze(members.map((m): HuntGroupMember => Object.freeze({ extension: m.extension, loggedIn: m.logged_in !== 0 }))),
    noAnswerSec: r.no_answer_sec,
    overflow: r.overflow,
    lastMember: r.last_member,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  });
}
