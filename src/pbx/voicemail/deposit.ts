// Leaving a message (SPEC A-10, AC-11): the mailbox owner's greeting (or the
// built-in one), a beep, and a recording that '#', silence, the length limit
// or hanging up ends. What was recorded is stored with who called and when
// once it is longer than the minimum; hanging up is the usual way to finish,
// so a hang-up keeps the message.
import type { AppSession } from '../apps/session.ts';
import type { VoicemailDeps } from './voicemail.ts';

/** Trailing silence that ends a message. */
const SILENCE_MS = 5000;

export async function deposit(s: AppSession, mailbox: string, deps: VoicemailDeps): Promise<void> {
  const owner = deps.directory.byExtension(mailbox);
  if (!owner || !owner.enabled) return;
  const settings = deps.settings();
  const counts = await deps.voicemail.counts(mailbox);
  const full = counts.new + counts.saved >= settings.maxMessages;
  const greeting = await deps.voicemail.greeting(mailbox);
  const pcm = greeting ? deps.audio.decode(greeting) : undefined;
  if (pcm) await s.play(pcm);
  else await s.say('vm-unavailable');
  if (full) {
    deps.log.info({ mailbox }, 'voicemail: mailbox full, message refused');
    await s.say('vm-mailbox-full', 'vm-goodbye');
    return;
  }
  s.digits.clear();
  if (s.ended) return;
  await s.beep();
  const receivedAt = deps.now();
  const rec = await s.call.endpoint.record({ maxMs: settings.maxMessageSec * 1000, silenceMs: SILENCE_MS, endDigits: '#' });
  // The '#' that ended the message is not a key for what follows.
  s.digits.clear();
  const durationMs = Math.round((rec.pcm.length / 8000) * 1000);
  if (durationMs < settings.minMessageMs) {
    if (!s.ended) await s.say('vm-too-short', 'vm-goodbye');
    return;
  }
  const caller = s.call.caller;
  try {
    const msg = await deps.voicemail.deposit(mailbox, { caller: caller.number, callerName: caller.name, receivedAt, durationMs }, deps.audio.encode(rec.pcm));
    deps.log.info({ mailbox, id: msg.id, caller: caller.number, durationMs }, 'voicemail: message left');
  } catch (err) {
    deps.log.error({ mailbox, err: (err as Error).message }, 'voicemail: message not stored');
    if (!s.ended) await s.say('vm-not-saved');
    return;
  }
  if (!s.ended) await s.say('vm-saved', 'vm-goodbye');
}
