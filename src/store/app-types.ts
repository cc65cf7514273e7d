// Repository interfaces of the media server's configuration (issue 13 items
// 4-7): IVR menus, conference rooms, audio files and the music-on-hold
// choice. Numbers of menus and rooms share the dialling namespace with users,
// hunt groups and short codes (src/store/sqlite/numbering.ts).
import type { AudioFile, AudioFileInput } from '../model/audio-file.ts';
import type { ConferenceRoom, ConferenceRoomInput, ConferenceRoomPatch } from '../model/conference-room.ts';
import type { IvrMenu, IvrMenuInput } from '../model/ivr-menu.ts';
import type { ChangeWatcher, WatchOptions } from './types.ts';

export type { AudioFile, AudioFileInput } from '../model/audio-file.ts';
export type { ConferenceRoom, ConferenceRoomInput, ConferenceRoomPatch } from '../model/conference-room.ts';
export type { IvrAction, IvrMenu, IvrMenuInput } from '../model/ivr-menu.ts';

/** Revision and change feed of one list the call path keeps in memory. */
interface Watched {
  /** Moves with every change, by any process on the database. */
  revision(): Promise<number>;
  /** Calls listener after revision() moved, by any process or node. */
  watch(listener: () => void | Promise<void>, opts?: WatchOptions): ChangeWatcher;
}

export interface IvrMenuRepository extends Watched {
  /**
   * Adds the menu, or replaces the one with its number. @throws StoreError
   * invalid | conflict (number taken by a user, group, room, reserved number
   * or short code) | not-found (greeting or a target menu does not exist) |
   * invalid field 'options' (a loop the caller cannot leave)
   */
  set(input: IvrMenuInput): Promise<IvrMenu>;
  get(number: string): Promise<IvrMenu | undefined>;
  /** Ordered by number, shortest first. */
  list(): Promise<IvrMenu[]>;
  /** @throws StoreError not-found | conflict (another menu sends callers to it) */
  remove(number: string): Promise<IvrMenu>;
}

export interface ConferenceRoomRepository extends Watched {
  /** @throws StoreError invalid | duplicate | conflict (number taken by another owner, reserved, or a short code) */
  add(input: ConferenceRoomInput): Promise<ConferenceRoom>;
  /** @throws StoreError not-found | invalid | duplicate | conflict */
  update(number: string, patch: ConferenceRoomPatch): Promise<ConferenceRoom>;
  /** @throws StoreError not-found */
  remove(number: string): Promise<ConferenceRoom>;
  get(number: string): Promise<ConferenceRoom | undefined>;
  /** Ordered by number, shortest first. */
  list(): Promise<ConferenceRoom[]>;
}

/** The audio files and the music-on-hold choice; revision() moves with either. */
export interface AudioFileRepository extends Watched {
  /** Adds the file, or replaces the one with its name (menus and MoH using it hear the new one). @throws StoreError invalid */
  put(input: AudioFileInput): Promise<AudioFile>;
  get(name: string): Promise<AudioFile | undefined>;
  /** The WAV bytes as uploaded, or undefined. */
  read(name: string): Promise<Uint8Array | undefined>;
  /** By name. */
  list(): Promise<AudioFile[]>;
  /** @throws StoreError not-found | conflict naming the menu or the MoH setting that uses it */
  remove(name: string): Promise<AudioFile>;
  /** The file held parties hear; null: the one that ships. */
  moh(): Promise<string | null>;
  /** @throws StoreError not-found (no such file) */
  setMoh(name: string | null): Promise<void>;
}

/** The media server's part of the store. */
export interface AppStore {
  ivrMenus: IvrMenuRepository;
  conferenceRooms: ConferenceRoomRepository;
  audioFiles: AudioFileRepository;
}
