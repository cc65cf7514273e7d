// The auto attendant (SPEC AC-09): a menu's greeting, then the caller's key
// decides — ring an extension or a hunt group, leave a message, go to
// another menu, type an extension — with the menu's own handling of a
// timeout and of a key that means nothing. Sending the caller on is a blind
// transfer the B2BUA carries out (REFER); when the target cannot be reached
// the caller stays with us and hears the menu again.
import type { Logger } from '../../lib/log.ts';
import type { IvrAction, IvrDigit, IvrMenu } from '../../model/ivr-menu.ts';
import { IVR_DEFAULT_PROMPT } from '../../model/ivr-menu.ts';
import type { User } from '../../store/types.ts';
import type { AppSession } from '../apps/session.ts';
import { APP } from '../routing/apps.ts';

export interface IvrDeps {
  menu(number: string): IvrMenu | undefined;
  /** An audio file's 8 kHz PCM (a menu's greeting), or undefined. */
  audio(name: string): Promise<Int16Array | undefined>;
  directory: { byExtension(ext: string): User | undefined };
  domain: string;
  log: Logger;
}

/** Menus one call may pass through (menu → menu loops end here). */
const MAX_MENUS = 20;

type Outcome = { next: 'menu'; number: string } | { next: 'again' } | { next: 'done' };

export async function ivr(s: AppSession, number: string, deps: IvrDeps): Promise<void> {
  let menu = deps.menu(number);
  let visited = 0;
  let tries = 0;
  while (menu && !s.ended && visited < MAX_MENUS) {
    const greeting = menu.greeting !== null ? await deps.audio(menu.greeting) : undefined;
    if (greeting) await s.play(greeting);
    else await s.say(IVR_DEFAULT_PROMPT);
    const key = await s.digits.next(menu.timeoutSec * 1000);
    if (s.ended) return;
    const action: IvrAction = key === undefined ? menu.onTimeout : (menu.options[key as IvrDigit] ?? menu.onInvalid);
    if (key !== undefined && menu.options[key as IvrDigit] === undefined) await s.say('ivr-invalid');
    deps.log.info({ menu: menu.number, key: key ?? 'timeout', action: action.type }, 'ivr: choice');
    const outcome = await act(s, action, menu.timeoutSec * 1000, deps);
    if (outcome.next === 'done') return;
    if (outcome.next === 'menu') {
      menu = deps.menu(outcome.number);
      visited++;
      tries = 0;
      continue;
    }
    if (++tries > menu.maxRetries) {
      if (menu.operator !== null && (await send(s, menu.operator, deps))) return;
      await s.say('vm-goodbye');
      return;
    }
  }
}

/** What an action does; `timeoutMs` is the menu's wait for a key (dial-by-extension waits as long for the first digit). */
async function act(s: AppSession, action: IvrAction, timeoutMs: number, deps: IvrDeps): Promise<Outcome> {
  switch (action.type) {
    case 'extension':
    case 'huntgroup':
      return (await send(s, action.target, deps)) ? { next: 'done' } : { next: 'again' };
    case 'voicemail':
      return (await send(s, `${APP.deposit}-${action.target}`, deps)) ? { next: 'done' } : { next: 'again' };
    case 'menu':
      return { next: 'menu', number: action.target };
    case 'dial-by-extension': {
      const ext = await s.entry(['ivr-enter-extension'], 16, timeoutMs);
      if (ext === undefined) return { next: 'again' };
      const user = deps.directory.byExtension(ext);
      if (!user || !user.enabled) {
        await s.say('ivr-invalid');
        return { next: 'again' };
      }
      return (await send(s, ext, deps)) ? { next: 'done' } : { next: 'again' };
    }
    case 'repeat':
      return { next: 'again' };
    case 'hangup':
      await s.say('vm-goodbye');
      return { next: 'done' };
  }
  return { next: 'done' };
}

/** Transfers the caller; true when the call went on (the B2BUA ends our leg), false to keep serving the caller. */
async function send(s: AppSession, number: string, deps: IvrDeps): Promise<boolean> {
  await s.say('ivr-transfer');
  if (s.ended) return true;
  const r = await s.call.transfer(number, deps.domain);
  deps.log.info({ to: number, status: r.status }, 'ivr: transfer');
  if (r.status >= 200 && r.status < 300) return true;
  if (!s.ended) await s.say('ivr-unavailable');
  return s.ended;
}
