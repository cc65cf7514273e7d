// Gateway MWI (B-10, B-30): the upstream message-summary subscription of each
// registered line on manual time, through the real transaction layer and UA
// core; what goes on the wire is read back from its bytes.
import { describe, expect, it } from 'vitest';
import type { SipRequest } from '../../../src/sip/message.ts';
import { silentLogger } from '../../../src/lib/log.ts';
import { GATEWAY_DEFAULTS } from '../../../src/model/gateway.ts';
import type { GatewaySettings, LineStatus, MwiSubscriptionState } from '../../../src/model/gateway.ts';
import type { UpstreamMwi } from '../../../src/store/gateway-types.ts';
import type { GatewayLines, UpstreamRoute } from '../../../src/gateway/types.ts';
import { GatewayMwi, RETRY_BASE_MS, RETRY_MAX_MS, STABLE_MS, gatewayCountsSource, resubscribeDelay } from '../../../src/gateway/mwi.ts';
import { UDP_PEER, header, request, responseTo, uaHarness } from '../sip/ua/helpers.ts';
import type { Store } from '../../../src/store/index.ts';
import { sqliteEngine, storePerTest } from '../store/engines.ts';

const sip = (user: string, host: string) => ({ scheme: 'sip' as const, user, host, params: new Map(), headers: new Map() });

/** The lines manager as GatewayMwi sees it: lines with a registration state and a route. */
class Lines implements GatewayLines {
  settings: GatewaySettings = { ...GATEWAY_DEFAULTS };
  readonly lines = new Map<string, { registration: LineStatus['registration']; connectionId?: number }>();
  readonly reported: { ext: string; state: MwiSubscriptionState; waiting: boolean | null }[] = [];
  private readonly listeners = new Set<(ext: string) => void>();
  isGatewayUser(ext: string): boolean { return this.lines.has(ext); }
  route(ext: string): UpstreamRoute | undefined {
    const l = this.lines.get(ext);
    if (l?.registration !== 'registered') return undefined;
    const dest = l.connectionId === undefined ? { ...UDP_PEER } : { ...UDP_PEER, connectionId: l.connectionId };
    return {
      aor: { uri: sip(`u${ext}`, 'upstream.example'), params: new Map() }, requestUri: (d) => sip(d, 'upstream.example'),
      dest, routes: ['<sip:192.0.2.10;lr>'], credentials: { username: `u${ext}`, password: 'pw' }, contact: sip(`u${ext}`, '192.0.2.1'), secure: false,
    };
  }
  fromUpstream() { return undefined; }
  lineStatus(ext: string): LineStatus | undefined {
    const l = this.lines.get(ext);
    if (!l) return undefined;
    const last = this.reported.filter((r) => r.ext === ext).at(-1);
    return {
      extension: ext, upstreamUser: `u${ext}`, aor: `sip:u${ext}@upstream.example`, displayName: '', displayNameInherited: false, registration: l.registration, registeredVia: null, expiresAt: null,
      failure: null, mwi: last?.state ?? 'off', messagesWaiting: last?.waiting ?? null, subscribed: false, latestActivity: null,
    };
  }
  status() { return { mode: 'gateway' as const, profile: 'dect-virtual', counters: { sipUsers: 0, subscribed: 0, registered: 0, total: 0 }, proxies: [], lines: [...this.lines.keys()].map((e) => this.lineStatus(e)!) }; }
  reregister(): void {}
  onChange(l: (ext: string) => void) { this.listeners.add(l); return () => this.listeners.delete(l); }
  touch(): void {}
  set(ext: string, v: { registration: LineStatus['registration']; connectionId?: number } | undefined): void {
    if (v === undefined) this.lines.delete(ext);
    else this.lines.set(ext, v);
    for (const l of this.listeners) l(ext);
  }
}

