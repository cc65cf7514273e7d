// What both stores share of mailboxes (sqlite/voicemail.ts, postgres/voicemail.ts):
// the SQL text (both engines run it; `?` placeholders), the row shape, the
// checks of what deposit() and setFolder() take, and the message ids.
import { randomBytes } from 'node:crypto';
import { StoreError } from './errors.ts';
import { VOICEMAIL_FOLDERS, type VoicemailCounts, type VoicemailFolder, type VoicemailMessage } from './types.ts';

export const META_COLUMNS = 'id, mailbox, caller, caller_name, received_at, duration_ms, folder, bytes';
export const SQL = {
  user: 'SELECT 1 FROM users WHERE extension = ?',
  insert: `INSERT INTO voicemail_messages (${META_COLUMNS}, wav) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  list: `SELECT ${META_COLUMNS} FROM voicemail_messages WHERE mailbox = ? ORDER BY received_at, id`,
  listFolder: `SELECT ${META_COLUMNS} FROM voicemail_messages WHERE mailbox = ? AND folder = ? ORDER BY received_at, id`,
  get: `SELECT ${META_COLUMNS} FROM voicemail_messages WHERE mailbox = ? AND id = ?`,
  audio: 'SELECT wav FROM voicemail_messages WHERE mailbox = ? AND id = ?',
  setFolder: 'UPDATE voicemail_messages SET folder = ? WHERE mailbox = ? AND id = ? AND folder <> ?',
  exists: 'SELECT folder FROM voicemail_messages WHERE mailbox = ? AND id = ?',
  remove: 'DELETE FROM voicemail_messages WHERE mailbox = ? AND id = ?',
  counts: 'SELECT folder, count(*) AS n FROM voicemail_messages WHERE mailbox = ? GROUP BY folder',
  allCounts: 'SELECT mailbox, folder, count(*) AS n FROM voicemail_messages GROUP BY mailbox, folder',
  greeting: 'SELECT wav FROM voicemail_greetings WHERE mailbox = ?',
  setGreeting: `INSERT INTO voicemail_greetings (mailbox, wav, updated_at) VALUES (?, ?, ?)
    ON CONFLICT (mailbox) DO UPDATE SET wav = excluded.wav, updated_at = excluded.updated_at`,
  removeGreeting: 'DELETE FROM voicemail_greetings WHERE mailbox = ?',
  lastSeq: 'SELECT max(seq) AS seq FROM voicemail_changes',
  changes: 'SELECT seq, mailbox FROM voicemail_changes WHERE seq > ? ORDER BY seq LIMIT ?',
  trim: 'DELETE FROM voicemail_changes WHERE seq <= ?',
} as const;

export interface MessageRow {
  id: string;
  mailbox: string;
  caller: string;
  caller_name: string;
  received_at: number;
  duration_ms: number;
  folder: string;
  bytes: number;
}

export function toMessage(r: MessageRow): VoicemailMessage {
  return {
    id: r.id, mailbox: r.mailbox, caller: r.caller, callerName: r.caller_name, receivedAt: Number(r.received_at),
    durationMs: Number(r.duration_ms), folder: r.folder === 'saved' ? 'saved' : 'new', bytes: Number(r.bytes),
  };
}

/** Caller number and name as they came from the network: kept, but bounded. */
const TEXT_MAX = 256;

/** Bind values of SQL.insert for a checked deposit. @throws StoreError invalid */
export function depositValues(
  mailbox: string, meta: { caller: string; callerName: string; receivedAt: number; durationMs: number }, wav: Buffer,
): { message: VoicemailMessage; values: unknown[] } {
  if (typeof mailbox !== 'string' || mailbox.length === 0) throw new StoreError('invalid', 'mailbox', 'mailbox: must be an extension');
  checkWav(wav);
  for (const k of ['receivedAt', 'durationMs'] as const) {
    if (!Number.isSafeInteger(meta?.[k]) || meta[k] < 0) throw new StoreError('invalid', k, `${k}: must be a whole number >= 0`);
  }
  const message: VoicemailMessage = {
    id: newMessageId(), mailbox, caller: String(meta.caller ?? '').slice(0, TEXT_MAX), callerName: String(meta.callerName ?? '').slice(0, TEXT_MAX),
    receivedAt: meta.receivedAt, durationMs: meta.durationMs, folder: 'new', bytes: wav.length,
  };
  const m = message;
  return { message, values: [m.id, m.mailbox, m.caller, m.callerName, m.receivedAt, m.durationMs, m.folder, m.bytes, wav] };
}

/** The store keeps any non-empty bytes; whether they are a good WAV is the API's and the app's to check. @throws StoreError invalid */
export function checkWav(wav: unknown): asserts wav is Buffer {
  if (!Buffer.isBuffer(wav) || wav.length === 0) throw new StoreError('invalid', 'wav', 'wav: must be a non-empty WAV file');
}

/** @throws StoreError invalid */
export function checkFolder(folder: unknown): VoicemailFolder {
  if (!VOICEMAIL_FOLDERS.includes(folder as VoicemailFolder)) throw new StoreError('invalid', 'folder', `folder: must be one of ${VOICEMAIL_FOLDERS.join(', ')}`);
  return folder as VoicemailFolder;
}

/**
 * 16 hex digits, random: unique across the nodes sharing a database without
 * a sequence to coordinate; a collision (64 bits) would fail the insert on
 * the primary key, never overwrite a message.
 */
export function newMessageId(): string {
  return randomBytes(8).toString('hex');
}

export function countsOf(rows: readonly { folder: string; n: number | string }[]): VoicemailCounts {
  const c: VoicemailCounts = { new: 0, saved: 0 };
  for (const r of rows) c[r.folder === 'saved' ? 'saved' : 'new'] += Number(r.n);
  return c;
}

export function allCountsOf(rows: readonly { mailbox: string; folder: string; n: number | string }[]): Map<string, VoicemailCounts> {
  const out = new Map<string, VoicemailCounts>();
  for (const r of rows) {
    let c = out.get(r.mailbox);
    if (!c) out.set(r.mailbox, (c = { new: 0, saved: 0 }));
    c[r.folder === 'saved' ? 'saved' : 'new'] += Number(r.n);
  }
  return out;
}

export function noSuchUser(mailbox: string): StoreError {
  return new StoreError('not-found', 'mailbox', `no user with extension ${String(mailbox)}`);
}
