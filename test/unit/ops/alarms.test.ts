import { describe, expect, it } from 'vitest';
import { AlarmCenter } from '../../../src/ops/alarms.ts';
import type { AlarmCenterOptions, AlarmEvent } from '../../../src/ops/alarms.ts';
import { AuthGuard } from '../../../src/security/auth-guard.ts';

function center(opts: Partial<AlarmCenterOptions> = {}) {
  let t = 1_000_000;
  const lines: Array<{ level: string; obj: object; msg?: string }> = [];
  const at = (level: string) => (obj: object, msg?: string) => void lines.push({ level, obj, msg });
  const alarms = new AlarmCenter({ now: () => t, log: { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') }, ...opts });
  const events: AlarmEvent[] = [];
  alarms.onEvent((e) => events.push(e));
  return { alarms, events, lines, advance: (ms: number) => void (t += ms), now: () => t };
}

describe('AlarmCenter', () => {
  it('raises once and counts repeats of the same id, with since and lastAt', () => {
    const { alarms, events, advance } = center();
    const first = alarms.raise({ id: 'x', kind: 'test', severity: 'minor', text: 'one' })!;
    advance(5_000);
    alarms.raise({ id: 'x', kind: 'test', severity: 'major', text: 'two' });
    const [a] = alarms.list();
    expect(alarms.list()).toHaveLength(1);
    expect(a).toMatchObject({ id: 'x', count: 2, severity: 'major', text: 'two', since: first.since, lastAt: first.since + 5_000 });
    expect(events.map((e) => e.type)).toEqual(['raised', 'updated']);
  });

  it('raises a major alarm while a link to another node is down, and clears it when the link answers again', () => {
    const { alarms } = center();
    alarms.peerLinkDown('sip:10.0.0.3:5061;transport=tls', 'charlie', 'no answer');
    alarms.peerLinkDown('sip:10.0.0.3:5061;transport=tls', 'charlie', 'no answer');
    expect(alarms.list()).toEqual([expect.objectContaining({ kind: 'peer-link', severity: 'major', count: 2, text: 'link to node charlie down: no answer', source: 'sip:10.0.0.3:5061;transport=tls' })]);
    alarms.peerLinkUp('sip:10.0.0.2:5061;transport=tls');
    expect(alarms.list()).toHaveLength(1);
    alarms.peerLinkUp('sip:10.0.0.3:5061;transport=tls');
    expect(alarms.list()).toEqual([]);
  });

  it('throttles update events to one per interval per alarm, while counting every repeat', () => {
    const { alarms, events, advance } = center({ updateIntervalMs: 1000 });
    for (let i = 0; i < 50; i++) alarms.raise({ id: 'x', kind: 'k', severity: 'minor', text: 't' });
    advance(1000);
    alarms.raise({ id: 'x', kind: 'k', severity: 'minor', text: 't' });
    expect(events.map((e) => e.type)).toEqual(['raised', 'updated']);
    expect(alarms.get('x')!.count).toBe(51);
  });

  it('clears on request, emits the event and logs it; clearing twice is a no-op', () => {
    const { alarms, events, lines } = center();
    alarms.raise({ id: 'x', kind: 'k', severity: 'critical', text: 't' });
    expect(lines.at(-1)).toMatchObject({ level: 'error', msg: 'alarm raised' });
    expect(alarms.clear('x')).toBe(true);
    expect(alarms.clear('x')).toBe(false);
    expect(alarms.list()).toEqual([]);
    expect(events.map((e) => e.type)).toEqual(['raised', 'cleared']);
    expect(lines.at(-1)).toMatchObject({ level: 'info', msg: 'alarm cleared' });
  });

  it('clears by itself after the quiet time, and a recurrence pushes that time back', () => {
    const { alarms, advance } = center();
    alarms.raise({ id: 'q', kind: 'k', severity: 'minor', text: 't', quietMs: 10_000 });
    advance(8_000);
    alarms.raise({ id: 'q', kind: 'k', severity: 'minor', text: 't', quietMs: 10_000 });
    advance(8_000);
    expect(alarms.get('q')?.count).toBe(2);
    advance(2_000);
    expect(alarms.sweep()).toBe(1);
    expect(alarms.get('q')).toBeUndefined();
  });

  it('lists most severe first, then newest', () => {
    const { alarms, advance } = center();
    alarms.raise({ id: 'w', kind: 'k', severity: 'warning', text: 't' });
    advance(1);
    alarms.raise({ id: 'm1', kind: 'k', severity: 'major', text: 't' });
    advance(1);
    alarms.raise({ id: 'm2', kind: 'k', severity: 'major', text: 't' });
    alarms.raise({ id: 'c', kind: 'k', severity: 'critical', text: 't' });
    expect(alarms.list().map((a) => a.id)).toEqual(['c', 'm2', 'm1', 'w']);
    expect(alarms.counts()).toEqual({ critical: 1, major: 2, minor: 0, warning: 1 });
  });

  it('caps distinct alarms and folds the excess into one overflow alarm', () => {
    const { alarms } = center({ maxAlarms: 4 });
    for (let i = 0; i < 10; i++) alarms.raise({ id: `a${i}`, kind: 'k', severity: 'minor', text: 't' });
    const list = alarms.list();
    expect(list).toHaveLength(4);
    expect(alarms.get('alarms-overflow')?.count).toBe(7);
  });

  it('lets a suppression rule drop alarms (SPEC KI-16)', () => {
    const { alarms } = center({ suppress: (a) => a.kind === 'tls-handshake' && a.source === '192.0.2.16' });
    alarms.tlsHandshakeFailed('192.0.2.16', 'peer did not send TLS [ERR_SSL_WRONG_VERSION_NUMBER]');
    alarms.tlsHandshakeFailed('192.0.2.17', 'peer did not send TLS [ERR_SSL_WRONG_VERSION_NUMBER]');
    expect(alarms.list().map((a) => a.source)).toEqual(['192.0.2.17']);
  });

  it('survives a listener that throws', () => {
    const { alarms, lines } = center();
    alarms.onEvent(() => {
      throw new Error('ui gone');
    });
    expect(() => alarms.raise({ id: 'x', kind: 'k', severity: 'minor', text: 't' })).not.toThrow();
    expect(lines.some((l) => l.msg === 'alarm listener failed')).toBe(true);
  });

  it('stops delivering events after unsubscribe', () => {
    const { alarms } = center();
    const seen: AlarmEvent[] = [];
    const off = alarms.onEvent((e) => seen.push(e));
    off();
    alarms.raise({ id: 'x', kind: 'k', severity: 'minor', text: 't' });
    expect(seen).toEqual([]);
  });
});

describe('AlarmCenter feeds', () => {
  it('keeps one TLS handshake alarm per source and cause, clearing after the quiet time', () => {
    const { alarms, advance } = center({ tlsQuietMs: 60_000 });
    alarms.tlsHandshakeFailed('192.0.2.1', 'no cipher suite in common [ERR_SSL_NO_SHARED_CIPHER]');
    alarms.tlsHandshakeFailed('192.0.2.1', 'no cipher suite in common [ERR_SSL_NO_SHARED_CIPHER]');
    alarms.tlsHandshakeFailed('192.0.2.1', 'peer did not send TLS [ERR_SSL_WRONG_VERSION_NUMBER]');
    alarms.tlsHandshakeFailed('192.0.2.2', 'no cipher suite in common [ERR_SSL_NO_SHARED_CIPHER]');
    const list = alarms.list();
    expect(list).toHaveLength(3);
    expect(alarms.get('tls-handshake:192.0.2.1:ERR_SSL_NO_SHARED_CIPHER')).toMatchObject({ count: 2, kind: 'tls-handshake', severity: 'minor' });
    expect(list[0]!.text).toContain('TLS handshake failed from');
    advance(60_000);
    expect(alarms.list()).toEqual([]);
  });

  it('raises an auth-failure burst only past the threshold within the window, then clears when quiet', () => {
    const { alarms, advance } = center({ authBurst: { failures: 10, windowMs: 60_000 } });
    for (let i = 0; i < 9; i++) alarms.authFailed('192.0.2.5', `u${i}`);
    expect(alarms.get('auth-failure-burst')).toBeUndefined();
    advance(120_000); // the earlier failures leave the window
    for (let i = 0; i < 9; i++) alarms.authFailed('192.0.2.5', 'u');
    expect(alarms.get('auth-failure-burst')).toBeUndefined();
    alarms.authFailed('192.0.2.6', 'victim');
    const burst = alarms.get('auth-failure-burst');
    expect(burst).toMatchObject({ severity: 'major', source: '192.0.2.6' });
    expect(burst!.text).toMatch(/^10 failed SIP authentications in 60 s \(latest from 192\.0\.2\.6 as "victim"\)$/);
    alarms.authFailed('192.0.2.6', 'victim');
    expect(alarms.get('auth-failure-burst')!.count).toBe(2);
    advance(5 * 60_000);
    expect(alarms.get('auth-failure-burst')).toBeUndefined();
  });

  it('raises a ban alarm from AuthGuard.onBan that clears when the ban ends', () => {
    const c = center();
    const guard = new AuthGuard({ now: c.now, pair: { maxFailures: 3, windowMs: 60_000, banMs: 30_000 }, onBan: (b) => c.alarms.banned(b), onFailure: (ip, u) => c.alarms.authFailed(ip, u) });
    for (let i = 0; i < 3; i++) guard.recordFailure('198.51.100.7', '1001');
    const [ban] = c.alarms.list().filter((a) => a.kind === 'auth-ban');
    expect(ban).toMatchObject({ id: 'auth-ban:pair:198.51.100.7:1001', severity: 'minor', source: '198.51.100.7' });
    expect(ban!.text).toBe('address and user 198.51.100.7 as "1001" banned for 30 s after 3 failed authentications');
    c.advance(30_000);
    expect(c.alarms.list().filter((a) => a.kind === 'auth-ban')).toEqual([]);
  });

  it('raises one connection-limit alarm per kind whatever the sources, cleared after five quiet minutes', () => {
    const { alarms, advance } = center();
    for (let i = 0; i < 50; i++) alarms.connectionLimit('evicted', `closed a silent connection from 127.0.0.${i}`);
    alarms.connectionLimit('per-source', 'refused: 80 connections from this address');
    expect(alarms.list().map((a) => [a.id, a.severity, a.count])).toEqual([
      ['connection-limit:evicted', 'major', 50],
      ['connection-limit:per-source', 'minor', 1],
    ]);
    advance(4 * 60_000);
    alarms.connectionLimit('evicted', 'again');
    advance(2 * 60_000);
    expect(alarms.list().map((a) => a.id)).toEqual(['connection-limit:evicted']);
    advance(3 * 60_000 + 1);
    expect(alarms.list()).toEqual([]);
  });

  it('raises a critical write-behind alarm until the queue drains', () => {
    const { alarms } = center();
    alarms.writeBehindFailed(new Error('SQLITE_FULL: database or disk is full'));
    alarms.writeBehindFailed(new Error('SQLITE_FULL: database or disk is full'));
    expect(alarms.get('store-write-behind')).toMatchObject({ severity: 'critical', count: 2 });
    alarms.writeBehindRecovered();
    expect(alarms.get('store-write-behind')).toBeUndefined();
  });
});