function setup(o: { mwi?: boolean; registered?: boolean } = {}) {
  const h = uaHarness();
  const lines = new Lines();
  lines.settings.mwi = o.mwi ?? true;
  lines.lines.set('1001', { registration: o.registered === false ? 'registering' : 'registered' });
  const written: { ext: string; mwi: UpstreamMwi }[] = [];
  /** The store's settings (the lines manager's copy may lag behind them). */
  let stored: GatewaySettings = lines.settings;
  let configChanged: ((c: { config: boolean; mwi: readonly string[] }) => void | Promise<void>) | undefined;
  const repo = {
    setUpstreamMwi: async (ext: string, mwi: UpstreamMwi) => { written.push({ ext, mwi }); },
    settings: async () => stored,
    watch: (l: typeof configChanged) => { configChanged = l; return { poll: async () => false, stop: () => {} }; },
  };
  const storeSettings = async (patch: Partial<GatewaySettings>): Promise<void> => {
    stored = { ...stored, ...patch };
    await configChanged!({ config: true, mwi: [] });
  };
  const gw = new GatewayMwi({
    lines, repo, transactions: h.layer, timers: h.timers, dialogs: h.core.dialogs,
    report: (ext, state, waiting) => { lines.reported.push({ ext, state, waiting }); },
    random: () => 0, log: silentLogger,
  });
  gw.start({ intervalMs: 0 });
  /** The SUBSCRIBEs sent, one per transaction (UDP retransmissions left out). */
  const subs = (): SipRequest[] => {
    const seen = new Set<string>();
    return h.sentRequests('SUBSCRIBE').filter((r) => {
      const key = `${r.callId} ${r.cseq.seq}`;
      return !seen.has(key) && seen.add(key) !== undefined;
    });
  };
  /** Answers the latest SUBSCRIBE with 200 and sends the NOTIFY of its dialog. */
  const accept = (expires = 3600): SipRequest => {
    const s = subs().at(-1)!;
    h.receive(responseTo(s, 200, { toTag: 'up', extra: ['Contact: <sip:vm@192.0.2.10>', `Expires: ${expires}`] }));
    return s;
  };
  let seq = 0;
  const notify = (s: SipRequest, state: string, body?: string): number => {
    h.receive(request('NOTIFY', {
      callId: s.callId, toTag: s.from.params.get('tag')!, fromTag: 'up', seq: ++seq, body, uri: 'sip:u1001@192.0.2.1',
      extra: ['Event: message-summary', `Subscription-State: ${state}`, ...(body !== undefined ? ['Content-Type: application/simple-message-summary'] : [])],
    }));
    return h.sentResponses().at(-1)!.status;
  };
  return { h, lines, gw, written, subs, accept, notify, storeSettings };
}

describe('resubscribeDelay (RFC 6665 §4.1.3)', () => {
  it('deactivated/timeout: at once; probation/giveup: after retry-after; rejected/noresource: back off; unsubscribed: never', () => {
    expect(resubscribeDelay('deactivated', {}, true, 0)).toBe(0);
    expect(resubscribeDelay('timeout', {}, true, 0)).toBe(0);
    expect(resubscribeDelay('probation', { retryAfter: 120 }, true, 0)).toBe(120_000);
    expect(resubscribeDelay('giveup', {}, true, 0)).toBe(60_000);
    expect(resubscribeDelay('rejected', {}, true, 0)).toBe(RETRY_BASE_MS);
    expect(resubscribeDelay('noresource', {}, true, 1)).toBe(2 * RETRY_BASE_MS);
    expect(resubscribeDelay('unsubscribed', {}, false, 0)).toBeUndefined();
  });

  it('our side: a refresh that found the subscription gone resubscribes at once; a refusal or no answer backs off, doubling to the cap', () => {
    expect(resubscribeDelay('refresh-failed', { status: 481 }, false, 0)).toBe(0);
    expect(resubscribeDelay('expired', {}, false, 0)).toBe(0);
    expect(resubscribeDelay('rejected', { status: 403 }, false, 0)).toBe(30_000);
    expect(resubscribeDelay('timeout', {}, false, 2)).toBe(120_000);
    expect(resubscribeDelay('transport', {}, false, 50)).toBe(30 * 60_000);
    // An upstream that does not do MWI at all (a registrar only) is asked again only after the longest wait.
    for (const status of [405, 489, 501]) expect(resubscribeDelay('rejected', { status }, false, 0)).toBe(RETRY_MAX_MS);
  });

  it('a line that keeps being deactivated right away is not resubscribed in a loop: the at-once cases back off after a failure', () => {
    expect(resubscribeDelay('deactivated', {}, true, 1)).toBe(RETRY_BASE_MS);
    expect(resubscribeDelay('refresh-failed', {}, false, 3)).toBe(4 * RETRY_BASE_MS);
  });
});

