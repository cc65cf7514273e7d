// The message-summary event package's body (RFC 3842 §3.5 and the syntax of
// §5: application/simple-message-summary): Messages-Waiting, Message-Account and
// one "new/old (urgent_new/urgent_old)" line per message context class.
// Optional message headers after the blank line are ignored when parsing and
// never written.

export const MESSAGE_SUMMARY = 'message-summary';
export const MESSAGE_SUMMARY_TYPE = 'application/simple-message-summary';

export interface MessageCounts {
  new: number;
  old: number;
  urgentNew?: number;
  urgentOld?: number;
}

export interface MessageSummary {
  waiting: boolean;
  /** The mailbox's URI (Message-Account), when given. */
  account?: string;
  /** By message context class, lower-cased: 'voice-message', 'fax-message', ... (RFC 3458). */
  counts: Map<string, MessageCounts>;
}

/**
 * The body for a voice mailbox: waiting while any message is new, unless the
 * caller knows better (a relayed upstream summary may say yes without counts).
 */
export function formatMessageSummary(account: string | undefined, voice: { new: number; old: number }, waiting = voice.new > 0): Buffer {
  let text = `Messages-Waiting: ${waiting ? 'yes' : 'no'}\r\n`;
  if (account !== undefined) text += `Message-Account: ${account}\r\n`;
  text += `Voice-Message: ${voice.new}/${voice.old} (0/0)\r\n`;
  return Buffer.from(text);
}

/**
 * Bounds for a body from the network (an upstream's NOTIFY): only this much
 * of it is read, and only this many message classes kept (RFC 3458 names a
 * handful), so a hostile body costs bounded work and memory.
 */
export const MAX_SUMMARY_CHARS = 4096;
export const MAX_SUMMARY_CLASSES = 16;

const COUNTS = /^(\d{1,9})\s*\/\s*(\d{1,9})(?:\s*\(\s*(\d{1,9})\s*\/\s*(\d{1,9})\s*\))?$/;

/** Parses a body; undefined when it has no valid Messages-Waiting line. Lines it does not know are skipped. */
export function parseMessageSummary(body: Buffer | string): MessageSummary | undefined {
  const text = typeof body === 'string' ? body.slice(0, MAX_SUMMARY_CHARS) : body.toString('utf8', 0, Math.min(body.length, MAX_SUMMARY_CHARS));
  let waiting: boolean | undefined;
  let account: string | undefined;
  const counts = new Map<string, MessageCounts>();
  for (const line of text.split(/\r?\n/)) {
    // The message summary ends at the first empty line; message headers may follow.
    if (line.trim() === '') {
      if (waiting !== undefined) break;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'messages-waiting') {
      const v = value.toLowerCase();
      if (v === 'yes' || v === 'no') waiting = v === 'yes';
    } else if (name === 'message-account') {
      if (value.length > 0) account = value;
    } else {
      const m = COUNTS.exec(value);
      if (!m || (counts.size >= MAX_SUMMARY_CLASSES && !counts.has(name))) continue;
      const c: MessageCounts = { new: Number(m[1]), old: Number(m[2]) };
      if (m[3] !== undefined) {
        c.urgentNew = Number(m[3]);
        c.urgentOld = Number(m[4]);
      }
      counts.set(name, c);
    }
  }
  if (waiting === undefined) return undefined;
  return account === undefined ? { waiting, counts } : { waiting, account, counts };
}
