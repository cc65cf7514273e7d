// Conference rooms in SQLite: one row per room. Validation comes from the
// model (src/model/conference-room.ts); numbering from numbering.ts.
import type Database from 'better-sqlite3';
import {
  conferenceRoomInputSchema, conferenceRoomPatchSchema, type ConferenceRoom, type ConferenceRoomFields,
  type ConferenceRoomInput, type ConferenceRoomPatch,
} from '../../model/conference-room.ts';
import { StoreError } from '../errors.ts';
import { parseModel } from '../model-parse.ts';
import { watchRevision } from '../watch.ts';
import { checkNotReserved } from '../app-checks.ts';
import type { ConferenceRoomRepository } from '../app-types.ts';
import type { ChangeWatcher, WatchOptions } from '../types.ts';
import { Numbering } from './numbering.ts';

export interface RoomRow {
  number: string;
  name: string;
  pin: string | null;
  max_participants: number;
  announce_join: number;
  created_at: number;
  updated_at: number;
}

export function toRoom(r: RoomRow): ConferenceRoom {
  return Object.freeze({
    number: r.number,
    name: r.name,
    pin: r.pin,
    maxParticipants: r.max_participants,
    announceJoin: r.announce_join !== 0,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  });
}

/** The room's fields after a (validated) patch. */
export function patchedRoom(cur: ConferenceRoom, p: ConferenceRoomPatch): ConferenceRoomFields {
  return {
    number: p.number ?? cur.number,
    name: p.name ?? cur.name,
    pin: p.pin === undefined ? cur.pin : p.pin,
    maxParticipants: p.maxParticipants ?? cur.maxParticipants,
    announceJoin: p.announceJoin ?? cur.announceJoin,
  };
}

export const roomValues = (f: ConferenceRoomFields) => [f.number, f.name, f.pin, f.maxParticipants, f.announceJoin ? 1 : 0];
export const ROOM_INSERT = `INSERT INTO conference_rooms (number, name, pin, max_participants, announce_join, created_at, updated_at)
  VALUES (?, ?, ?, ?, ?, ?, ?)`;
export const ROOM_UPDATE = 'UPDATE conference_rooms SET number=?, name=?, pin=?, max_participants=?, announce_join=?, updated_at=? WHERE number=?';

export function roomNotFound(number: string): StoreError {
  return new StoreError('not-found', 'number', `no conference room ${String(number)}`);
}

export function roomExists(number: string): StoreError {
  return new StoreError('duplicate', 'number', `conference room ${number} already exists`);
}

export class SqliteConferenceRoomRepository implements ConferenceRoomRepository {
  private readonly s;
  private readonly numbering;
  private readonly addTx;
  private readonly updateTx;
  private readonly removeTx;

  constructor(
    db: Database.Database,
    private readonly now: () => number,
    private readonly reserved: () => readonly string[],
    private readonly onError: (err: Error) => void,
  ) {
    const p = <R>(sql: string) => db.prepare<unknown[], R>(sql);
    this.numbering = new Numbering(db);
    this.s = {
      byNumber: p<RoomRow>('SELECT * FROM conference_rooms WHERE number = ?'),
      all: p<RoomRow>('SELECT * FROM conference_rooms ORDER BY length(number), number'),
      insert: p(ROOM_INSERT),
      update: p(ROOM_UPDATE),
      remove: p('DELETE FROM conference_rooms WHERE number = ?'),
      revision: p<number>("SELECT revision FROM revisions WHERE name = 'conference_rooms'").pluck(),
    };
    this.addTx = db.transaction((input: ConferenceRoomInput): ConferenceRoom => {
      const f = parseModel(conferenceRoomInputSchema, input);
      this.checkNumber(f.number);
      const t = this.now();
      this.s.insert.run(...roomValues(f), t, t);
      return toRoom(this.s.byNumber.get(f.number)!);
    });
    this.updateTx = db.transaction((number: string, patch: ConferenceRoomPatch): ConferenceRoom => {
      const cur = this.mustGet(number);
      const f = patchedRoom(cur, parseModel(conferenceRoomPatchSchema, patch));
      if (f.number !== cur.number) this.checkNumber(f.number);
      this.s.update.run(...roomValues(f), this.now(), cur.number);
      return toRoom(this.s.byNumber.get(f.number)!);
    });
    this.removeTx = db.transaction((number: string): ConferenceRoom => {
      const cur = this.mustGet(number);
      this.s.remove.run(cur.number);
      return cur;
    });
  }

  private checkNumber(number: string): void {
    if (this.s.byNumber.get(number)) throw roomExists(number);
    this.numbering.checkNumber('room', 'number', number);
    checkNotReserved('number', number, this.reserved());
  }

  private mustGet(number: string): ConferenceRoom {
    const row = typeof number === 'string' ? this.s.byNumber.get(number) : undefined;
    if (!row) throw roomNotFound(number);
    return toRoom(row);
  }

  async add(input: ConferenceRoomInput): Promise<ConferenceRoom> {
    return this.addTx.immediate(input);
  }

  async update(number: string, patch: ConferenceRoomPatch): Promise<ConferenceRoom> {
    return this.updateTx.immediate(number, patch);
  }

  async remove(number: string): Promise<ConferenceRoom> {
    return this.removeTx.immediate(number);
  }

  async get(number: string): Promise<ConferenceRoom | undefined> {
    const row = typeof number === 'string' ? this.s.byNumber.get(number) : undefined;
    return row && toRoom(row);
  }

  async list(): Promise<ConferenceRoom[]> {
    return this.s.all.all().map(toRoom);
  }

  async revision(): Promise<number> {
    return this.s.revision.get() ?? 0;
  }

  watch(listener: () => void | Promise<void>, opts: WatchOptions = {}): ChangeWatcher {
    return watchRevision(() => this.revision(), listener, { intervalMs: opts.intervalMs ?? 500, onError: this.onError });
  }
}
