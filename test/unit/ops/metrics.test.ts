import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/ops/metrics.ts';
import type { Metrics, MetricsSources } from '../../../src/ops/metrics.ts';
import { MessageCounters } from '../../../src/sip/transport/message-counters.ts';
import { newCounters } from '../../../src/sip/transaction/types.ts';
import { parseMessage } from '../../../src/sip/parser.ts';
import { AuthGuard } from '../../../src/security/auth-guard.ts';
import { parseExposition, sampleValue } from './prom-text.ts';

const made: Metrics[] = [];
afterEach(() => {
  for (const m of made.splice(0)) m.close();
});

function metrics(sources: MetricsSources): Metrics {
  const m = createMetrics(sources);
  made.push(m);
  return m;
}

function sip(text: string) {
  const r = parseMessage(Buffer.from(text.replace(/\n/g, '\r\n')));
  if (!r.ok) throw new Error(r.reason);
  return r.message;
}

const REGISTER = `REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1
From: <sip:1001@example.com>;tag=a
To: <sip:1001@example.com>
Call-ID: c1
CSeq: 1 REGISTER
Content-Length: 0

`;

describe('MessageCounters', () => {
  it('counts inbound requests by method and responses by code', () => {
    const c = new MessageCounters();
    c.countIn(sip(REGISTER));
    c.countIn(sip(REGISTER));
    c.countIn(sip(REGISTER.replace(/REGISTER/g, 'FOOBAR')));
    c.countIn(sip(`SIP/2.0 486 Busy Here\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\nFrom: <sip:a@b>;tag=1\nTo: <sip:a@b>\nCall-ID: x\nCSeq: 1 INVITE\nContent-Length: 0\n\n`));
    expect(c.requests()).toEqual([
      { direction: 'in', method: 'REGISTER', count: 2 },
      { direction: 'in', method: 'other', count: 1 },
    ]);
    expect(c.responses()).toEqual([{ direction: 'in', status: 486, count: 1 }]);
  });

  it('classifies outbound wire bytes without decoding the message', () => {
    const c = new MessageCounters();
    for (const line of ['OPTIONS sip:x SIP/2.0\r\n', 'INVITE sip:x SIP/2.0\r\n', 'INFO sip:x SIP/2.0\r\n', 'INVITEX sip:x SIP/2.0\r\n', 'SIP/2.0 200 OK\r\n', 'SIP/2.0 401 Unauthorized\r\n', 'SIP/2.0 401 Unauthorized\r\n', 'SIP/2.0 9x9 Bad\r\n']) {
      c.countOut(Buffer.from(line));
    }
    expect(c.requests()).toEqual([
      { direction: 'out', method: 'INVITE', count: 1 },
      { direction: 'out', method: 'OPTIONS', count: 1 },
      { direction: 'out', method: 'INFO', count: 1 },
      { direction: 'out', method: 'other', count: 1 },
    ]);
    expect(c.responses()).toEqual([
      { direction: 'out', status: 200, count: 1 },
      { direction: 'out', status: 401, count: 2 },
    ]);
  });
});

