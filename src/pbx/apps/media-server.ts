// The media server of one process, put together: the app host (SIP side),
// the media clock and endpoints (media side, ports from the relay's pool),
// the prompts, and the applications — voicemail deposit and login, IVR
// menus, conference rooms, music on hold — with what each reads from the
// store. The call engine reaches it through `routing` and `numbers`.
import type { Logger } from '../../lib/log.ts';
import type { TimerQueue } from '../../lib/timer-queue.ts';
import type { Clock } from '../../sip/clock.ts';
import type { Endpoint } from '../../sip/message.ts';
import { MediaEndpoint } from '../../media/endpoint.ts';
import { RealMediaClock } from '../../media/media-clock.ts';
import type { MediaClock } from '../../media/media-clock.ts';
import { DEFAULT_MOH_FILE, PromptSet } from '../../media/prompts.ts';
import { readWavAt, writeWav } from '../../media/wav.ts';
import type { PortPool } from '../../media/port-pool.ts';
import { readFileSync } from 'node:fs';
import type { User, UserRepository, VoicemailRepository } from '../../store/types.ts';
import type { AudioFileRepository } from '../../store/app-types.ts';
import type { ConferenceRoom } from '../../model/conference-room.ts';
import type { IvrMenu } from '../../model/ivr-menu.ts';
import type { ShortCodeMatch } from '../../model/short-code.ts';
import type { VoicemailConfig } from '../../config/voicemail.ts';
import { AppHost, appProfile } from './host.ts';
import type { AppCall } from './app-call.ts';
import { AppSession } from './session.ts';
import type { VoiceEndpoint } from './session.ts';
import { APP } from '../routing/apps.ts';
import type { AppNumbers } from '../routing/apps.ts';
import type { AppRouting } from '../routing/targets.ts';
import { LoginLockout, serveVoicemail } from '../voicemail/voicemail.ts';
import { ivr } from '../ivr/ivr.ts';
import { Conferences } from '../conference/conference.ts';

export interface MediaServerDeps {
  log: Logger;
  timers: TimerQueue;
  clock: Clock;
  now(): number;
  domain: string;
  /** The B2BUA's UDP listener. */
  server(): { address: string; port: number } | undefined;
  /** Media ports (the relay's pool) and the address written into our SDP. */
  pool: PortPool;
  advertiseAddress: string;
  suites: readonly string[];
  voicemail: VoicemailRepository;
  voicemailConfig: VoicemailConfig;
  users: Pick<UserRepository, 'update'>;
  directory: { byExtension(ext: string): User | undefined };
  audioFiles: AudioFileRepository;
  tables: {
    ivrByNumber(number: string): IvrMenu | undefined;
    roomByNumber(number: string): ConferenceRoom | undefined;
    mohFile(): string | null;
    match(dialled: string): ShortCodeMatch | undefined;
  };
  /** A manual media clock for tests; a real one otherwise. */
  mediaClock?: MediaClock;
  /** Prompts directory (tests may not need another). */
  promptsDir?: string;
}

/** Audio files decoded at most (greetings and music are small; a flood of names cannot grow memory). */
const AUDIO_CACHE = 64;

export class MediaServer {
  readonly host: AppHost;
  readonly conferences: Conferences;
  readonly mediaClock: MediaClock;
  private readonly prompts: PromptSet;
  private readonly defaultMoh: Int16Array;
  private readonly audioCache = new Map<string, { version: string; pcm: Int16Array }>();

  constructor(private readonly deps: MediaServerDeps) {
    this.mediaClock = deps.mediaClock ?? new RealMediaClock(undefined, (err) => deps.log.error({ err: (err as Error).message }, 'media clock handler failed'));
    this.prompts = PromptSet.load(deps.promptsDir);
    this.defaultMoh = readWavAt(readFileSync(DEFAULT_MOH_FILE));
    this.host = new AppHost({
      log: deps.log,
      timers: deps.timers,
      clock: deps.clock,
      now: deps.now,
      domain: deps.domain,
      server: deps.server,
      openEndpoint: () => MediaEndpoint.create({ pool: deps.pool, clock: this.mediaClock, advertiseAddress: deps.advertiseAddress, logger: deps.log }),
    });
    this.conferences = new Conferences({
      room: (n) => deps.tables.roomByNumber(n),
      clock: this.mediaClock,
      log: deps.log,
    });
    const session = (call: AppCall) => new AppSession(call as AppCall<VoiceEndpoint>, this.prompts, deps.timers);
    const audio = {
      decode: (wav: Buffer) => this.decode(wav),
      encode: (pcm: Int16Array) => writeWav(pcm),
    };
    if (deps.voicemailConfig.enabled) serveVoicemail(this.host, session, {
      voicemail: deps.voicemail,
      directory: deps.directory,
      users: deps.users,
      settings: () => deps.voicemailConfig,
      audio,
      lockout: new LoginLockout(deps.now),
      log: deps.log,
      now: deps.now,
    });
    this.host.register(APP.ivr, (call, number) => ivr(session(call), number, {
      menu: (n) => deps.tables.ivrByNumber(n),
      audio: (name) => this.audioFile(name),
      directory: deps.directory,
      domain: deps.domain,
      log: deps.log,
    }));
    this.host.register(APP.conference, (call, room) => this.conferences.serve(session(call), room));
    this.host.register(APP.moh, (call) => this.music(call as AppCall<VoiceEndpoint>));
  }

  start(): Promise<void> {
    return this.host.start();
  }

  stop(): Promise<void> {
    return this.host.stop();
  }

  /** What routing needs: where the applications are, and the media their endpoints speak. */
  get routing(): AppRouting {
    const host = this.host;
    const profile = appProfile(this.deps.suites);
    return {
      has: (name) => host.has(name),
      uri: (name, arg) => host.uri(name, arg),
      get endpoint(): Endpoint | undefined {
        return host.endpoint;
      },
      profile,
    };
  }

  get numbers(): AppNumbers {
    const d = this.deps;
    return {
      voicemailNumber: () => d.voicemailConfig.number,
      shortCode: (dialled) => d.tables.match(dialled),
      isMenu: (n) => d.tables.ivrByNumber(n) !== undefined,
      isRoom: (n) => d.tables.roomByNumber(n) !== undefined,
    };
  }

  /** Music on hold: the chosen file (or the one that ships), looped until the holder resumes. */
  private async music(call: AppCall<VoiceEndpoint>): Promise<void> {
    const name = this.deps.tables.mohFile();
    const pcm = (name !== null ? await this.audioFile(name) : undefined) ?? this.defaultMoh;
    if (call.ended) return;
    await call.endpoint.play(pcm, { loop: true });
  }

  private decode(wav: Buffer): Int16Array | undefined {
    try {
      return readWavAt(wav);
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message }, 'media server: stored audio not readable');
      return undefined;
    }
  }

  /** An audio file of the store as 8 kHz PCM, cached while unchanged. */
  private async audioFile(name: string): Promise<Int16Array | undefined> {
    const meta = await this.deps.audioFiles.get(name);
    if (!meta) return undefined;
    // A file put again under its name is a new file: its time and size tell.
    const version = `${meta.createdAt}/${meta.size}`;
    const cached = this.audioCache.get(name);
    if (cached && cached.version === version) return cached.pcm;
    const bytes = await this.deps.audioFiles.read(name);
    const pcm = bytes ? this.decode(Buffer.from(bytes)) : undefined;
    if (!pcm) return undefined;
    if (this.audioCache.size >= AUDIO_CACHE) this.audioCache.delete(this.audioCache.keys().next().value!);
    this.audioCache.set(name, { version, pcm });
    return pcm;
  }
}
