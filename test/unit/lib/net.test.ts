import { describe, expect, it } from 'vitest';
import { bracketHost, externalAddresses, formatHostPort, isWildcard, parseHostPort, unbracketHost } from '../../../src/lib/net.ts';

describe('host and port text', () => {
  it('brackets IPv6 literals only', () => {
    expect(bracketHost('::1')).toBe('[::1]');
    expect(bracketHost('[::1]')).toBe('[::1]');
    expect(bracketHost('10.0.0.1')).toBe('10.0.0.1');
    expect(bracketHost('pbx.example.com')).toBe('pbx.example.com');
    expect(unbracketHost('[2001:db8::1]')).toBe('2001:db8::1');
    expect(unbracketHost('example.com')).toBe('example.com');
    expect(formatHostPort('fe80::1', 5060)).toBe('[fe80::1]:5060');
    expect(formatHostPort('127.0.0.1', 0)).toBe('127.0.0.1:0');
  });

  it('parses host:port and [v6]:port, with a default port for a bare host', () => {
    expect(parseHostPort('127.0.0.1:5060')).toEqual({ host: '127.0.0.1', port: 5060 });
    expect(parseHostPort('[::1]:5061')).toEqual({ host: '::1', port: 5061 });
    expect(parseHostPort('pbx.example.com', 5060)).toEqual({ host: 'pbx.example.com', port: 5060 });
    expect(parseHostPort('[2001:db8::1]', 5061)).toEqual({ host: '2001:db8::1', port: 5061 });
    expect(parseHostPort('pbx.example.com')).toBeUndefined();
  });

  it('refuses what is ambiguous or malformed', () => {
    for (const bad of ['::1:5060', '[::1', '[::1]5060', ':5060', 'host:', 'host:65536', 'host:12a', 'host:-1', '[]:5060']) {
      expect(parseHostPort(bad, 5060), bad).toBeUndefined();
    }
  });

  it('round-trips what it formats', () => {
    for (const [h, p] of [['::1', 1], ['10.1.2.3', 65535], ['a.example', 5060]] as const) {
      expect(parseHostPort(formatHostPort(h, p))).toEqual({ host: h, port: p });
    }
  });

  it('knows the wildcard binds and lists no loopback address', () => {
    expect(isWildcard('0.0.0.0')).toBe(true);
    expect(isWildcard('::')).toBe(true);
    expect(isWildcard('127.0.0.1')).toBe(false);
    expect(externalAddresses()).not.toContain('127.0.0.1');
    for (const a of externalAddresses()) expect(a).not.toContain('%');
  });
});
