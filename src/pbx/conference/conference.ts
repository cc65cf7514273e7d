// Conference rooms on the media server (SPEC EC-05, D-23): meet-me rooms by
// number, with an optional PIN, and the ad-hoc rooms the conference code
// makes for a handset's three-way call. Every participant's endpoint joins
// the room's mixer (each hears the others, never itself); SRTP and plain
// participants meet here as plain RTP, the relay having taken the SRTP off.
// A room lives while someone is in it. With announceJoin, the others hear
// a rising pair of notes when someone joins and a falling one when someone
// leaves.
import type { Logger } from '../../lib/log.ts';
import type { MediaClock } from '../../media/media-clock.ts';
import { ConferenceMixer } from '../../media/mixer.ts';
import { concatPcm, tone } from '../../media/tones.ts';
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

/** The notes of the join and leave announcements (Hz), 150 ms each. */
export const JOIN_NOTES = [1400, 1800] as const;
const note = (hz: number) => tone({ freqs: [hz] }, 150);
const JOIN_TONE = concatPcm(JOIN_NOTES.map(note));
const LEAVE_TONE = concatPcm([...JOIN_NOTES].reverse().map(note));

interface Room {
  readonly id: string;
  readonly mixer: ConferenceMixer;
  readonly members: Set<VoiceEndpoint>;
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
    if ((this.rooms.get(arg)?.seats ?? 0) >= config.maxParticipants) {
      await s.say('conf-full');
      return;
    }
    const room = this.open(arg);
    room.seats++;
    if (!adhoc) await s.say(room.seats > 1 ? 'conf-joined' : 'conf-alone');
    if (s.ended) {
      this.leave(room);
      return;
    }
    await this.join(room, s, config.announceJoin);
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
  private join(room: Room, s: AppSession, announce: boolean): Promise<void> {
    const port = s.call.endpoint;
    room.members.add(port);
    room.mixer.add(port);
    this.deps.log.info({ room: room.id, caller: s.call.caller.number, participants: room.members.size }, 'conference: joined');
    if (announce) this.announce(room, JOIN_TONE, port);
    return new Promise((resolve) => {
      s.call.onEnd(() => {
        room.members.delete(port);
        room.mixer.remove(port);
        this.deps.log.info({ room: room.id, caller: s.call.caller.number, participants: room.members.size }, 'conference: left');
        if (announce) this.announce(room, LEAVE_TONE, port);
        this.leave(room);
        resolve();
      });
    });
  }

  /** Everyone in the room but `about` hears `pcm` (in place of the mix while it plays). */
  private announce(room: Room, pcm: Int16Array, about: VoiceEndpoint): void {
    for (const m of room.members) if (m !== about) void m.play(pcm);
  }
}
