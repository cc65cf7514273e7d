// Conference rooms on the media server (SPEC EC-05, D-23): meet-me rooms by
// number, with an optional PIN, and the ad-hoc rooms the conference code
// makes for a handset's three-way call. Every participant's endpoint joins
// the room's mixer (each hears the others, never itself); SRTP and plain
// participants meet here as plain RTP, the relay having taken the SRTP off.
// A room lives while someone is in it.
import type { Logger } from '../../lib/log.ts';
import type { MediaClock } from '../../media/media-clock.ts';
import { ConferenceMixer } from '../../media/mixer.ts';
import { BEEP, tone } from '../../media/tones.ts';
import type { AppSession, VoiceEndpoint } from '../apps/session.ts';

/** A meet-me room as configured (src/model/conference-room.ts). */
export interface RoomConfig {
  number: string;
  pin: string | null;
  maxParticipants: number;
  announceJoin: boolean;
}

export interface ConferenceDeps {
  room(number: string): RoomConfig | undefined;
  clock: MediaClock;
  log: Logger;
}

/** Ad-hoc rooms take the dialling user and two parties, and whoever is transferred in later. */
const ADHOC_MAX = 10;
const PIN_TRIES = 3;
const JOIN_TONE = tone(BEEP, 250);

interface Room {
  readonly id: string;
  readonly mixer: ConferenceMixer;
  readonly members: Set<VoiceEndpoint>;
}

export class Conferences {
  private readonly rooms = new Map<string, Room>();

  constructor(private readonly deps: ConferenceDeps) {}

  /** Rooms open now and their participants, for status. */
  list(): { room: string; participants: number }[] {
    return [...this.rooms.values()].map((r) => ({ room: r.id, participants: r.members.size }));
  }

  /** The application: `arg` is a room number or an ad-hoc room id. */
  async serve(s: AppSession, arg: string): Promise<void> {
    const adhoc = arg.startsWith('adhoc-');
    const config = adhoc ? { number: arg, pin: null, maxParticipants: ADHOC_MAX, announceJoin: false } : this.deps.room(arg);
    if (!config) return;
    if (config.pin !== null && !(await this.pin(s, config.pin))) {
      await s.say('conf-pin-wrong', 'vm-goodbye');
      return;
    }
    const room = this.rooms.get(arg);
    if (room && room.members.size >= config.maxParticipants) {
      await s.say('conf-full');
      return;
    }
    if (!adhoc) await s.say(room && room.members.size > 0 ? 'conf-joined' : 'conf-alone');
    if (s.ended) return;
    await this.join(arg, s, config.announceJoin);
  }

  private async pin(s: AppSession, pin: string): Promise<boolean> {
    for (let i = 0; i < PIN_TRIES && !s.ended; i++) {
      const entered = await s.entry(['conf-pin']);
      if (entered === pin) return true;
      if (entered !== undefined && i < PIN_TRIES - 1) await s.say('conf-pin-wrong');
    }
    return false;
  }

  /** In the room until the call ends. */
  private join(id: string, s: AppSession, announce: boolean): Promise<void> {
    let room = this.rooms.get(id);
    if (!room) {
      room = { id, mixer: new ConferenceMixer(this.deps.clock), members: new Set() };
      this.rooms.set(id, room);
    }
    const port = s.call.endpoint;
    // The others hear a short tone when someone comes in (it takes the place of their mix for a quarter second).
    if (announce) for (const other of room.members) void other.play(JOIN_TONE);
    room.members.add(port);
    room.mixer.add(port);
    this.deps.log.info({ room: id, caller: s.call.caller.number, participants: room.members.size }, 'conference: joined');
    const r = room;
    return new Promise((resolve) => {
      s.call.onEnd(() => {
        r.members.delete(port);
        r.mixer.remove(port);
        this.deps.log.info({ room: id, caller: s.call.caller.number, participants: r.members.size }, 'conference: left');
        if (r.members.size === 0 && this.rooms.get(id) === r) {
          r.mixer.close();
          this.rooms.delete(id);
        }
        resolve();
      });
    });
  }
}