describe('GatewayMwi (B-10)', () => {
  it('subscribes to the line\'s own message-summary upstream, as the line\'s other requests go, and stores what the NOTIFY says', async () => {
    const { h, lines, subs, accept, notify, written } = setup();
    expect(subs()).toHaveLength(1);
    const s = subs()[0]!;
    expect(s.uri.user).toBe('u1001');
    expect(s.uri.host).toBe('upstream.example');
    expect(header(s, 'event')).toBe('message-summary');
    expect(header(s, 'accept')).toBe('application/simple-message-summary');
    expect(header(s, 'expires')).toBe('3600');
    expect(header(s, 'route')).toBe('<sip:192.0.2.10;lr>');
    expect(header(s, 'contact')).toContain('sip:u1001@192.0.2.1');
    expect(header(s, 'via')).toMatch(/^SIP\/2\.0\/UDP 192\.0\.2\.1:5060;/);
    expect(lines.reported.at(-1)).toEqual({ ext: '1001', state: 'subscribing', waiting: null });
    accept();
    expect(lines.reported.at(-1)).toEqual({ ext: '1001', state: 'active', waiting: null });
    expect(notify(s, 'active;expires=3600', 'Messages-Waiting: yes\r\nMessage-Account: sip:u1001@upstream.example\r\nVoice-Message: 2/1 (0/0)\r\n')).toBe(200);
    await Promise.resolve();
    expect(written).toEqual([{ ext: '1001', mwi: { waiting: true, newMessages: 2, oldMessages: 1, at: h.timers.clock.now() } }]);
    expect(lines.reported.at(-1)).toEqual({ ext: '1001', state: 'active', waiting: true });
    // A refresh's NOTIFY with the same summary writes nothing; a change does.
    notify(s, 'active;expires=3600', 'Messages-Waiting: yes\r\nVoice-Message: 2/1\r\n');
    notify(s, 'active;expires=3600', 'Messages-Waiting: no\r\nVoice-Message: 0/3\r\n');
    expect(written.map((w) => w.mwi.waiting)).toEqual([true, false]);
    expect(lines.reported.at(-1)).toEqual({ ext: '1001', state: 'active', waiting: false });
  });

  it('refreshes before the granted expiry runs out', () => {
    const { h, subs, accept } = setup();
    accept(600);
    h.timers.advance((600 - 33) * 1000);
    expect(subs()).toHaveLength(1);
    h.timers.advance(2000);
    expect(subs()).toHaveLength(2);
    expect(subs()[1]!.to.params.get('tag')).toBe('up');
  });

  it('with settings.mwi off no SUBSCRIBE goes upstream and the line reports off', () => {
    const { subs, lines } = setup({ mwi: false });
    expect(subs()).toHaveLength(0);
    expect(lines.reported).toEqual([]);
    expect(lines.lineStatus('1001')!.mwi).toBe('off');
  });

  it('subscribes once the line registers; unsubscribes when it stops being registered or goes', () => {
    const { h, subs, lines, accept } = setup({ registered: false });
    expect(subs()).toHaveLength(0);
    lines.set('1001', { registration: 'registered' });
    expect(subs()).toHaveLength(1);
    accept();
    lines.set('1001', { registration: 'failed' });
    expect(subs()).toHaveLength(2);
    expect(header(subs()[1]!, 'expires')).toBe('0');
    expect(lines.reported.at(-1)).toEqual({ ext: '1001', state: 'off', waiting: null });
    lines.set('1001', { registration: 'registered' });
    expect(subs()).toHaveLength(3);
    expect(header(subs()[2]!, 'expires')).toBe('3600');
    accept();
    lines.set('1001', undefined);
    expect(header(subs()[3]!, 'expires')).toBe('0');
    h.timers.advance(3_600_000);
    expect(subs()).toHaveLength(4);
  });

  it('re-registered over a new flow (B-30): subscribes again at once over it', () => {
    const { subs, lines, accept } = setup();
    accept();
    lines.set('1001', { registration: 'registered' }); // a refresh: same flow, nothing to do
    expect(subs()).toHaveLength(1);
    lines.set('1001', { registration: 'registered', connectionId: 7 });
    expect(subs().map((s) => header(s, 'expires'))).toEqual(['3600', '0', '3600']);
    expect(subs()[2]!.callId).not.toBe(subs()[0]!.callId);
  });

  it('a new mwiExpiresSec applies at once: the line subscribes again asking for it', () => {
    const { subs, lines, accept, gw } = setup();
    accept();
    lines.settings = { ...lines.settings, mwiExpiresSec: 900 };
    gw.syncAll();
    expect(subs().map((s) => header(s, 'expires'))).toEqual(['3600', '0', '900']);
  });

  it('MWI switched off in the store unsubscribes at once, before the lines manager has reloaded; on again, subscribes', async () => {
    const { subs, lines, accept, storeSettings } = setup();
    accept();
    await storeSettings({ mwi: false });
    expect(lines.settings.mwi).toBe(true);
    expect(subs().map((s) => header(s, 'expires'))).toEqual(['3600', '0']);
    expect(lines.reported.at(-1)).toEqual({ ext: '1001', state: 'off', waiting: null });
    await storeSettings({ mwi: true, mwiExpiresSec: 1200 });
    expect(subs().map((s) => header(s, 'expires'))).toEqual(['3600', '0', '1200']);
  });

  it('terminated;reason=deactivated: resubscribes at once; probation: after its retry-after', () => {
    const { h, subs, accept, notify } = setup();
    let s = accept();
    h.timers.advance(STABLE_MS);
    notify(s, 'terminated;reason=deactivated');
    h.timers.advance(0);
    expect(subs()).toHaveLength(2);
    s = accept();
    h.timers.advance(STABLE_MS);
    notify(s, 'terminated;reason=probation;retry-after=120');
    h.timers.advance(119_000);
    expect(subs()).toHaveLength(2);
    h.timers.advance(1000);
    expect(subs()).toHaveLength(3);
  });

  it('a refused SUBSCRIBE reports failed and is retried after a backoff that doubles', () => {
    const { h, subs, lines } = setup();
    h.receive(responseTo(subs()[0]!, 403, { toTag: 'x' }));
    expect(lines.reported.at(-1)).toEqual({ ext: '1001', state: 'failed', waiting: null });
    h.timers.advance(RETRY_BASE_MS - 1);
    expect(subs()).toHaveLength(1);
    h.timers.advance(1);
    expect(subs()).toHaveLength(2);
    expect(lines.reported.at(-1)!.state).toBe('subscribing');
    h.receive(responseTo(subs()[1]!, 403, { toTag: 'x' }));
    h.timers.advance(2 * RETRY_BASE_MS - 1);
    expect(subs()).toHaveLength(2);
    h.timers.advance(1);
    expect(subs()).toHaveLength(3);
  });

  it('423 Interval Too Brief: asks again at once with the upstream\'s Min-Expires', () => {
    const { h, subs } = setup();
    h.receive(responseTo(subs()[0]!, 423, { toTag: 'x', extra: ['Min-Expires: 7200'] }));
    h.timers.advance(0);
    expect(header(subs()[1]!, 'expires')).toBe('7200');
    h.receive(responseTo(subs()[1]!, 423, { toTag: 'x', extra: ['Min-Expires: 7200'] }));
    h.timers.advance(0);
    expect(subs()).toHaveLength(2); // the same figure again: a failure, backed off
  });

  it('hostile NOTIFY bodies are answered 200 and change nothing', async () => {
    const { subs, accept, notify, written } = setup();
    const s = accept();
    expect(notify(s, 'active', 'garbage\r\n')).toBe(200);
    expect(notify(s, 'active', 'Messages-Waiting: yes\r\n' + 'X: 1/1\r\n'.repeat(3000))).toBe(200);
    expect(notify(s, 'active', 'Voice-Message: 99999999999/1\r\n')).toBe(200);
    await Promise.resolve();
    expect(written).toEqual([]);
    expect(subs()).toHaveLength(1);
  });

  it('close() unsubscribes every line; a new instance (a restart) subscribes again', () => {
    const { h, gw, subs, accept, lines } = setup();
    accept();
    gw.close();
    expect(header(subs()[1]!, 'expires')).toBe('0');
    const again = new GatewayMwi({
      lines, repo: { setUpstreamMwi: async () => {}, settings: async () => lines.settings, watch: () => ({ poll: async () => false, stop: () => {} }) },
      transactions: h.layer, timers: h.timers, dialogs: h.core.dialogs,
      report: () => {}, log: silentLogger,
    });
    again.start();
    expect(subs()).toHaveLength(3);
    expect(header(subs()[2]!, 'expires')).toBe('3600');
  });
});

