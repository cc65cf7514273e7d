// ForwardedPeers: one TlsPeer object per forwarded connection (what the
// trusted-server log keys on), and never another connection's identity.
import { describe, expect, it } from 'vitest';
import { ForwardedPeers } from '../../../src/cluster/forwarded-peers.ts';
import type { InboundSource } from '../../../src/sip/transport/types.ts';

/** A source as it arrives over the worker link: a fresh object each time. */
const src = (connectionId: number | undefined, names?: string[]): InboundSource =>
  ({ transport: 'tls', address: '127.0.0.1', port: 5061, connectionId, ...(names ? { tlsPeer: { names } } : {}) });

describe('ForwardedPeers', () => {
  it('gives every message of one connection the same TlsPeer object; other connections their own', () => {
    const f = new ForwardedPeers();
    const first = f.adopt(src(65, ['gw.example.test'])).tlsPeer;
    expect(f.adopt(src(65, ['gw.example.test'])).tlsPeer).toBe(first);
    const other = f.adopt(src(129, ['gw.example.test'])).tlsPeer;
    expect(other).not.toBe(first);
    expect(f.adopt(src(129, ['gw.example.test'])).tlsPeer).toBe(other);
  });

  it('a reused connection id with other names keeps its own names (a restarted worker mints ids anew)', () => {
    const f = new ForwardedPeers();
    f.adopt(src(65, ['gw.example.test']));
    const next = f.adopt(src(65, ['other.example.test'])).tlsPeer;
    expect(next?.names).toEqual(['other.example.test']);
    expect(f.adopt(src(65, ['other.example.test'])).tlsPeer).toBe(next);
  });

  it('leaves sources without a TLS peer or connection as they are', () => {
    const f = new ForwardedPeers();
    expect(f.adopt(src(65)).tlsPeer).toBeUndefined();
    const udp = src(undefined, ['gw.example.test']);
    expect(f.adopt(udp)).toBe(udp);
  });
});
