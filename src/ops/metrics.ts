// Prometheus metrics (issue 5 item 6). One prom-client Registry per Server,
// never the process-wide default one: tests run several servers in one
// process. Every value is read from its owner at scrape time, so the SIP hot
// path pays nothing beyond the plain counters it already keeps.
import { readdirSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter, Gauge, Registry } from 'prom-client';
import type { TransactionCounters } from '../sip/transaction/types.ts';
import type { OverloadState } from '../sip/overload.ts';
import type { TransportStats } from '../sip/transport/layer.ts';
import type { MessageCounters } from '../sip/transport/message-counters.ts';
import type { AuthGuardStats } from '../security/auth-guard.ts';
import type { AlarmSeverity } from './alarms.ts';
import type { SyslogStats } from './syslog-transport.ts';

export interface MetricsSources {
  /** Location service: contacts bound, and addresses-of-record with at least one. */
  registrations?: () => { bindings: number; aors: number };
  /** The call engine's count; 0 until it lands. */
  activeCalls?: () => number;
  transactions?: () => TransactionCounters;
  /** Overload control; undefined while it is off. */
  overload?: () => OverloadState | undefined;
  transport?: () => { stats: TransportStats; messages: MessageCounters; connections: number };
  auth?: () => AuthGuardStats;
  alarms?: () => Record<AlarmSeverity, number>;
  /** Registration changes waiting for the database. */
  writeBehindPending?: () => number;
  /** Undefined while remote syslog is off. */
  syslog?: () => SyslogStats | undefined;
  /** Links to the other nodes; undefined without any. */
  peers?: () => { uri: string; node: string | null; state: string }[];
  /** Trunk health (src/pbx/trunks/trunk-health.ts). */
  trunks?: { status(): { trunk: string; state: string }[]; failures: ReadonlyMap<string, { down: number; refused: number }> };
  /** Contacts probed with OPTIONS by reachability; undefined while keepalive is off. */
  probes?: () => Readonly<Record<string, number>>;
  /** Voicemail messages in every mailbox by folder; undefined until known (and in workers that do not report it). */
  voicemail?: () => { new: number; saved: number } | undefined;
  /** The handset gateway's upstream lines; undefined until (and where) they run. */
  gateway?: () => { registered: number; failed: number; total: number; registrationsSent: number; failovers: number } | undefined;
  /** CPU, memory, file descriptors, event-loop delay (default true). */
  processMetrics?: boolean;
}

export interface Metrics {
  registry: Registry;
  /** The Prometheus text exposition. */
  render(): Promise<string>;
  contentType: string;
  /** Stops the event-loop delay monitor. */
  close(): void;
}

type Sample = [labels: Record<string, string>, value: number];
type Read = () => number | Sample[] | undefined;

/** Gauges from live values; LIVE_TRANSACTIONS are the gauge part of TransactionCounters. */
const LIVE_TRANSACTIONS = ['serverInvite', 'serverNonInvite', 'clientInvite', 'clientNonInvite'] as const;

