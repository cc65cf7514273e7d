// Voicemail on the media server: the deposit application (a user's calls
// that nobody takes) and the mailbox login (the voicemail number from any
// phone, the voicemail short code from one's own), what both need, and the
// lockout that keeps a caller from guessing codes call after call.
import type { Logger } from '../../lib/log.ts';
import type { User, UserRepository, VoicemailRepository } from '../../store/types.ts';
import type { AppHost } from '../apps/host.ts';
import type { AppSession } from '../apps/session.ts';
import { APP } from '../routing/apps.ts';
import { deposit } from './deposit.ts';
import { mailboxMenu } from './mailbox-menu.ts';

export interface VoicemailSettings {
  maxMessageSec: number;
  minMessageMs: number;
  maxMessages: number;
}

export interface VoicemailDeps {
  voicemail: VoicemailRepository;
  directory: { byExtension(ext: string): User | undefined };
  users: Pick<UserRepository, 'update'>;
  settings(): VoicemailSettings;
  /** WAV <-> 8 kHz PCM (src/media/wav.ts). */
  audio: { decode(wav: Buffer): Int16Array | undefined; encode(pcm: Int16Array): Buffer };
  lockout: LoginLockout;
  log: Logger;
  now(): number;
}

/** Registers the voicemail applications; `session` wraps an answered call for them. */
export function serveVoicemail(host: AppHost, session: (call: Parameters<Parameters<AppHost['register']>[1]>[0]) => AppSession, deps: VoicemailDeps): void {
  host.register(APP.deposit, (call, mailbox) => deposit(session(call), mailbox, deps));
  host.register(APP.login, (call, mailbox) => mailboxMenu(session(call), mailbox === '' ? undefined : mailbox, deps));
}

/** Wrong codes per mailbox before it is locked, and for how long. */
const LOCK_AFTER = 5;
const LOCK_MS = 15 * 60_000;
/** Mailboxes with failures remembered at most (a sweep of unknown numbers cannot grow memory). */
const MAX_TRACKED = 10_000;

/**
 * Failed logins per mailbox across calls: after LOCK_AFTER wrong codes the
 * mailbox takes no login for LOCK_MS, whoever calls. Only the phone login is
 * locked: the owner's lamp, deposits and the management API go on.
 */
export class LoginLockout {
  private readonly failures = new Map<string, { count: number; until: number }>();

  constructor(private readonly now: () => number) {}

  locked(mailbox: string): boolean {
    const f = this.failures.get(mailbox);
    if (!f) return false;
    if (f.until > 0 && f.until <= this.now()) {
      this.failures.delete(mailbox);
      return false;
    }
    return f.until > 0;
  }

  failed(mailbox: string): void {
    let f = this.failures.get(mailbox);
    if (!f) {
      if (this.failures.size >= MAX_TRACKED) this.failures.delete(this.failures.keys().next().value!);
      f = { count: 0, until: 0 };
      this.failures.set(mailbox, f);
    }
    if (++f.count >= LOCK_AFTER) f.until = this.now() + LOCK_MS;
  }

  succeeded(mailbox: string): void {
    this.failures.delete(mailbox);
  }
}
