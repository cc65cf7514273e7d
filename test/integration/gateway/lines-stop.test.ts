// Stopping the lines against an upstream that no longer answers (B-01): the
// unregisters go out paced by max pending registrations, and stop() gives up
// at its bound instead of waiting Timer F (which never fires on manual time),
// saying in one log line how many were not answered.
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../lib/server.ts';
import { until } from '../lib/until.ts';
import { startPair, stopAll } from './pair.ts';

let upstream: TestServer;
let gw: TestServer;
let silent: Socket | undefined;

const lines = () => gw.server.gateway.lines!;

beforeAll(async () => {
  ({ upstream, gw } = await startPair({
    manualTime: true,
    lines: [{ extension: '1001', upstreamUser: '41510' }, { extension: '1002', upstreamUser: '41511' }],
    settings: { registerExpiresSec: 3600, maxPendingRegistrations: 1, mwi: false },
  }));
}, 30_000);

afterAll(async () => {
  silent?.close();
  await stopAll(gw, upstream);
});

describe('stopping gateway lines', () => {
  it('sends the unregisters one at a time (max pending 1) and stops at its bound when the upstream never answers', async () => {
    await until(() => lines().tally().registered === 2, 'both lines registered');
    // The upstream goes away; a socket on its port takes every request and answers none.
    const port = upstream.sipPort;
    await upstream.stop();
    const unregisters: string[] = [];
    silent = createSocket('udp4');
    silent.on('message', (m) => {
      const text = m.toString('latin1');
      if (text.startsWith('REGISTER ') && /\r\nExpires: 0\r\n|;expires=0/i.test(text)) unregisters.push(text);
    });
    await new Promise<void>((r) => silent!.bind(port, '127.0.0.1', r));

    let giveUp!: () => void;
    const stopped = lines().stop(new Promise<void>((r) => (giveUp = r)));
    await until(() => unregisters.length === 1, 'the first unregister');
    giveUp();
    await stopped;
    // Paced by max pending registrations 1: the second line's turn never came (its unanswered
    // predecessor held the only slot), so it was stopped without an unregister.
    expect(unregisters.length).toBe(1);
    const said = gw.log.entries.filter((e) => e.msg?.includes('unregisters not answered at stop'));
    expect(said.map((e) => e.msg)).toEqual(['gateway lines: 2 of 2 unregisters not answered at stop; the upstream drops those bindings when they expire']);
    expect(lines().tally().total).toBe(0);
  }, 20_000);
});