describe('gatewayCountsSource (on the real SQLite store)', () => {
  let store: Store;
  storePerTest(sqliteEngine, async (_db, st) => {
    store = st;
    for (const ext of ['1001', '1002', '2000']) await store.users.add({ extension: ext, password: 'p', name: `User ${ext}` });
    await store.gateway.updateSettings({ mode: 'both' });
    await store.gateway.setLine({ extension: '1001', upstreamUser: 'a' });
    await store.gateway.setLine({ extension: '1002', upstreamUser: 'b' });
  });

  it('answers only for gateway users: the upstream summary, nothing waiting before the first NOTIFY or with MWI off', async () => {
    await store.gateway.setUpstreamMwi('1001', { waiting: true, newMessages: 3, oldMessages: 1, at: 1 });
    const src = gatewayCountsSource(store.gateway);
    expect(await src.summary('2000')).toBeUndefined();
    expect(await src.summary('1001')).toEqual({ waiting: true, new: 3, old: 1 });
    expect(await src.summary('1002')).toEqual({ waiting: false, new: 0, old: 0 });
  });

  it('tells the notifier of MWI changes, of users who became or stopped being gateway users, and of all of them when MWI is switched', async () => {
    const src = gatewayCountsSource(store.gateway);
    const seen: string[][] = [];
    const w = src.watch((m) => { seen.push([...m].sort()); }, { intervalMs: 0 });
    try {
      await w.poll();
      expect(await src.summary('1001')).toEqual({ waiting: false, new: 0, old: 0 });
      seen.length = 0;
      await store.gateway.setUpstreamMwi('1001', { waiting: true, newMessages: 1, oldMessages: 0, at: 1 });
      await w.poll();
      expect(seen).toEqual([['1001']]);
      expect(await src.summary('1001')).toEqual({ waiting: true, new: 1, old: 0 });
      await store.gateway.updateSettings({ mwi: false });
      await w.poll();
      expect(seen.at(-1)).toEqual(['1001', '1002']);
      expect(await src.summary('1001')).toEqual({ waiting: false, new: 0, old: 0 });
      await store.gateway.updateLine('1002', { disabled: true });
      await w.poll();
      expect(seen.at(-1)).toEqual(['1002']);
      expect(await src.summary('1002')).toBeUndefined();
      await store.gateway.updateSettings({ mode: 'call-server' });
      await w.poll();
      expect(seen.at(-1)).toEqual(['1001']);
      expect(await src.summary('1001')).toBeUndefined();
    } finally {
      w.stop();
    }
  });
});
