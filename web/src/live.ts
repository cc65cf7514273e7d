// The System Status page's connection to GET /api/status/ws: a snapshot, then
// every change. Changes are applied to plain maps as they arrive and the page
// re-renders at most a few times a second, so a burst of thousands of
// registrations costs one render. Lost connections are retried with backoff.
// While the page is visible it tells the server it is watching, which keeps
// the session open for the status past the idle timeout (session-watch.ts).
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Api } from './api.ts';
import { applyMessage, type Connection, type LiveState } from './live-state.ts';
import type { FeedMessage, StatusSnapshot } from './types.ts';
import { WATCH_EVERY_MS } from '../../src/api/session-watch.ts';

export type { Connection, LiveState };

const SESSION_ENDED = 4401;
const RENDER_EVERY_MS = 250;
const MAX_ATTEMPTS = 200;
/** Calls change in bursts (ringing, answer, re-INVITE): the parked list is read once per burst. */
const PARKED_AFTER_MS = 300;

function feedUrl(): string {
  return `${window.location.protocol === 'https:' ? 'wss' : 'ws'}://${window.location.host}/api/status/ws`;
}

export function useLiveStatus(api: Api, onSessionEnded: () => void): LiveState & { retry: () => void } {
  const state = useRef<LiveState>({
    connection: 'connecting', extensions: new Map(), calls: new Map(), alarms: new Map(), trunks: [], parked: [], clockOffsetMs: 0,
    version: 0,
  });
  const [, setTick] = useState(0);
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    let ws: WebSocket | undefined;
    let stopped = false;
    let attempts = 0;
    let reconnectTimer: number | undefined;
    let renderTimer: number | undefined;
    let parkedTimer: number | undefined;
    const sayVisibility = () => {
      if (ws?.readyState === WebSocket.OPEN) ws.send(document.visibilityState === 'visible' ? 'watching' : 'hidden');
    };
    const watchTimer = window.setInterval(() => {
      if (document.visibilityState === 'visible') sayVisibility();
    }, WATCH_EVERY_MS);
    document.addEventListener('visibilitychange', sayVisibility);
    const render = () => {
      if (renderTimer !== undefined || stopped) return;
      renderTimer = window.setTimeout(() => {
        renderTimer = undefined;
        setTick((t) => t + 1);
      }, RENDER_EVERY_MS);
    };
    // The feed has no message of its own for park slots: a parked or unparked call sends a call
    // message, after which the slots are read from the status snapshot.
    const refreshParked = () => {
      if (parkedTimer !== undefined || stopped) return;
      parkedTimer = window.setTimeout(() => {
        parkedTimer = undefined;
        api.get<StatusSnapshot>('/api/status', { background: true }).then((s) => {
          if (stopped) return;
          state.current.parked = s.parked ?? [];
          state.current.version++;
          render();
        }, () => undefined);
      }, PARKED_AFTER_MS);
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
        sayVisibility();
      };
      ws.onmessage = (ev) => {
        let m: FeedMessage;
        try {
          m = JSON.parse(String(ev.data)) as FeedMessage;
          applyMessage(state.current, m);
        } catch {
          return; // a message this page does not understand: ignore it
        }
        // "Live" only once the snapshot is in: before it the tables would claim an empty system.
        if (m.type === 'snapshot') setConnection('live');
        else render();
        if (m.type === 'call') refreshParked();
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
        api.get('/api/session', { background: true }).then(
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
      window.clearInterval(watchTimer);
      document.removeEventListener('visibilitychange', sayVisibility);
      window.clearTimeout(reconnectTimer);
      window.clearTimeout(renderTimer);
      window.clearTimeout(parkedTimer);
      ws?.close(1000, 'page left');
    };
  }, [generation]);

  return { ...state.current, retry: () => setGeneration((g) => g + 1) };
}
