// Call records in words, for the call log everywhere (API CSV, CLI, web UI):
// dispositions and SIP statuses an administrator can read. No dependencies
// beyond the reason phrases, so the web UI bundles it as it is.
import { reasonPhrase } from '../sip/reason-phrases.ts';
import type { CallDisposition, Cdr } from '../store/types.ts';

/** Dispositions in words (the caller's point of view). */
export const DISPOSITION_WORDS: Readonly<Record<CallDisposition, string>> = {
  'answered': 'Answered',
  'no-answer': 'No answer',
  'busy': 'Busy',
  'cancelled': 'Cancelled by the caller',
  'rejected': 'Refused',
  'failed': 'Failed',
};

/** "403 Forbidden — Outbound Calls Not Permitted": the status, its standard phrase, and the reason when it says more. */
export function statusWords(status: number, reason = ''): string {
  const phrase = reasonPhrase(status);
  const head = status === 0 ? 'no final answer' : `${status} ${phrase}`;
  return reason !== '' && reason !== phrase ? `${head} — ${reason}` : head;
}

/** Talk time in whole seconds; 0 for calls nobody answered. */
export function talkSeconds(c: Pick<Cdr, 'answeredAt' | 'endedAt'>): number {
  return c.answeredAt === null ? 0 : Math.max(0, Math.round((c.endedAt - c.answeredAt) / 1000));
}

