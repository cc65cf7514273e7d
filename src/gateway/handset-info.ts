// B-14 "device fields fill in automatically when the handset subscribes":
// a gateway user's handset registering here has its model and firmware
// taken from the REGISTER's User-Agent and kept on its line, written only
// when they change (not per refresh).
import type { Logger } from '../lib/log.ts';
import type { GatewayRepository } from '../store/gateway-types.ts';

export interface HandsetIdentity {
  model: string;
  firmware: string;
}

/** The store's field length (handsetInfoSchema). */
const MAX_FIELD = 64;
/** Longer User-Agents are cut before parsing. */
const MAX_INPUT = 256;

/**
 * Model and firmware from a User-Agent: "Name/version ..." (RFC 3261 §20.41
 * product tokens) gives the first product and its version; words without a
 * slash ("Spectralink 7202 PCS20GA", "Yealink W70B 146.85.0.20") give the
 * last word as the firmware when it has a digit, the words before it as the
 * model. Comments in parentheses and control characters are dropped.
 */
export function parseHandsetUserAgent(userAgent: string): HandsetIdentity {
  let s = '';
  for (let i = 0; i < userAgent.length && i < MAX_INPUT; i++) {
    const c = userAgent.charCodeAt(i);
    s += c < 0x20 || c === 0x7f ? ' ' : userAgent[i];
  }
  const comment = s.indexOf('(');
  if (comment >= 0) s = s.slice(0, comment);
  const words = s.split(' ').filter((w) => w.length > 0);
  const first = words[0];
  if (first === undefined) return { model: '', firmware: '' };
  const slash = first.indexOf('/');
  if (slash >= 0) return bounded(first.slice(0, slash), first.slice(slash + 1));
  const last = words[words.length - 1]!;
  if (words.length > 1 && /\d/.test(last)) return bounded(words.slice(0, -1).join(' '), last);
  return bounded(words.join(' '), '');
}

function bounded(model: string, firmware: string): HandsetIdentity {
  return { model: model.slice(0, MAX_FIELD), firmware: firmware.slice(0, MAX_FIELD) };
}

/** A user without a line is looked up again after this long (a line may be added meanwhile). */
const NO_LINE_RECHECK_MS = 5 * 60_000;
/** Extensions remembered at most; beyond that the memory starts over. */
const MAX_REMEMBERED = 100_000;

/**
 * Records the handset of a gateway user when it registers. Remembers per
 * extension what it last saw, so a refresh with the same User-Agent costs
 * no store access; a user without a line is looked up again only after
 * NO_LINE_RECHECK_MS.
 */
export class HandsetRecorder {
  private readonly seen = new Map<string, { userAgent: string; line: boolean; at: number }>();

  constructor(private readonly deps: { repo: Pick<GatewayRepository, 'getLine' | 'recordHandset'>; now: () => number; log: Logger }) {}

  /** A handset of `extension` registered with this User-Agent (null: none sent). */
  registered(extension: string, userAgent: string | null): void {
    if (userAgent === null) return;
    const prev = this.seen.get(extension);
    if (prev && prev.userAgent === userAgent && (prev.line || this.deps.now() - prev.at < NO_LINE_RECHECK_MS)) return;
    if (this.seen.size >= MAX_REMEMBERED) this.seen.clear();
    const entry = { userAgent, line: true, at: this.deps.now() };
    this.seen.set(extension, entry);
    void this.record(extension, entry).catch((err: Error) => {
      // Tried again on the next registration.
      this.seen.delete(extension);
      this.deps.log.warn({ extension, err: err.message }, 'gateway: could not record the handset model');
    });
  }

  private async record(extension: string, entry: { userAgent: string; line: boolean }): Promise<void> {
    const line = await this.deps.repo.getLine(extension);
    if (!line) {
      entry.line = false;
      return;
    }
    const { model, firmware } = parseHandsetUserAgent(entry.userAgent);
    if (line.handset.model === model && line.handset.firmware === firmware) return;
    await this.deps.repo.recordHandset(extension, { model, firmware });
  }
}
