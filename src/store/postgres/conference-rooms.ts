// Conference rooms in PostgreSQL (semantics as src/store/sqlite/conference-rooms.ts).
import {
  conferenceRoomInputSchema, conferenceRoomPatchSchema, type ConferenceRoom, type ConferenceRoomInput, type ConferenceRoomPatch,
} from '../../model/conference-room.ts';
import { parseModel } from '../model-parse.ts';
import { watchRevision } from '../watch.ts';
import { checkNotReserved } from '../app-checks.ts';
import type { ConferenceRoomRepository } from '../app-types.ts';
import type { ChangeWatcher, WatchOptions } from '../types.ts';
import { ROOM_INSERT, ROOM_UPDATE, patchedRoom, roomExists, roomNotFound, roomValues, toRoom, type RoomRow } from '../sqlite/conference-rooms.ts';
import type { PgDb } from './db.ts';
import { PgNumbering } from './numbering.ts';
import { revisionOf } from './revisions.ts';
import type { WatchWiring } from './watch-wiring.ts';

async function find(t: PgDb, number: string): Promise<ConferenceRoom | undefined> {
  if (typeof number !== 'string') return undefined;
  const row = await t.get<RoomRow>('SELECT * FROM conference_rooms WHERE number = ?', [number]);
  return row && toRoom(row);
}

async function mustGet(t: PgDb, number: string): Promise<ConferenceRoom> {
  const r = await find(t, number);
  if (!r) throw roomNotFound(number);
  return r;
}

export class PgConferenceRoomRepository implements ConferenceRoomRepository {
  constructor(
    private readonly db: PgDb,
    private readonly now: () => number,
    private readonly reserved: () => readonly string[],
    private readonly wiring: WatchWiring,
  ) {}

  private async checkNumber(t: PgDb, number: string): Promise<void> {
    if (await find(t, number)) throw roomExists(number);
    await new PgNumbering(t).checkNumber('room', 'number', number);
    checkNotReserved('number', number, this.reserved());
  }

  add(input: ConferenceRoomInput): Promise<ConferenceRoom> {
    return this.db.tx(async (t) => {
      const f = parseModel(conferenceRoomInputSchema, input);
      await this.checkNumber(t, f.number);
      const at = this.now();
      await t.run(ROOM_INSERT, [...roomValues(f), at, at]);
      return (await find(t, f.number))!;
    }, { lock: true });
  }

  update(number: string, patch: ConferenceRoomPatch): Promise<ConferenceRoom> {
    return this.db.tx(async (t) => {
      const cur = await mustGet(t, number);
      const f = patchedRoom(cur, parseModel(conferenceRoomPatchSchema, patch));
      if (f.number !== cur.number) await this.checkNumber(t, f.number);
      await t.run(ROOM_UPDATE, [...roomValues(f), this.now(), cur.number]);
      return (await find(t, f.number))!;
    }, { lock: true });
  }

  remove(number: string): Promise<ConferenceRoom> {
    return this.db.tx(async (t) => {
      const cur = await mustGet(t, number);
      await t.run('DELETE FROM conference_rooms WHERE number = ?', [cur.number]);
      return cur;
    }, { lock: true });
  }

  get(number: string): Promise<ConferenceRoom | undefined> {
    return find(this.db, number);
  }

  async list(): Promise<ConferenceRoom[]> {
    return (await this.db.all<RoomRow>('SELECT * FROM conference_rooms ORDER BY length(number), number COLLATE "C"')).map(toRoom);
  }

  revision(): Promise<number> {
    return revisionOf(this.db, 'conference_rooms');
  }

  watch(listener: () => void | Promise<void>, opts: WatchOptions = {}): ChangeWatcher {
    return watchRevision(() => this.revision(), listener, this.wiring.triggers('conference_rooms', opts));
  }
}
