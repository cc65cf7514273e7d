// The media settings that apply to one side of a call: the user's own
// settings over the system's, and the system's over the config file (the
// database overrides the CLI and API write are polled, so a change applies to
// the next call without a restart).
import type { Config } from '../../config/schema.ts';
import type { Logger } from '../../lib/log.ts';
import type { SettingsRepository } from '../../store/admin-types.ts';
import type { User, UserMediaSettings } from '../../store/types.ts';
import { validMedia } from '../../store/user-validate.ts';

export type SystemMedia = Config['media'];

/** Everything the B2BUA needs to know about one side's media. */
export interface MediaProfile {
  security: 'disabled' | 'best-effort' | 'enforced';
  encryptedSrtcp: boolean;
  directMedia: boolean;
  dtmf: 'rfc4733' | 'info';
  capneg: boolean;
  transport: 'any' | 'tls';
  suites: readonly string[];
  codecs: readonly string[];
  /** Extras on the a=crypto lines we send this side (RFC 4568 key lifetime "2^31", MKI length in bytes; D-09). */
  sdes?: { lifetime?: string; mkiLength?: number };
  /** The telephone-event payload type this side is offered (B-09), when it is not the other side's. */
  dtmfPayloadType?: number;
  /** Length of the RFC 4733 digits we generate toward this side (B-09). */
  dtmfDurationMs?: number;
  /** Offers from this side are passed on with their single best codec, so the answer holds one (B-11). */
  answerSingleCodec?: boolean;
  /** Offers from this side are passed on in this side's codec order, so the answer follows it (B-11). */
  answerPreferredCodec?: boolean;
  /**
   * This side also names G.729 "G729A" (B-11): offers to it list G.729 under
   * both names, and its G729A is G.729 (payload type 18) to the other side.
   * Payload types are then renumbered, so such a side is always relayed.
   */
  g729a?: boolean;
}

export function resolveProfile(system: SystemMedia, codecs: readonly string[], own: Readonly<UserMediaSettings> = {}): MediaProfile {
  return {
    security: own.security ?? system.security,
    encryptedSrtcp: (own.srtcp ?? system.srtcp) === 'encrypted',
    directMedia: own.directMedia ?? system.directMedia,
    dtmf: own.dtmf ?? system.dtmf,
    capneg: own.capneg ?? system.capneg,
    transport: own.transport ?? system.transport,
    suites: system.suites,
    codecs,
  };
}

const KEY_PREFIX = 'media.';

/** config.media with the database's media.* overrides on top, re-read every pollMs. */
export class SystemMediaSettings {
  current: SystemMedia;
  private timer: NodeJS.Timeout | undefined;
  private lastJson = '';

  constructor(
    private readonly base: SystemMedia,
    private readonly repo: SettingsRepository,
    private readonly log: Logger,
  ) {
    this.current = base;
  }

  /** Reads the overrides now, then every pollMs. */
  async start(pollMs = 1000): Promise<void> {
    await this.poll();
    this.timer = setInterval(() => void this.poll(), pollMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  async poll(): Promise<void> {
    let all: Record<string, unknown>;
    try {
      all = await this.repo.getAll();
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'media settings: cannot read the store');
      return;
    }
    const patch: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(all)) if (k.startsWith(KEY_PREFIX)) patch[k.slice(KEY_PREFIX.length)] = v;
    const json = JSON.stringify(patch);
    if (json === this.lastJson) return;
    this.lastJson = json;
    let valid: Readonly<UserMediaSettings>;
    try {
      // The same rules as a user's settings: a bad stored value is reported, not applied.
      valid = validMedia({}, patch);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'media settings: stored override ignored');
      return;
    }
    const b = this.base;
    this.current = {
      ...b,
      security: valid.security ?? b.security,
      srtcp: valid.srtcp ?? b.srtcp,
      directMedia: valid.directMedia ?? b.directMedia,
      dtmf: valid.dtmf ?? b.dtmf,
      capneg: valid.capneg ?? b.capneg,
      transport: valid.transport ?? b.transport,
    };
  }
}

/** A side's profile: a local user's settings, or the system's for trunks and unknown parties. */
export function profileOf(system: SystemMedia, user: User | undefined, defaultCodecs: readonly string[]): MediaProfile {
  return resolveProfile(system, user?.codecs ?? defaultCodecs, user?.media);
}
