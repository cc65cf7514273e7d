// Registration of Switchboard to the trunks that want it (an ITSP or an
// upstream call server): one REGISTER client per trunk with credentials,
// answering digest challenges, refreshing before expiry, retrying after
// failures, and following the trunk table as trunks come and go.
import type { Endpoint, SipResponse } from '../../sip/message.ts';
import type { Logger } from '../../lib/log.ts';
import type { TimerHandle, TimerQueue } from '../../lib/timer-queue.ts';
import type { UacTransport } from '../../sip/ua/uac.ts';
import { createRequest } from '../../sip/serializer.ts';
import { generateCallId, generateTag } from '../../sip/ids.ts';
import { newVia } from '../../sip/dialog.ts';
import { getContacts, getExpires } from '../../sip/headers.ts';
import { sendUacRequest } from '../../sip/ua/uac.ts';
import type { TrunkEntry } from './trunk-table.ts';

export type TrunkRegistrationState = 'registering' | 'registered' | 'failed';

export interface TrunkRegistrationStatus {
  trunk: string;
  state: TrunkRegistrationState;
  /** Last final status from the trunk (0 for a timeout or transport error). */
  lastStatus: number;
  /** Epoch ms the registration runs out, when registered. */
  expiresAt: number | undefined;
  reason: string;
}

export interface TrunkRegistrarDeps {
  transactions: UacTransport;
  timers: TimerQueue;
  log: Logger;
  now(): number;
  localEndpoint(transport: Endpoint['transport']): { address: string; port: number } | undefined;
  /** Seconds asked for (the trunk may grant less). */
  expiresSec?: number;
  /** Seconds before retrying after a failure. */
  retrySec?: number;
}

class Registration {
  status: TrunkRegistrationStatus;
  private readonly callId = generateCallId();
  private readonly tag = generateTag();
  private cseq = 0;
  private timer: TimerHandle | undefined;
  private stopped = false;

  constructor(
    readonly entry: TrunkEntry,
    private readonly deps: TrunkRegistrarDeps,
    private readonly changed: () => void,
  ) {
    this.status = { trunk: entry.trunk.name, state: 'registering', lastStatus: 0, expiresAt: undefined, reason: '' };
  }

  /** Same trunk settings: the running registration can carry on. */
  sameAs(e: TrunkEntry): boolean {
    const a = this.entry.trunk;
    const b = e.trunk;
    return a.host === b.host && a.port === b.port && a.transport === b.transport && a.registerUser === b.registerUser &&
      a.registerPassword === b.registerPassword && a.outboundProxy === b.outboundProxy && this.entry.dest?.address === e.dest?.address;
  }

  start(): void {
    this.send(this.deps.expiresSec ?? 3600);
  }

  /** Unregisters (expires=0) and stops. */
  stop(): void {
    this.stopped = true;
    if (this.timer) this.deps.timers.cancel(this.timer);
    if (this.status.state === 'registered') this.send(0, true);
  }

