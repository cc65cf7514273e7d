// The handset gateway of one server (issue 15 item 7): the lines manager
// with its TLS towards the upstream (B-03, EC-03, EC-11, D-06), the
// gateway's UUID behind every line's +sip.instance, and the alarm when lines
// fail (B-32). Calls and MWI attach to `lines` once it runs. Only the process
// that holds the singletons runs it; in call-server mode no line registers.
import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import tls from 'node:tls';
import type { Logger } from '../lib/log.ts';
import type { TimerQueue } from '../lib/timer-queue.ts';
import type { GatewaySettings } from '../model/gateway.ts';
import type { AlarmCenter } from '../ops/alarms.ts';
import type { CertificateSet } from '../security/certs.ts';
import { tlsClientOptions } from '../security/tls-policy.ts';
import type { SipTarget } from '../sip/dns.ts';
import type { Endpoint } from '../sip/message.ts';
import type { FlowOpener, TlsTarget } from '../sip/transport/types.ts';
import type { RegisterClient, RegisterClientOptions } from '../sip/ua/register-client.ts';
import type { UacTransport } from '../sip/ua/uac.ts';
import type { GatewayRepository } from '../store/gateway-types.ts';
import type { DialogTable } from '../sip/ua/core.ts';
import type { UpstreamHops } from './hops.ts';
import { GatewayLinesManager } from './lines.ts';
import { GatewayMwi } from './mwi.ts';

export const GATEWAY_UUID_FILE = 'gateway-uuid';
const ALARM_ID = 'gateway-lines-failed';

export interface GatewayComponentDeps {
  dataDir: string;
  repo: GatewayRepository;
  transactions: UacTransport;
  /** The UA core's dialog table: the NOTIFYs of the lines' upstream MWI subscriptions find them there. */
  dialogs: DialogTable;
  flows: FlowOpener;
  hops: UpstreamHops;
  timers: TimerQueue;
  now(): number;
  log: Logger;
  alarms: AlarmCenter;
  localEndpoint(transport: Endpoint['transport']): { address: string; port: number } | undefined;
  /** The certificate set at start (certificatesChanged hands on the next ones). */
  certificates: CertificateSet;
  handsetRegistered(extension: string): boolean;
  pollMs?: number;
  createClient?: (opts: RegisterClientOptions) => RegisterClient;
}

/** The gateway's UUID, made once and kept in the data directory (RFC 5626 §4.1: stable across restarts). */
export async function gatewayUuid(dataDir: string): Promise<string> {
  const path = join(dataDir, GATEWAY_UUID_FILE);
  try {
    const text = (await readFile(path, 'utf8')).trim();
    if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(text)) return text.toLowerCase();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const made = randomUUID();
  await writeFile(path, `${made}\n`, { mode: 0o600 });
  return made;
}

export class GatewayComponent {
  lines: GatewayLinesManager | undefined;
  mwi: GatewayMwi | undefined;
  private tlsCache = new Map<string, TlsTarget>();
  private tlsCacheFor: CertificateSet | undefined;
  private alarmCheck: (() => void) | undefined;
  private certificates: CertificateSet;

  constructor(private readonly deps: GatewayComponentDeps) {
    this.certificates = deps.certificates;
  }

  async start(): Promise<void> {
    const d = this.deps;
    const lines = new GatewayLinesManager({
      repo: d.repo, transactions: d.transactions, flows: d.flows, hops: d.hops, timers: d.timers, now: d.now, log: d.log,
      localEndpoint: d.localEndpoint, gatewayUuid: await gatewayUuid(d.dataDir), handsetRegistered: d.handsetRegistered,
      tlsTarget: (t, s) => this.tlsTarget(t, s), createClient: d.createClient,
    });
    this.lines = lines;
    let scheduled = false;
    // One alarm for the gateway (not one per line: 4,096 lines failing together is one fault).
    this.alarmCheck = () => {
      if (scheduled) return;
      scheduled = true;
      queueMicrotask(() => {
        scheduled = false;
        const t = lines.tally();
        if (t.failed > 0) {
          d.alarms.raise({ id: ALARM_ID, kind: 'gateway-lines', severity: t.registered === 0 ? 'critical' : 'major', source: 'gateway', text: `${t.failed} of ${t.total} gateway lines not registered upstream: see switchboard gateway status` });
        } else {
          d.alarms.clear(ALARM_ID, 'every gateway line registered');
        }
      });
    };
    lines.onChange(this.alarmCheck);
    await lines.start(d.pollMs);
    this.mwi = new GatewayMwi({
      lines, repo: d.repo, transactions: d.transactions, timers: d.timers, dialogs: d.dialogs, log: d.log,
      report: (ext, state, waiting) => lines.setMwi(ext, state, waiting),
    });
    this.mwi.start({ intervalMs: d.pollMs });
  }

  async stop(): Promise<void> {
    // Unsubscribed while the lines' flows still run.
    this.mwi?.close();
    await this.lines?.stop();
  }

  /** A reload (new identity, `cert trust add`): TLS uses the new set, and lines that failed on TLS try again at once. */
  certificatesChanged(set: CertificateSet): void {
    this.certificates = set;
    this.tlsCache.clear();
    const l = this.lines;
    if (!l) return;
    const failedTls = l.status().lines.filter((s) => s.failure && ['tls-trust', 'tls-name', 'tls-version', 'clock', 'tls-other'].includes(s.failure.code));
    if (failedTls.length > 0) l.reregister(failedTls.map((s) => s.extension));
  }

  /**
   * TLS towards one upstream target: verified against our CA, the trusted
   * list and the system's roots; the name checked is the host dialled (an IP
   * literal against the IP SANs, EC-11); our identity presented in
   * trusted-server mode (D-06); legacy versions only with the switch (EC-03).
   */
  private tlsTarget(t: SipTarget, s: GatewaySettings): TlsTarget {
    const certs = this.certificates;
    if (certs !== this.tlsCacheFor) {
      this.tlsCache.clear();
      this.tlsCacheFor = certs;
    }
    const key = `${t.host}|${s.legacyTls}|${s.tlsAllowInsecure}|${s.trustedServer}|${certs.fingerprintSha256}`;
    let target = this.tlsCache.get(key);
    if (!target) {
      const id = certs.telephony ?? certs;
      const identity = { certPem: id.certPem, keyPem: id.keyPem, caCertPem: certs.caCertPem, chainPems: id.chainPems };
      const host = t.host.replace(/^\[|\]$/g, '');
      target = {
        key,
        options: tlsClientOptions(identity, {
          legacyTls: s.legacyTls,
          rejectUnauthorized: !s.tlsAllowInsecure,
          servername: host,
          presentIdentity: s.trustedServer,
          extraCas: [...certs.trustedCaPems, ...tls.rootCertificates],
        }),
      };
      this.tlsCache.set(key, target);
    }
    return target;
  }
}
