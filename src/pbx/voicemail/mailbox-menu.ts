// Listening to one's messages (SPEC A-10, AC-11): log in with the mailbox
// number and the voicemail code (the voicemail short code from one's own
// phone names the mailbox, and needs no code while none is set), hear how
// many messages wait, then a menu: new messages, saved ones, record the
// greeting, change the code. A new message becomes saved once it has been
// played, so the lamp goes off when the last new one is heard (or deleted).
import { timingSafeEqual } from 'node:crypto';
import type { AppSession } from '../apps/session.ts';
import type { VoicemailFolder, VoicemailMessage } from '../../store/types.ts';
import type { VoicemailDeps } from './voicemail.ts';

/** Tries per call at the mailbox and code questions. */
const LOGIN_TRIES = 3;
/** Times a menu is repeated to a silent caller before we hang up. */
const MENU_REPEATS = 3;
const GREETING_MAX_MS = 60_000;

export async function mailboxMenu(s: AppSession, preset: string | undefined, deps: VoicemailDeps): Promise<void> {
  const mailbox = await login(s, preset, deps);
  if (mailbox === undefined) {
    if (!s.ended) await s.say('vm-goodbye');
    return;
  }
  deps.log.info({ mailbox }, 'voicemail: mailbox login');
  await announce(s, mailbox, deps);
  let silent = 0;
  while (!s.ended) {
    const key = await s.key(['vm-main-menu']);
    if (key === undefined) {
      if (++silent >= MENU_REPEATS) break;
      continue;
    }
    silent = 0;
    if (key === '1') await listen(s, mailbox, 'new', deps);
    else if (key === '2') await listen(s, mailbox, 'saved', deps);
    else if (key === '3') await recordGreeting(s, mailbox, deps);
    else if (key === '4') await changeCode(s, mailbox, deps);
    else if (key === '*') break;
    else await s.say('vm-invalid');
  }
  if (!s.ended) await s.say('vm-goodbye');
}

/** The mailbox the caller proved to own, or undefined. */
async function login(s: AppSession, preset: string | undefined, deps: VoicemailDeps): Promise<string | undefined> {
  for (let i = 0; i < LOGIN_TRIES && !s.ended; i++) {
    const mailbox = preset ?? (await s.entry(['vm-mailbox']));
    if (mailbox === undefined) continue;
    const user = deps.directory.byExtension(mailbox);
    const code = user?.voicemailCode ?? null;
    // From the owner's own phone (already authenticated) with no code set: straight in.
    if (preset !== undefined && user && code === null) return mailbox;
    if (deps.lockout.locked(mailbox)) {
      await s.say('vm-login-failed');
      return undefined;
    }
    const entered = await s.entry(['vm-password']);
    if (entered === undefined) continue;
    if (user && user.enabled && code !== null && sameCode(entered, code)) {
      deps.lockout.succeeded(mailbox);
      return mailbox;
    }
    deps.lockout.failed(mailbox);
    deps.log.warn({ mailbox, caller: s.call.caller.number }, 'voicemail: wrong mailbox or code');
    await s.say('vm-login-failed');
  }
  return undefined;
}

function sameCode(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

async function announce(s: AppSession, mailbox: string, deps: VoicemailDeps): Promise<void> {
  const c = await deps.voicemail.counts(mailbox);
  if (c.new === 0 && c.saved === 0) {
    await s.say('vm-no-messages');
    return;
  }
  await s.say('vm-you-have');
  await s.sayDigits(String(c.new));
  await s.say(c.new === 1 ? 'vm-new-message' : 'vm-new-messages');
  if (c.saved > 0) {
    await s.sayDigits(String(c.saved));
    await s.say(c.saved === 1 ? 'vm-saved-message' : 'vm-saved-messages');
  }
}

/** Plays the folder's messages, oldest first, each followed by its menu. */
async function listen(s: AppSession, mailbox: string, folder: VoicemailFolder, deps: VoicemailDeps): Promise<void> {
  const messages = await deps.voicemail.list(mailbox, folder);
  if (messages.length === 0) {
    await s.say('vm-no-messages');
    return;
  }
  for (let i = 0; i < messages.length && !s.ended; i++) {
    const next = await one(s, mailbox, messages[i]!, i + 1, deps);
    if (next === 'menu') return;
  }
  if (!s.ended) await s.say('vm-no-more');
}

async function one(s: AppSession, mailbox: string, m: VoicemailMessage, n: number, deps: VoicemailDeps): Promise<'next' | 'menu'> {
  const wav = await deps.voicemail.audio(mailbox, m.id);
  const pcm = wav ? deps.audio.decode(wav) : undefined;
  let play = true;
  let silent = 0;
  while (!s.ended) {
    if (play) {
      play = false;
      await s.say('vm-message');
      await s.sayDigits(String(n));
      if (/^[0-9+*#]{1,20}$/.test(m.caller)) {
        await s.say('vm-from');
        await s.sayDigits(m.caller.replace('+', ''));
      }
      if (pcm) await s.play(pcm);
      // Heard (to the end or cut short by a key): no longer new, so the lamp follows.
      if (m.folder === 'new' && (await deps.voicemail.setFolder(mailbox, m.id, 'saved'))) m = { ...m, folder: 'saved' };
    }
    const key = await s.key(['vm-message-menu']);
    if (key === undefined) {
      if (++silent >= 2) return 'next';
      continue;
    }
    silent = 0;
    if (key === '1') play = true;
    else if (key === '2') {
      await deps.voicemail.setFolder(mailbox, m.id, 'saved');
      await s.say('vm-saved');
      return 'next';
    } else if (key === '3') {
      await deps.voicemail.remove(mailbox, m.id);
      deps.log.info({ mailbox, id: m.id }, 'voicemail: message deleted by phone');
      await s.say('vm-deleted');
      return 'next';
    } else if (key === '#') return 'next';
    else if (key === '*') return 'menu';
    else await s.say('vm-invalid');
  }
  return 'menu';
}

async function recordGreeting(s: AppSession, mailbox: string, deps: VoicemailDeps): Promise<void> {
  await s.say('vm-record-greeting');
  s.digits.clear();
  await s.beep();
  const rec = await s.call.endpoint.record({ maxMs: GREETING_MAX_MS, silenceMs: 4000, endDigits: '#' });
  s.digits.clear();
  if (s.ended && rec.pcm.length === 0) return;
  if (rec.pcm.length < 8000) {
    await s.say('vm-too-short');
    return;
  }
  await deps.voicemail.setGreeting(mailbox, deps.audio.encode(rec.pcm));
  deps.log.info({ mailbox }, 'voicemail: greeting recorded');
  await s.say('vm-greeting-saved');
}

async function changeCode(s: AppSession, mailbox: string, deps: VoicemailDeps): Promise<void> {
  const code = await s.entry(['vm-new-code']);
  if (code === undefined) return;
  if (!/^[0-9]{1,16}$/.test(code)) {
    await s.say('vm-code-invalid');
    return;
  }
  try {
    await deps.users.update(mailbox, { voicemailCode: code });
  } catch (err) {
    deps.log.warn({ mailbox, err: (err as Error).message }, 'voicemail: code not changed');
    await s.say('vm-code-invalid');
    return;
  }
  deps.log.info({ mailbox }, 'voicemail: code changed by phone');
  await s.say('vm-code-changed');
}
