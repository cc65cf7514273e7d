// /api/voicemail and /api/users/:ext/voicemail: every mailbox with its
// counts, a mailbox's messages (metadata, the recording as audio/wav for
// the browser, folder, deletion) and its greeting (upload, download,
// removal). The store keeps WAV bytes; what comes in over HTTP is hostile
// input, decoded and re-encoded (src/media/wav-upload.ts) before it is kept.
import { z } from 'zod';
import { extensionSchema } from '../../model/common.ts';
import { VOICEMAIL_FOLDERS, type VoicemailMessage } from '../../store/types.ts';
import { audit, type ApiContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import type { RouteTable } from '../route.ts';
import { WavError, prepareUpload } from '../../media/wav-upload.ts';

/** A greeting of 60 s as 16-bit PCM at 16 kHz is under 2 MB; G.711 at 8 kHz needs a quarter of it. */
export const MAX_GREETING_BYTES = 2 * 1024 * 1024;

const folderSchema = z.enum(VOICEMAIL_FOLDERS as [string, ...string[]]);
const messageSchema = z.object({
  id: z.string(),
  mailbox: z.string(),
  caller: z.string().describe('caller number as it arrived'),
  callerName: z.string(),
  receivedAt: z.number().int().describe('epoch ms'),
  durationMs: z.number().int(),
  folder: folderSchema,
  bytes: z.number().int().describe('size of the WAV'),
});
const countsSchema = z.object({ new: z.number().int(), saved: z.number().int() });
const mailboxParams = z.object({ ext: extensionSchema });
const messageParams = z.object({ ext: extensionSchema, id: z.string().regex(/^[0-9a-f]{16}$/, 'must be a message id (16 hex digits)') });


export function voicemailRoutes(t: RouteTable, ctx: ApiContext): void {
  const vm = () => ctx.store.voicemail;
  const mustUser = async (ext: string) => await ctx.store.users.getByExtension(ext) ?? (() => { throw new ApiError(404, 'not-found', `no user with extension ${ext}`); })();
  const notFound = (ext: string, id: string) => new ApiError(404, 'not-found', `no message ${id} in mailbox ${ext}`);
  t.add({
    method: 'GET', url: '/api/voicemail', tag: 'voicemail', access: 'read',
    summary: 'Every mailbox with messages, and its counts',
    response: {
      description: 'mailboxes by extension',
      schema: z.object({ items: z.array(z.object({ mailbox: z.string(), name: z.string(), new: z.number().int(), saved: z.number().int() })) }),
    },
    handler: async () => {
      const all = [...(await vm().allCounts())].sort(([a], [b]) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
      const items = [];
      for (const [mailbox, c] of all) items.push({ mailbox, name: (await ctx.store.users.getByExtension(mailbox))?.name ?? '', ...c });
      return { items };
    },
  });

  t.add({
    method: 'GET', url: '/api/users/:ext/voicemail', tag: 'voicemail', access: 'read',
    summary: "A user's messages, oldest first",
    params: mailboxParams,
    query: z.object({ folder: folderSchema.optional() }).strict(),
    response: {
      description: 'counts and messages',
      schema: z.object({ voicemail: z.boolean(), greeting: z.boolean().describe('the user recorded or uploaded a greeting of their own'), counts: countsSchema, items: z.array(messageSchema) }),
    },
    errors: [404],
    handler: async (req) => {
      const user = await mustUser(req.params.ext);
      const items: VoicemailMessage[] = await vm().list(user.extension, req.query.folder as VoicemailMessage['folder'] | undefined);
      const greeting = (await vm().greeting(user.extension)) !== undefined;
      return { voicemail: user.voicemail, greeting, counts: await vm().counts(user.extension), items };
    },
  });

  t.add({
    method: 'GET', url: '/api/users/:ext/voicemail/:id.wav', tag: 'voicemail', access: 'write',
    summary: "A message's recording",
    description: 'The WAV as stored, for playing in the browser. Administrators only: messages are personal.',
    params: messageParams,
    response: { description: 'the recording', contentTypes: ['audio/wav'] },
    errors: [404],
    handler: async (req) => {
      const wav = await vm().audio(req.params.ext, req.params.id);
      if (!wav) throw notFound(req.params.ext, req.params.id);
      void req.reply.type('audio/wav').header('content-disposition', `inline; filename="${req.params.ext}-${req.params.id}.wav"`);
      return wav;
    },
  });

  t.add({
    method: 'PATCH', url: '/api/users/:ext/voicemail/:id', tag: 'voicemail', access: 'write',
    summary: 'Move a message to another folder',
    description: 'new -> saved turns the message waiting lamp off when it was the last new one.',
    params: messageParams,
    body: z.object({ folder: folderSchema }).strict(),
    response: { description: 'the message', schema: messageSchema },
    errors: [404],
    handler: async (req) => {
      const { ext, id } = req.params;
      const before = await vm().get(ext, id);
      if (!before || !(await vm().setFolder(ext, id, req.body.folder as VoicemailMessage['folder']))) throw notFound(ext, id);
      const after = (await vm().get(ext, id)) ?? before;
      await audit(ctx, req, `voicemail:${ext}/${id}`, { folder: before.folder }, { folder: after.folder });
      return after;
    },
  });

  t.add({
    method: 'DELETE', url: '/api/users/:ext/voicemail/:id', tag: 'voicemail', access: 'write',
    summary: 'Delete a message',
    params: messageParams,
    response: { status: 204, description: 'deleted' },
    errors: [404],
    handler: async (req) => {
      const { ext, id } = req.params;
      const before = await vm().get(ext, id);
      if (!before || !(await vm().remove(ext, id))) throw notFound(ext, id);
      await audit(ctx, req, `voicemail:${ext}/${id}`, before, null);
    },
  });

  t.add({
    method: 'GET', url: '/api/users/:ext/voicemail/greeting.wav', tag: 'voicemail', access: 'write',
    summary: "The user's recorded greeting",
    params: mailboxParams,
    response: { description: 'the greeting', contentTypes: ['audio/wav'] },
    errors: [404],
    handler: async (req) => {
      const wav = await vm().greeting(req.params.ext);
      if (!wav) throw new ApiError(404, 'not-found', `mailbox ${req.params.ext} has no greeting of its own`);
      void req.reply.type('audio/wav');
      return wav;
    },
  });

  t.add({
    method: 'PUT', url: '/api/users/:ext/voicemail/greeting.wav', tag: 'voicemail', access: 'write',
    summary: "Upload the user's greeting",
    description: `A WAV file (audio/wav), mono PCM, A-law or µ-law at 8-48 kHz, at most ${MAX_GREETING_BYTES} bytes. Callers hear it instead of the default greeting.`,
    params: mailboxParams,
    docBody: { 'audio/wav': z.string().describe('the WAV file') },
    bodyLimit: MAX_GREETING_BYTES,
    response: { status: 204, description: 'stored' },
    errors: [400, 404, 413, 415],
    handler: async (req) => {
      const user = await mustUser(req.params.ext);
      const body: unknown = req.body;
      if (!Buffer.isBuffer(body)) throw new ApiError(415, 'unsupported-media-type', 'send the greeting as audio/wav');
      let greeting: Buffer;
      try {
        greeting = prepareUpload(body, MAX_GREETING_BYTES).wav;
      } catch (err) {
        if (err instanceof WavError) throw new ApiError(400, 'invalid', `wav: ${err.message}`);
        throw err;
      }
      await vm().setGreeting(user.extension, greeting);
      await audit(ctx, req, `voicemail:${user.extension}/greeting`, null, { bytes: greeting.length });
    },
  });

  t.add({
    method: 'DELETE', url: '/api/users/:ext/voicemail/greeting.wav', tag: 'voicemail', access: 'write',
    summary: "Remove the user's greeting (callers hear the default one)",
    params: mailboxParams,
    response: { status: 204, description: 'removed' },
    errors: [404],
    handler: async (req) => {
      const user = await mustUser(req.params.ext);
      if (!(await vm().greeting(user.extension))) throw new ApiError(404, 'not-found', `mailbox ${user.extension} has no greeting of its own`);
      await vm().setGreeting(user.extension, null);
      await audit(ctx, req, `voicemail:${user.extension}/greeting`, { greeting: true }, null);
    },
  });
}
