// The System Status page's picture of the server, kept up to date from the
// feed's messages. No DOM here, so it is tested in plain Node.
import type { Alarm, CallStatus, ExtensionStatus, FeedMessage, ParkedCall, TrunkStatus } from './types.ts';

export type Connection = 'connecting' | 'live' | 'reconnecting' | 'stopped';

export interface LiveState {
  connection: Connection;
  extensions: Map<string, ExtensionStatus>;
  calls: Map<string, CallStatus>;
  alarms: Map<string, Alarm>;
  trunks: TrunkStatus[];
  /**
   * Calls waiting in park slots, by slot. The feed sends them in its snapshot
   * only; a call message (a park or an unpark changes its call) makes the
   * page read them again from GET /api/status (live.ts).
   */
  parked: ParkedCall[];
  /** Server clock minus this browser's, from the snapshot (for call durations). */
  clockOffsetMs: number;
  /** Counts applied changes; changes whenever something did. */
  version: number;
}

export function applyMessage(s: LiveState, m: FeedMessage): void {
  switch (m.type) {
    case 'snapshot':
      s.extensions = new Map(m.status.extensions.map((e) => [e.extension, e]));
      s.calls = new Map(m.status.calls.map((c) => [c.ref, c]));
      s.alarms = new Map(m.alarms.map((a) => [a.id, a]));
      s.trunks = m.status.trunks ?? [];
      s.parked = m.status.parked ?? [];
      s.clockOffsetMs = m.status.at - Date.now();
      break;
    case 'extension':
      // The snapshot holds registered extensions and those in calls; keep the same rule for updates.
      if (!m.extension.registered && m.extension.calls === 0) s.extensions.delete(m.extension.extension);
      else s.extensions.set(m.extension.extension, m.extension);
      break;
    case 'call':
      if (m.ended || m.call.state === 'ended') s.calls.delete(m.call.ref);
      else s.calls.set(m.call.ref, m.call);
      break;
    case 'trunk': {
      // A new array: the trunk table re-renders on identity.
      const others = s.trunks.filter((t) => t.trunk !== m.trunk.trunk);
      s.trunks = [...others, m.trunk].sort((a, b) => (a.trunk < b.trunk ? -1 : a.trunk > b.trunk ? 1 : 0));
      break;
    }
    case 'alarm':
      if (m.event === 'cleared') s.alarms.delete(m.alarm.id);
      else s.alarms.set(m.alarm.id, m.alarm);
      break;
  }
  s.version++;
}

