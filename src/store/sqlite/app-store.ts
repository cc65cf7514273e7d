// The media server's repositories on the SQLite store's connection.
import type Database from 'better-sqlite3';
import { RESERVED_NUMBERS_DEFAULT } from '../app-checks.ts';
import type { AppStore } from '../app-types.ts';
import type { StoreOptions } from '../types.ts';
import { SqliteAudioFileRepository } from './audio-files.ts';
import { SqliteConferenceRoomRepository } from './conference-rooms.ts';
import { SqliteIvrMenuRepository } from './ivr-menus.ts';

export function sqliteAppStore(db: Database.Database, now: () => number, opts: StoreOptions, onError: (err: Error) => void): AppStore {
  const reserved = opts.reservedNumbers ?? (() => RESERVED_NUMBERS_DEFAULT);
  return {
    ivrMenus: new SqliteIvrMenuRepository(db, now, reserved, onError),
    conferenceRooms: new SqliteConferenceRoomRepository(db, now, reserved, onError),
    audioFiles: new SqliteAudioFileRepository(db, now, onError),
  };
}
