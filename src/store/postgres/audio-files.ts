// Audio files in PostgreSQL, the bytes in a bytea column (semantics as
// src/store/sqlite/audio-files.ts).
import { audioNameSchema, type AudioFile, type AudioFileInput } from '../../model/audio-file.ts';
import { parseModel } from '../model-parse.ts';
import { watchRevision } from '../watch.ts';
import { checkAudioUnused } from '../app-checks.ts';
import type { AudioFileRepository } from '../app-types.ts';
import type { ChangeWatcher, WatchOptions } from '../types.ts';
import { AUDIO_COLUMNS, AUDIO_UPSERT, audioNotFound, toAudio, validAudio, type AudioRow } from '../sqlite/audio-files.ts';
import type { PgDb } from './db.ts';
import { revisionOf } from './revisions.ts';
import type { WatchWiring } from './watch-wiring.ts';

async function find(t: PgDb, name: string): Promise<AudioFile | undefined> {
  if (typeof name !== 'string') return undefined;
  const row = await t.get<AudioRow>(`SELECT ${AUDIO_COLUMNS} FROM audio_files WHERE name = ?`, [name]);
  return row && toAudio(row);
}

async function mohOf(t: PgDb): Promise<string | null> {
  return (await t.get<{ file: string | null }>('SELECT file FROM moh_setting WHERE id = 1'))?.file ?? null;
}

export class PgAudioFileRepository implements AudioFileRepository {
  constructor(
    private readonly db: PgDb,
    private readonly now: () => number,
    private readonly wiring: WatchWiring,
  ) {}

  async put(input: AudioFileInput): Promise<AudioFile> {
    const f = validAudio(input);
    await this.db.run(AUDIO_UPSERT, [f.name, f.kind, f.wav.length, f.durationMs, Buffer.from(f.wav.buffer, f.wav.byteOffset, f.wav.length), this.now()]);
    return (await find(this.db, f.name))!;
  }

  get(name: string): Promise<AudioFile | undefined> {
    return find(this.db, name);
  }

  async read(name: string): Promise<Uint8Array | undefined> {
    if (typeof name !== 'string') return undefined;
    return (await this.db.get<{ data: Buffer }>('SELECT data FROM audio_files WHERE name = ?', [name]))?.data;
  }

  async list(): Promise<AudioFile[]> {
    return (await this.db.all<AudioRow>(`SELECT ${AUDIO_COLUMNS} FROM audio_files ORDER BY name COLLATE "C"`)).map(toAudio);
  }

  remove(name: string): Promise<AudioFile> {
    return this.db.tx(async (t) => {
      const a = await find(t, name);
      if (!a) throw audioNotFound(name);
      const greetedBy = await t.all<{ number: string }>('SELECT number FROM ivr_menus WHERE greeting = ? ORDER BY length(number), number COLLATE "C"', [name]);
      checkAudioUnused(name, greetedBy.map((r) => r.number), await mohOf(t));
      await t.run('DELETE FROM audio_files WHERE name = ?', [name]);
      return a;
    }, { lock: true });
  }

  moh(): Promise<string | null> {
    return mohOf(this.db);
  }

  async setMoh(name: string | null): Promise<void> {
    if (name !== null) parseModel(audioNameSchema, name, 'file');
    await this.db.tx(async (t) => {
      if (name !== null && !(await find(t, name))) throw audioNotFound(name);
      await t.run('UPDATE moh_setting SET file = ? WHERE id = 1', [name]);
    }, { lock: true });
  }

  revision(): Promise<number> {
    return revisionOf(this.db, 'audio_files');
  }

  watch(listener: () => void | Promise<void>, opts: WatchOptions = {}): ChangeWatcher {
    return watchRevision(() => this.revision(), listener, this.wiring.triggers('audio_files', opts));
  }
}
