// /api/audio: the audio files IVR menus greet with and held parties hear
// (src/model/audio-file.ts), uploaded as WAV bytes; /api/moh: which one is
// the music on hold.
import { z } from 'zod';
import {
  AUDIO_MAX_BYTES, audioFileViewSchema, audioKindSchema, audioNameSchema, mohSettingSchema,
} from '../../model/audio-file.ts';
import { WavError, prepareUpload } from '../../media/wav-upload.ts';
import { audit, type ApiContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import type { RouteTable } from '../route.ts';

/** What uploads may be sent as; anything else is 415. */
export const WAV_TYPES = ['audio/wav', 'audio/x-wav', 'audio/wave', 'audio/vnd.wave'] as const;

const nameParams = z.object({ name: audioNameSchema });
// The download's URL ends in .wav (a browser saves it under a usable name).
const fileParams = z.object({ name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}\.wav$/, 'must be NAME.wav') });

export function audioRoutes(t: RouteTable, ctx: ApiContext): void {
  const files = () => ctx.store.audioFiles;

  t.add({
    method: 'GET', url: '/api/audio', tag: 'audio', access: 'read',
    summary: 'List audio files',
    response: { description: 'every file, by name (without its bytes)', schema: z.object({ items: z.array(audioFileViewSchema) }) },
    handler: async () => ({ items: await files().list() }),
  });

  t.add({
    method: 'PUT', url: '/api/audio/:name', tag: 'audio', access: 'write',
    summary: 'Upload an audio file (a WAV file), or replace the one of that name',
    description: `The body is the WAV file (Content-Type audio/wav), at most ${AUDIO_MAX_BYTES} bytes (413 beyond): ` +
      'PCM (8 or 16 bit), A-law or µ-law, mono or stereo, 8-48 kHz. Anything else is 400; another media type 415.',
    params: nameParams,
    query: z.object({ kind: audioKindSchema.default('prompt').describe('moh: music on hold; prompt: IVR greetings and announcements') }),
    docBody: { 'audio/wav': z.string().describe('the WAV file') },
    bodyLimit: AUDIO_MAX_BYTES,
    response: { description: 'the file as stored', schema: audioFileViewSchema },
    errors: [400, 413, 415],
    handler: async (req) => {
      const body = req.body as unknown;
      // Another parser (the backup upload's octet-stream) may have read the bytes: only WAV types are taken.
      const type = (req.raw.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
      if (!Buffer.isBuffer(body) || !(WAV_TYPES as readonly string[]).includes(type)) {
        throw new ApiError(415, 'unsupported-media-type', `send the WAV file as ${WAV_TYPES[0]}`);
      }
      let audio: { wav: Buffer; durationMs: number };
      try {
        audio = prepareUpload(body);
      } catch (err) {
        if (err instanceof WavError) throw new ApiError(400, 'validation', `wav: ${err.message}`, { issues: [{ path: '', in: 'body', message: err.message }] });
        throw err;
      }
      const before = await files().get(req.params.name);
      const after = await files().put({ name: req.params.name, kind: req.query.kind, wav: audio.wav, durationMs: audio.durationMs });
      await audit(ctx, req, `audio:${after.name}`, before ?? null, after);
      return after;
    },
  });

  t.add({
    method: 'GET', url: '/api/audio/:name', tag: 'audio', access: 'read',
    summary: 'Download an audio file (/api/audio/NAME.wav)',
    params: fileParams,
    response: { description: 'the WAV file as uploaded', contentTypes: ['audio/wav'] },
    errors: [404],
    handler: async (req) => {
      const name = req.params.name.slice(0, -'.wav'.length);
      const bytes = await files().read(name);
      if (!bytes) throw new ApiError(404, 'not-found', `no audio file ${name}`);
      void req.reply.type('audio/wav').header('content-disposition', `attachment; filename="${name}.wav"`);
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    },
  });

  t.add({
    method: 'DELETE', url: '/api/audio/:name', tag: 'audio', access: 'write',
    summary: 'Remove an audio file',
    description: 'Refused (409, naming the user) while an IVR menu greets with it or it is the music on hold.',
    params: nameParams,
    response: { status: 204, description: 'removed' },
    errors: [404, 409],
    handler: async (req) => {
      const before = await files().remove(req.params.name);
      await audit(ctx, req, `audio:${before.name}`, before, null);
    },
  });

  t.add({
    method: 'GET', url: '/api/moh', tag: 'audio', access: 'read',
    summary: 'The music on hold (moh.file)',
    response: { description: 'the file held parties hear; null: the default that ships', schema: mohSettingSchema },
    handler: async () => ({ file: await files().moh() }),
  });

  t.add({
    method: 'PUT', url: '/api/moh', tag: 'audio', access: 'write',
    summary: 'Choose the music on hold',
    description: 'file: an uploaded audio file (404 when there is none of that name), or null for the default that ships. ' +
      'Applies to the next hold, on every worker, without a restart.',
    body: mohSettingSchema,
    response: { description: 'the setting now', schema: mohSettingSchema },
    errors: [404],
    handler: async (req) => {
      const before = await files().moh();
      await files().setMoh(req.body.file);
      await audit(ctx, req, 'moh.file', { file: before }, { file: req.body.file });
      return { file: req.body.file };
    },
  });
}
