// Conference rooms on the media server (SPEC EC-05, D-23): meet-me rooms by
// number, with an optional PIN, and the ad-hoc rooms the conference code
// makes for a handset's three-way call. Every participant's endpoint joins
// the room's mixer (each hears the others, never itself); SRTP and plain
// participants meet here as plain RTP, the relay having taken the SRTP off.
// A room lives while someone is in it.
import type { Logger } from '../../lib/log.ts';
import type { MediaClock } from '../../media/media-clock.ts';
import { ConferenceMixer } from '../../media/mixer.ts';
import type { MixerPort } from '../../media/mixer.ts';
import type { AppSession } from '../apps/session.ts';

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

interface Room {
  readonly id: string;
  readonly mixer: ConferenceMixer;
  readonly members: Set<MixerPort>;
  /** Callers in the room or being let in (hearing the welcome): the limit and the welcome count these. */
  seats: number;
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
    // The seat is taken before the welcome: callers arriving together neither all hear "alone" nor overfill the room.
    const room = this.open(arg);
    if (room.seats >= config.maxParticipants) {
      await s.say('conf-full');
      return;
    }
    room.seats++;
    if (!adhoc) await s.say(room.seats > 1 ? 'conf-joined' : 'conf-alone');
    if (s.ended) {
      this.leave(room);
      return;
    }
    await this.join(room, s);
  }

  private open(id: string): Room {
    let room = this.rooms.get(id);
    if (!room) {
      room = { id, mixer: new ConferenceMixer(this.deps.clock), members: new Set(), seats: 0 };
      this.rooms.set(id, room);
    }
    return room;
  }

  /** A seat is given up; the last one closes the room. */
  private leave(room: Room): void {
    room.seats--;
    if (room.seats === 0 && this.rooms.get(room.id) === room) {
      room.mixer.close();
      this.rooms.delete(room.id);
    }
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
  private join(room: Room, s: AppSession): Promise<void> {
    const port = s.call.endpoint;
    room.members.add(port);
    room.mixer.add(port);
    this.deps.log.info({ room: room.id, caller: s.call.caller.number, participants: room.members.size }, 'conference: joined');
    return new Promise((resolve) => {
      s.call.onEnd(() => {
        room.members.delete(port);
        room.mixer.remove(port);
        this.deps.log.info({ room: room.id, caller: s.call.caller.number, participants: room.members.size }, 'conference: left');
        this.leave(room);
        resolve();
      });
    });
  }
}