export function createMetrics(sources: MetricsSources): Metrics {
  const registry = new Registry();
  const define = (type: 'counter' | 'gauge', name: string, help: string, labelNames: string[], read: Read) => {
    // A failing source leaves its metric out of this scrape instead of failing the whole scrape.
    const collect = function (this: Counter | Gauge) {
      this.reset();
      let v: ReturnType<Read>;
      try {
        v = read();
      } catch {
        v = undefined;
      }
      if (v === undefined) {
        // reset() leaves an unlabelled metric at 0, which would read as a real value: drop the sample
        // (prom-client keeps samples in hashMap; if that ever changes, the fallback is the 0).
        if ('hashMap' in this) (this as unknown as { hashMap: object }).hashMap = {};
        return;
      }
      const samples: Sample[] = typeof v === 'number' ? [[{}, v]] : v;
      for (const [labels, value] of samples) {
        if (!Number.isFinite(value)) continue;
        if (this instanceof Counter) this.inc(labels, Math.max(0, value));
        else this.set(labels, value);
      }
    };
    const config = { name, help, labelNames, registers: [registry], collect };
    if (type === 'counter') new Counter(config);
    else new Gauge(config);
  };

  const s = sources;
  if (s.registrations) {
    const r = s.registrations;
    define('gauge', 'switchboard_registrations', 'Registered contacts (bindings) in the location service.', [], () => r().bindings);
    define('gauge', 'switchboard_registered_aors', 'Addresses-of-record with at least one registered contact.', [], () => r().aors);
  }
  const calls = s.activeCalls ?? (() => 0);
  define('gauge', 'switchboard_active_calls', 'Calls in progress.', [], calls);

  if (s.transactions) {
    const t = s.transactions;
    define('gauge', 'switchboard_sip_transactions', 'Live SIP transactions by type.', ['type'], () => {
      const c = t();
      return LIVE_TRANSACTIONS.map((k): Sample => [{ type: snake(k) }, c[k]]);
    });
    define('counter', 'switchboard_sip_transaction_events_total', 'SIP transaction events (retransmissions, timeouts, errors) by event.', ['event'], () => {
      const c = t();
      const live: readonly string[] = LIVE_TRANSACTIONS;
      return Object.entries(c)
        .filter(([k]) => !live.includes(k))
        .map(([k, v]): Sample => [{ event: snake(k) }, v]);
    });
  }

  if (s.overload) {
    const o = s.overload;
    define('gauge', 'switchboard_sip_admitted_ratio', 'Share of new out-of-dialog SIP requests the overload control admits (1 = no shedding), with and without credentials.', ['credentials'], () => {
      const st = o();
      return st === undefined ? undefined : [[{ credentials: 'yes' }, st.admitted], [{ credentials: 'no' }, st.admittedUnauthenticated]];
    });
    define('gauge', 'switchboard_sip_receive_delay_seconds', 'How long the overload control\'s last probe waited in the UDP socket before it was read.', [], () => {
      const st = o();
      return st === undefined ? undefined : st.delayMs / 1000;
    });
  }

  if (s.transport) {
    const tr = s.transport;
    define('counter', 'switchboard_sip_requests_total', 'SIP requests by direction and method (retransmissions included).', ['direction', 'method'], () =>
      tr().messages.requests().map((m): Sample => [{ direction: m.direction, method: m.method }, m.count]),
    );
    define('counter', 'switchboard_sip_responses_total', 'SIP responses by direction, status class and status code.', ['direction', 'class', 'code'], () =>
      tr().messages.responses().map((m): Sample => [{ direction: m.direction, class: `${Math.floor(m.status / 100)}xx`, code: String(m.status) }, m.count]),
    );
    define('counter', 'switchboard_sip_malformed_total', 'Unparseable SIP messages and framing errors.', [], () => tr().stats.malformed);
    define('counter', 'switchboard_sip_oversized_total', 'Datagrams over the message size limit.', [], () => tr().stats.oversized);
    define('counter', 'switchboard_sip_send_errors_total', 'SIP messages that could not be sent.', [], () => tr().stats.sendErrors);
    define('counter', 'switchboard_tls_handshake_failures_total', 'Failed inbound TLS handshakes.', [], () => tr().stats.tlsHandshakeFailures);
    define('counter', 'switchboard_sip_connection_limit_total', 'SIP connections refused (per-source, budget-full), evicted, or closed for an incomplete message; keep-alive pings left unanswered (keepalive-flood).', ['kind'], () =>
      Object.entries(tr().stats.limits).map(([kind, n]): Sample => [{ kind }, n]));
    define('gauge', 'switchboard_sip_connections', 'Open TCP and TLS connections.', [], () => tr().connections);
  }

  if (s.auth) {
    const a = s.auth;
    define('counter', 'switchboard_auth_failures_total', 'SIP digest verifications that failed (wrong password or unknown user).', [], () => a().failures);
    define('counter', 'switchboard_auth_successes_total', 'SIP digest verifications that succeeded.', [], () => a().successes);
    define('counter', 'switchboard_auth_bans_total', 'Temporary bans started by the authentication guard.', [], () => a().bansTotal);
    define('gauge', 'switchboard_auth_bans_active', 'Bans in force by scope.', ['scope'], () =>
      Object.entries(a().bansActiveByScope).map(([scope, n]): Sample => [{ scope }, n]),
    );
  }

  if (s.alarms) {
    const al = s.alarms;
    define('gauge', 'switchboard_alarms_active', 'Active alarms by severity.', ['severity'], () =>
      Object.entries(al()).map(([severity, n]): Sample => [{ severity }, n]),
    );
  }
  if (s.writeBehindPending) {
    define('gauge', 'switchboard_store_write_behind_pending', 'Registration changes waiting to be written to the database.', [], s.writeBehindPending);
  }
  if (s.syslog) {
    const sl = s.syslog;
    define('counter', 'switchboard_syslog_sent_total', 'Messages handed to the remote syslog collector.', [], () => sl()?.sent);
    define('counter', 'switchboard_syslog_dropped_total', 'Syslog messages dropped (queue full, collector away).', [], () => sl()?.dropped);
    define('gauge', 'switchboard_syslog_queued', 'Syslog messages waiting for the collector.', [], () => sl()?.queued);
  }
  if (s.probes) {
    const pr = s.probes;
    define('gauge', 'switchboard_contacts_probed', 'UDP contacts this process probes with OPTIONS, by reachability (reachable, unreachable, unknown).', ['state'], () =>
      Object.entries(pr()).map(([state, n]): Sample => [{ state }, n]));
  }
  if (s.peers) {
    const peers = s.peers;
    define('gauge', 'switchboard_peer_link_up', 'Link to another node: 1 while it answers its OPTIONS keepalive, else 0.', ['peer', 'node'], () =>
      peers().map((l): Sample => [{ peer: l.uri, node: l.node ?? '' }, l.state === 'up' ? 1 : 0]));
  }

  if (s.trunks) {
    const tr = s.trunks;
    define('gauge', 'switchboard_trunk_up', 'Trunk: 1 while it answers OPTIONS (and is registered when it registers), else 0.', ['trunk'], () =>
      tr.status().map((t): Sample => [{ trunk: t.trunk }, t.state === 'up' || t.state === 'registered' ? 1 : 0]));
    define('counter', 'switchboard_trunk_failures_total', 'Times a trunk went down (OPTIONS unanswered) or had its registration refused.', ['trunk', 'kind'], () =>
      [...tr.failures].flatMap(([trunk, f]): Sample[] => [[{ trunk, kind: 'down' }, f.down], [{ trunk, kind: 'refused' }, f.refused]]));
  }

  if (s.voicemail) {
    const vm = s.voicemail;
    define('gauge', 'switchboard_voicemail_messages', 'Voicemail messages in all mailboxes, by folder (new, saved).', ['folder'], () => {
      const t = vm();
      return t === undefined ? undefined : [[{ folder: 'new' }, t.new], [{ folder: 'saved' }, t.saved]];
    });
  }

  if (s.gateway) {
    const gw = s.gateway;
    define('gauge', 'switchboard_gateway_lines', 'Handset gateway lines by upstream registration state (registered, failed, other).', ['state'], () => {
      const g = gw();
      return g === undefined ? undefined : [[{ state: 'registered' }, g.registered], [{ state: 'failed' }, g.failed], [{ state: 'other' }, g.total - g.registered - g.failed]];
    });
    define('counter', 'switchboard_gateway_registrations_sent_total', 'REGISTER exchanges the gateway started upstream (refreshes included).', [], () => gw()?.registrationsSent);
    define('counter', 'switchboard_gateway_failovers_total', 'Times a gateway line moved to the next proxy after no answer.', [], () => gw()?.failovers);
  }

  const stopProcess = s.processMetrics === false ? () => {} : processMetrics(define);
  return {
    registry,
    render: () => registry.metrics(),
    contentType: registry.contentType,
    close: stopProcess,
  };
}

