// The System Status page's connection to GET /api/status/ws: a snapshot, then
// every change. Changes are applied to plain maps as they arrive and the page
// re-renders at most a few times a second, so a burst of thousands of
// registrations costs one render. Lost connections are retried with backoff.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Api } from './api.ts';
import type { Alarm, CallStatus, ExtensionStatus, FeedMessage, TrunkStatus } from './types.ts';

export type Connection = 'connecting' | 'live' | 'reconnecting' | 'stopped';

export interface LiveState {
  connection: Connection;
  extensions: Map<string, ExtensionStatus>;
  calls: Map<string, CallStatus>;
  alarms: Map<string, Alarm>;
  trunks: TrunkStatus[];
  /** Server clock minus this browser's, from the snapshot (for call durations). */
  clockOffsetMs: number;
  /** Counts applied changes; changes whenever something did. */
  version: number;
}

const SESSION_ENDED = 4401;
const RENDER_EVERY_MS = 250;
const MAX_ATTEMPTS = 200;

export function applyMessage(s: LiveState, m: FeedMessage): void {
  switch (m.type) {
    case 'snapshot':
      s.extensions = new Map(m.status.extensions.map((e) => [e.extension, e]));
      s.calls = new Map(m.status.calls.map((c) => [c.ref, c]));
      s.alarms = new Map(m.alarms.map((a) => [a.id, a]));
      s.trunks = m.status.trunks ?? [];
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
    case 'alarm':
      if (m.event === 'cleared') s.alarms.delete(m.alarm.id);
      else s.alarms.set(m.alarm.id, m.alarm);
      break;
  }
  s.version++;
}

function feedUrl(): string {
  return `${window.location.protocol === 'https:' ? 'wss' : 'ws'}://${window.location.host}/api/status/ws`;
}

export function useLiveStatus(api: Api, onSessionEnded: () => void): LiveState & { retry: () => void } {
  const state = useRef<LiveState>({
    connection: 'connecting', extensions: new Map(), calls: new Map(), alarms: new Map(), trunks: [], clockOffsetMs: 0, version: 0,
  });
  const [, setTick] = useState(0);
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    let ws: WebSocket | undefined;
    let stopped = false;
    let attempts = 0;
    let reconnectTimer: number | undefined;
    let renderTimer: number | undefined;
    const render = () => {
      if (renderTimer !== undefined || stopped) return;
      renderTimer = window.setTimeout(() => {
        renderTimer = undefined;
        setTick((t) => t + 1);
      }, RENDER_EVERY_MS);
    };
    const setConnection = (c: Connection) => {
      state.current.connection = c;
      setTick((t) => t + 1);
    };
    const connect = () => {
      attempts++;
      ws = new WebSocket(feedUrl());
      ws.onopen = () => {
        attempts = 0;
        setConnection('live');
      };
      ws.onmessage = (ev) => {
        try {
          applyMessage(state.current, JSON.parse(String(ev.data)) as FeedMessage);
        } catch {
          return; // a message this page does not understand: ignore it
        }
        render();
      };
      ws.onclose = (ev) => {
        if (stopped) return;
        if (ev.code === SESSION_ENDED) {
          setConnection('stopped');
          onSessionEnded();
          return;
        }
        if (attempts >= MAX_ATTEMPTS) {
          setConnection('stopped');
          return;
        }
        setConnection('reconnecting');
        // A refused upgrade carries no reason; asking for the session sends a lost one to the login page.
        api.get('/api/session').then(
          () => {
            const delay = Math.min(30_000, 500 * 2 ** Math.min(attempts, 6));
            if (!stopped) reconnectTimer = window.setTimeout(connect, delay);
          },
          () => {
            if (!stopped) reconnectTimer = window.setTimeout(connect, 5000);
          },
        );
      };
    };
    state.current.connection = 'connecting';
    connect();
    return () => {
      stopped = true;
      window.clearTimeout(reconnectTimer);
      window.clearTimeout(renderTimer);
      ws?.close(1000, 'page left');
    };
  }, [generation]);

  return { ...state.current, retry: () => setGeneration((g) => g + 1) };
}
