// Audio files in SQLite, the bytes in the row (a BLOB: a few MB at most, see
// AUDIO_MAX_BYTES), and the music-on-hold choice in a one-row table.
import type Database from 'better-sqlite3';
import { AUDIO_MAX_BYTES, audioKindSchema, audioNameSchema, type AudioFile, type AudioFileInput, type AudioKind } from '../../model/audio-file.ts';
import { StoreError } from '../errors.ts';
import { parseModel } from '../model-parse.ts';
import { watchRevision } from '../watch.ts';
import { checkAudioUnused } from '../app-checks.ts';
import type { AudioFileRepository } from '../app-types.ts';
import type { ChangeWatcher, WatchOptions } from '../types.ts';

export interface AudioRow {
  name: string;
  kind: string;
  size: number;
  duration_ms: number;
  created_at: number;
}

export const AUDIO_COLUMNS = 'name, kind, size, duration_ms, created_at';
export const AUDIO_UPSERT = `INSERT INTO audio_files (name, kind, size, duration_ms, data, created_at) VALUES (?, ?, ?, ?, ?, ?)
  ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, size = excluded.size, duration_ms = excluded.duration_ms,
    data = excluded.data, created_at = excluded.created_at`;

export function toAudio(r: AudioRow): AudioFile {
  return Object.freeze({ name: r.name, kind: r.kind as AudioKind, size: r.size, durationMs: r.duration_ms, createdAt: r.created_at });
}

/** The input checked (name, kind, size); the WAV itself is the API's check (src/api/audio-check.ts). */
export function validAudio(input: AudioFileInput): AudioFileInput {
  if (typeof input !== 'object' || input === null) throw new StoreError('invalid', 'value', 'value: must be an object');
  const name = parseModel(audioNameSchema, input.name, 'name');
  const kind = parseModel(audioKindSchema, input.kind, 'kind');
  if (!(input.wav instanceof Uint8Array) || input.wav.length === 0) throw new StoreError('invalid', 'wav', 'wav: must not be empty');
  if (input.wav.length > AUDIO_MAX_BYTES) throw new StoreError('invalid', 'wav', `wav: must be at most ${AUDIO_MAX_BYTES} bytes`);
  if (!Number.isSafeInteger(input.durationMs) || input.durationMs < 0) throw new StoreError('invalid', 'durationMs', 'durationMs: must be a whole number');
  return { name, kind, wav: input.wav, durationMs: input.durationMs };
}

export function audioNotFound(name: string): StoreError {
  return new StoreError('not-found', 'name', `no audio file ${String(name)}`);
}

export class SqliteAudioFileRepository implements AudioFileRepository {
  private readonly s;
  private readonly removeTx;
  private readonly setMohTx;

  constructor(
    db: Database.Database,
    private readonly now: () => number,
    private readonly onError: (err: Error) => void,
  ) {
    const p = <R>(sql: string) => db.prepare<unknown[], R>(sql);
    this.s = {
      byName: p<AudioRow>(`SELECT ${AUDIO_COLUMNS} FROM audio_files WHERE name = ?`),
      data: p<Buffer>('SELECT data FROM audio_files WHERE name = ?').pluck(),
      all: p<AudioRow>(`SELECT ${AUDIO_COLUMNS} FROM audio_files ORDER BY name`),
      upsert: p(AUDIO_UPSERT),
      remove: p('DELETE FROM audio_files WHERE name = ?'),
      greetedBy: p<string>('SELECT number FROM ivr_menus WHERE greeting = ? ORDER BY length(number), number').pluck(),
      moh: p<string | null>('SELECT file FROM moh_setting WHERE id = 1').pluck(),
      setMoh: p('UPDATE moh_setting SET file = ? WHERE id = 1'),
      revision: p<number>("SELECT revision FROM revisions WHERE name = 'audio_files'").pluck(),
    };
    this.removeTx = db.transaction((name: string): AudioFile => {
      const row = typeof name === 'string' ? this.s.byName.get(name) : undefined;
      if (!row) throw audioNotFound(name);
      checkAudioUnused(name, this.s.greetedBy.all(name), this.s.moh.get() ?? null);
      this.s.remove.run(name);
      return toAudio(row);
    });
    this.setMohTx = db.transaction((name: string | null): void => {
      if (name !== null && !this.s.byName.get(name)) throw audioNotFound(name);
      this.s.setMoh.run(name);
    });
  }

  async put(input: AudioFileInput): Promise<AudioFile> {
    const f = validAudio(input);
    this.s.upsert.run(f.name, f.kind, f.wav.length, f.durationMs, Buffer.from(f.wav.buffer, f.wav.byteOffset, f.wav.length), this.now());
    return toAudio(this.s.byName.get(f.name)!);
  }

  async get(name: string): Promise<AudioFile | undefined> {
    const row = typeof name === 'string' ? this.s.byName.get(name) : undefined;
    return row && toAudio(row);
  }

  async read(name: string): Promise<Uint8Array | undefined> {
    return typeof name === 'string' ? this.s.data.get(name) : undefined;
  }

  async list(): Promise<AudioFile[]> {
    return this.s.all.all().map(toAudio);
  }

  async remove(name: string): Promise<AudioFile> {
    return this.removeTx.immediate(name);
  }

  async moh(): Promise<string | null> {
    return this.s.moh.get() ?? null;
  }

  async setMoh(name: string | null): Promise<void> {
    if (name !== null) parseModel(audioNameSchema, name, 'file');
    this.setMohTx.immediate(name);
  }

  async revision(): Promise<number> {
    return this.s.revision.get() ?? 0;
  }

  watch(listener: () => void | Promise<void>, opts: WatchOptions = {}): ChangeWatcher {
    return watchRevision(() => this.revision(), listener, { intervalMs: opts.intervalMs ?? 500, onError: this.onError });
  }
}