/** The usual process_* and nodejs_* series, read at scrape time; returns a stop function. */
function processMetrics(define: (type: 'counter' | 'gauge', name: string, help: string, labels: string[], read: Read) => void): () => void {
  const started = Math.round(Date.now() / 1000 - process.uptime());
  define('counter', 'process_cpu_user_seconds_total', 'User CPU time spent in seconds.', [], () => process.cpuUsage().user / 1e6);
  define('counter', 'process_cpu_system_seconds_total', 'System CPU time spent in seconds.', [], () => process.cpuUsage().system / 1e6);
  define('counter', 'process_cpu_seconds_total', 'Total user and system CPU time spent in seconds.', [], () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  });
  define('gauge', 'process_start_time_seconds', 'Start time of the process since unix epoch in seconds.', [], () => started);
  define('gauge', 'process_resident_memory_bytes', 'Resident memory size in bytes.', [], () => process.memoryUsage.rss());
  define('gauge', 'nodejs_heap_size_total_bytes', 'Process heap size from Node.js in bytes.', [], () => process.memoryUsage().heapTotal);
  define('gauge', 'nodejs_heap_size_used_bytes', 'Process heap size used from Node.js in bytes.', [], () => process.memoryUsage().heapUsed);
  define('gauge', 'nodejs_external_memory_bytes', 'Node.js external memory size in bytes.', [], () => process.memoryUsage().external);
  define('gauge', 'process_open_fds', 'Number of open file descriptors.', [], () =>
    process.platform === 'linux' ? readdirSync('/proc/self/fd').length : undefined,
  );
  const loop = monitorEventLoopDelay({ resolution: 20 });
  loop.enable();
  // Each scrape reports the delay seen since the previous one.
  let snapshot = { mean: 0, max: 0, p99: 0 };
  define('gauge', 'nodejs_eventloop_lag_mean_seconds', 'Mean event loop delay since the last scrape, in seconds.', [], () => {
    snapshot = { mean: nanToZero(loop.mean), max: nanToZero(loop.max), p99: nanToZero(loop.percentile(99)) };
    loop.reset();
    return snapshot.mean / 1e9;
  });
  define('gauge', 'nodejs_eventloop_lag_p99_seconds', '99th percentile of the event loop delay since the last scrape, in seconds.', [], () => snapshot.p99 / 1e9);
  define('gauge', 'nodejs_eventloop_lag_max_seconds', 'Longest event loop delay since the last scrape, in seconds.', [], () => snapshot.max / 1e9);
  return () => loop.disable();
}

function nanToZero(n: number): number {
  return Number.isFinite(n) ? n : 0;
}

function snake(camel: string): string {
  return camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