  private send(expires: number, last = false): void {
    const t = this.entry.trunk;
    const dest = this.entry.dest;
    const local = dest ? this.deps.localEndpoint(dest.transport) : undefined;
    if (!dest || !local) {
      this.fail(0, dest ? `${dest.transport.toUpperCase()} is not enabled here` : 'trunk host does not resolve');
      return;
    }
    const user = t.registerUser!;
    const host = t.host.includes(':') ? `[${t.host}]` : t.host;
    const aor = { uri: { scheme: 'sip', user, host, params: new Map(), headers: new Map() }, params: new Map() };
    const contactParams = new Map<string, string | null>([['expires', String(expires)]]);
    const contactUriParams = new Map<string, string | null>();
    if (dest.transport !== 'udp') contactUriParams.set('transport', dest.transport);
    const lhost = local.address.includes(':') ? `[${local.address}]` : local.address;
    const req = createRequest({
      method: 'REGISTER',
      uri: `sip:${host}${t.port === (t.transport === 'tls' ? 5061 : 5060) ? '' : ':' + t.port}`,
      from: { ...aor, params: new Map([['tag', this.tag]]) },
      to: aor,
      callId: this.callId,
      cseq: ++this.cseq,
      via: newVia(dest.transport, local),
      contact: { uri: { scheme: 'sip', user, host: lhost, port: local.port, params: contactUriParams, headers: new Map() }, params: contactParams },
      headers: t.outboundProxy ? [{ name: 'route', value: `<sip:${t.outboundProxy};lr>` }] : [],
    });
    // The UA core's client answers the trunk's 401/407 (once, again only for a
    // stale nonce) and numbers the retry from our own CSeq counter.
    sendUacRequest(req, {
      transactions: this.deps.transactions,
      dest,
      credentials: { username: user, password: t.registerPassword! },
      nextCSeq: () => ++this.cseq,
      onFinal: (res) => {
        if (last || this.stopped) return;
        if (res.status >= 200 && res.status < 300) this.registered(res, expires);
        else this.fail(res.status, `${res.status} ${res.reason}`);
      },
      onFailure: (kind, _uac, err) => {
        if (!last) this.fail(0, kind === 'timeout' ? 'no answer from the trunk' : (err?.message ?? 'transport error'));
      },
    });
  }

  private registered(res: SipResponse, asked: number): void {
    // The granted time is the expires of our contact in the 200, else Expires, else what we asked.
    let granted = asked;
    const contacts = getContacts(res);
    if (Array.isArray(contacts) && contacts.length > 0) granted = getExpires(res, contacts[0]) ?? granted;
    else granted = getExpires(res) ?? granted;
    granted = Math.max(granted, 10);
    const now = this.deps.now();
    this.status = { trunk: this.entry.trunk.name, state: 'registered', lastStatus: res.status, expiresAt: now + granted * 1000, reason: '' };
    this.deps.log.info({ trunk: this.entry.trunk.name, expires: granted }, 'trunk registered');
    // Refresh well before expiry (RFC 3261 §10.2.4 leaves the margin to us).
    this.schedule(Math.max(5, granted * 0.8));
    this.changed();
  }

  private fail(status: number, reason: string): void {
    if (this.stopped) return;
    const before = this.status.state;
    this.status = { trunk: this.entry.trunk.name, state: 'failed', lastStatus: status, expiresAt: undefined, reason };
    if (before !== 'failed') this.deps.log.warn({ trunk: this.entry.trunk.name, reason }, 'trunk registration failed');
    this.schedule(this.deps.retrySec ?? 30);
    this.changed();
  }

  private schedule(seconds: number): void {
    if (this.timer) this.deps.timers.cancel(this.timer);
    this.timer = this.deps.timers.schedule(seconds * 1000, () => {
      this.timer = undefined;
      if (!this.stopped) this.start();
    });
  }
}

/** Keeps one Registration per trunk that has credentials. */
export class TrunkRegistrar {
  private readonly regs = new Map<string, Registration>();
  /** A registration answered or failed (trunk health follows). */
  onChange?: () => void;

  constructor(private readonly deps: TrunkRegistrarDeps) {}

  /** Reconciles with the current trunk list (called on every trunk table reload). */
  sync(entries: readonly TrunkEntry[]): void {
    const wanted = new Map<string, TrunkEntry>();
    for (const e of entries) if (e.trunk.enabled && e.trunk.registerUser && e.trunk.registerPassword) wanted.set(e.trunk.name, e);
    for (const [name, reg] of this.regs) {
      const e = wanted.get(name);
      if (e && reg.sameAs(e)) continue;
      reg.stop();
      this.regs.delete(name);
    }
    for (const [name, e] of wanted) {
      if (this.regs.has(name)) continue;
      const reg = new Registration(e, this.deps, () => this.onChange?.());
      this.regs.set(name, reg);
      reg.start();
    }
  }

  status(): TrunkRegistrationStatus[] {
    return [...this.regs.values()].map((r) => ({ ...r.status }));
  }

  stop(): void {
    for (const r of this.regs.values()) r.stop();
    this.regs.clear();
  }
}
