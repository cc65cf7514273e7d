// Audio files of the media server (issue 13 items 4, 5, 7): IVR greetings and
// music on hold, kept with their bytes in the store (src/store/*/audio-files.ts),
// and the system's music-on-hold choice. No Node imports: the web UI
// type-checks it.
import { z } from 'zod';

export const AUDIO_KINDS = ['moh', 'prompt'] as const;
export type AudioKind = (typeof AUDIO_KINDS)[number];

/** Upload limit: a few minutes of G.711 or about 30 s of 16-bit 44.1 kHz stereo. */
export const AUDIO_MAX_BYTES = 5 * 1024 * 1024;

/**
 * A file's name: what menus and the MoH setting refer to, and the last part of
 * its URL (/api/audio/NAME.wav). No dots, so NAME.wav cannot be misread and no
 * name looks like a path.
 */
export const AUDIO_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
export const audioNameSchema = z.string().regex(AUDIO_NAME_RE, 'must be 1-64 letters, digits, - or _, starting with a letter or digit');

export interface AudioFile {
  readonly name: string;
  readonly kind: AudioKind;
  /** Bytes of the WAV file as stored. */
  readonly size: number;
  readonly durationMs: number;
  readonly createdAt: number;
}

export interface AudioFileInput {
  name: string;
  kind: AudioKind;
  /** The whole WAV file; checked by the caller (src/api/audio-check.ts) before it gets here. */
  wav: Uint8Array;
  durationMs: number;
}

export const audioKindSchema = z.enum(AUDIO_KINDS, { error: 'must be moh or prompt' });

export const audioFileViewSchema = z.object({
  name: z.string(),
  kind: audioKindSchema,
  size: z.number().int(),
  durationMs: z.number().int(),
  createdAt: z.number().int(),
});

/** The music-on-hold setting `moh.file`: an audio file's name, or null for the one that ships. */
export const mohSettingSchema = z.object({
  file: audioNameSchema.nullable().describe('audio file played to held parties; null: the default music that ships'),
}).strict();
export type MohSetting = z.output<typeof mohSettingSchema>;

/** Derives a file name from a path's last part ("Hold Music.wav" -> "Hold-Music"), or undefined when nothing usable remains. */
export function audioNameFromPath(path: string): string | undefined {
  const base = path.split(/[\\/]/).pop() ?? '';
  const name = base.replace(/\.wav$/i, '').replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^[-_]+/, '').slice(0, 64);
  return AUDIO_NAME_RE.test(name) ? name : undefined;
}