describe('createMetrics', () => {
  it('reads every source at scrape time and renders Prometheus text with the right types', async () => {
    let bindings = 3;
    const messages = new MessageCounters();
    messages.countOut(Buffer.from('SIP/2.0 200 OK\r\n'));
    messages.countIn(sip(REGISTER));
    const tx = newCounters();
    tx.serverNonInvite = 2;
    tx.retransmissionsSent = 7;
    const guard = new AuthGuard({ pair: { maxFailures: 2 } });
    guard.recordFailure('192.0.2.1', 'u');
    guard.recordFailure('192.0.2.1', 'u');
    const m = metrics({
      registrations: () => ({ bindings, aors: 2 }),
      activeCalls: () => 4,
      transactions: () => tx,
      transport: () => ({ stats: { received: 1, sent: 1, malformed: 5, oversized: 0, sendErrors: 0, tlsHandshakeFailures: 2, limits: { 'per-source': 0, 'budget-full': 1, evicted: 6, 'incomplete-message': 0, 'keepalive-flood': 0 } }, messages, connections: 9 }),
      auth: () => guard.stats(),
      alarms: () => ({ critical: 1, major: 0, minor: 3, warning: 0 }),
      writeBehindPending: () => 11,
      processMetrics: false,
    });
    let { samples, types } = parseExposition(await m.render());
    expect(sampleValue(samples, 'switchboard_registrations')).toBe(3);
    expect(sampleValue(samples, 'switchboard_registered_aors')).toBe(2);
    expect(sampleValue(samples, 'switchboard_active_calls')).toBe(4);
    expect(sampleValue(samples, 'switchboard_sip_transactions', { type: 'server_non_invite' })).toBe(2);
    expect(sampleValue(samples, 'switchboard_sip_transaction_events_total', { event: 'retransmissions_sent' })).toBe(7);
    expect(sampleValue(samples, 'switchboard_sip_requests_total', { direction: 'in', method: 'REGISTER' })).toBe(1);
    expect(sampleValue(samples, 'switchboard_sip_responses_total', { direction: 'out', class: '2xx', code: '200' })).toBe(1);
    expect(sampleValue(samples, 'switchboard_sip_malformed_total')).toBe(5);
    expect(sampleValue(samples, 'switchboard_tls_handshake_failures_total')).toBe(2);
    expect(sampleValue(samples, 'switchboard_sip_connection_limit_total', { kind: 'evicted' })).toBe(6);
    expect(sampleValue(samples, 'switchboard_sip_connections')).toBe(9);
    expect(sampleValue(samples, 'switchboard_auth_failures_total')).toBe(2);
    expect(sampleValue(samples, 'switchboard_auth_bans_total')).toBe(1);
    expect(sampleValue(samples, 'switchboard_auth_bans_active', { scope: 'pair' })).toBe(1);
    expect(sampleValue(samples, 'switchboard_alarms_active', { severity: 'minor' })).toBe(3);
    expect(sampleValue(samples, 'switchboard_store_write_behind_pending')).toBe(11);
    expect(types.get('switchboard_sip_requests_total')).toBe('counter');
    expect(types.get('switchboard_registrations')).toBe('gauge');
    expect(samples.some((s) => s.name.startsWith('process_'))).toBe(false);

    // Values move between scrapes without anything being re-registered.
    bindings = 5;
    messages.countIn(sip(REGISTER));
    ({ samples } = parseExposition(await m.render()));
    expect(sampleValue(samples, 'switchboard_registrations')).toBe(5);
    expect(sampleValue(samples, 'switchboard_sip_requests_total', { direction: 'in', method: 'REGISTER' })).toBe(2);
  });

  it('keeps one registry per instance: two servers in one process do not mix', async () => {
    const a = metrics({ activeCalls: () => 1, processMetrics: false });
    const b = metrics({ activeCalls: () => 2, processMetrics: false });
    expect(sampleValue(parseExposition(await a.render()).samples, 'switchboard_active_calls')).toBe(1);
    expect(sampleValue(parseExposition(await b.render()).samples, 'switchboard_active_calls')).toBe(2);
    expect(a.registry).not.toBe(b.registry);
  });

  it('shows each link to another node as up (1) or down (0), labelled with the peer and its node name', async () => {
    const m = metrics({
      peers: () => [
        { uri: 'sip:10.0.0.2:5061;transport=tls', node: 'bravo', state: 'up' },
        { uri: 'sip:10.0.0.3:5061;transport=tls', node: null, state: 'down' },
      ],
      processMetrics: false,
    });
    const { samples } = parseExposition(await m.render());
    expect(sampleValue(samples, 'switchboard_peer_link_up', { peer: 'sip:10.0.0.2:5061;transport=tls', node: 'bravo' })).toBe(1);
    expect(sampleValue(samples, 'switchboard_peer_link_up', { peer: 'sip:10.0.0.3:5061;transport=tls', node: '' })).toBe(0);
    // Without links the metric is not there at all.
    expect(sampleValue(parseExposition(await metrics({ processMetrics: false }).render()).samples, 'switchboard_peer_link_up')).toBeUndefined();
  });

  it('leaves out a metric whose source throws instead of failing the scrape', async () => {
    const m = metrics({
      registrations: () => {
        throw new Error('not ready');
      },
      activeCalls: () => 3,
      processMetrics: false,
    });
    const { samples } = parseExposition(await m.render());
    expect(sampleValue(samples, 'switchboard_registrations')).toBeUndefined();
    expect(sampleValue(samples, 'switchboard_active_calls')).toBe(3);
  });

  it('reports process metrics and the text content type', async () => {
    const m = metrics({});
    const { samples } = parseExposition(await m.render());
    expect(sampleValue(samples, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(sampleValue(samples, 'process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(sampleValue(samples, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(sampleValue(samples, 'switchboard_active_calls')).toBe(0);
    expect(m.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });
});
