// The media server's repositories on a PostgreSQL connection view.
import { RESERVED_NUMBERS_DEFAULT } from '../app-checks.ts';
import type { AppStore } from '../app-types.ts';
import type { StoreOptions } from '../types.ts';
import { PgAudioFileRepository } from './audio-files.ts';
import { PgConferenceRoomRepository } from './conference-rooms.ts';
import type { PgDb } from './db.ts';
import { PgIvrMenuRepository } from './ivr-menus.ts';
import type { WatchWiring } from './watch-wiring.ts';

export function pgAppStore(db: PgDb, now: () => number, opts: StoreOptions, wiring: WatchWiring): AppStore {
  const reserved = opts.reservedNumbers ?? (() => RESERVED_NUMBERS_DEFAULT);
  return {
    ivrMenus: new PgIvrMenuRepository(db, now, reserved, wiring),
    conferenceRooms: new PgConferenceRoomRepository(db, now, reserved, wiring),
    audioFiles: new PgAudioFileRepository(db, now, wiring),
  };
}
