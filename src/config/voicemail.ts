// Settings of the mailboxes (the voicemail application, src/pbx/apps/) and of
// message waiting indication (src/pbx/mwi/, RFC 3842).
import { z } from 'zod';

export const voicemailConfigSchema = z.object({
  /** Mailboxes on the media server: coverage of unanswered calls, the voicemail code and number. Off: callers get the busy or unavailable answer. */
  enabled: z.boolean().default(true),
  /** The number that reaches the mailbox login from any phone (mailbox, then voicemail code). */
  number: z.string().regex(/^[0-9*#+]{1,32}$/, 'must be 1-32 dialable characters (digits, *, #, +)').default('8000'),
  /** Longest message a caller may leave, in seconds. */
  maxMessageSec: z.number().int().min(5).max(3_600).default(120),
  /** Messages a mailbox holds at most (new and saved): a full mailbox takes no new ones. */
  maxMessages: z.number().int().min(1).max(10_000).default(100),
  /** Recordings shorter than this are discarded (a caller who hung up at the beep). */
  minMessageMs: z.number().int().min(0).max(60_000).default(1000),
  /** message-summary subscriptions: shortest period granted (a shorter one gets 423), longest, and the default when a SUBSCRIBE names none. */
  mwiMinExpiresSec: z.number().int().min(1).max(86_400).default(60),
  mwiMaxExpiresSec: z.number().int().min(60).max(86_400).default(86_400),
  mwiDefaultExpiresSec: z.number().int().min(60).max(86_400).default(3_600),
});

export type VoicemailConfig = z.output<typeof voicemailConfigSchema>;
