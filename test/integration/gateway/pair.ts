// The upstream Switchboard and the handset gateway in front of it, set up as
// the gateway integration tests need them: accounts on both sides, the
// gateway's proxy, lines and settings, waiting for the lines to register; the
// test phones and RTP peers of the call tests; and, for the call tests that
// are not about registration, a one-line lines manager whose REGISTER goes
// out from the gateway's own SIP socket.
import { expect } from 'vitest';
import { startTestServer, type TestServer, type TestServerOptions } from '../lib/server.ts';
import { TestPhone } from '../lib/phone.ts';
import { RtpPeer } from '../lib/rtp-peer.ts';
import { until } from '../lib/until.ts';
import type { ConfigInput } from '../../../src/config/schema.ts';
import type { Store, UserInput } from '../../../src/store/types.ts';
import type { GatewayLines, UpstreamRoute } from '../../../src/gateway/types.ts';
import { gatewaySettingsSchema } from '../../../src/model/gateway.ts';
import type { GatewaySettings, GatewaySettingsPatch } from '../../../src/model/gateway.ts';
import type { SipRequest } from '../../../src/sip/message.ts';
import type { Inbound } from '../../../src/sip/transport/types.ts';
import { createRequest } from '../../../src/sip/serializer.ts';
import { generateCallId, generateTag } from '../../../src/sip/ids.ts';
import { newVia } from '../../../src/sip/dialog.ts';
import { requestFinal } from '../../../src/sip/ua/uac.ts';
import { DigestClient } from '../../../src/sip/digest-client.ts';
import { sipUri } from '../../../src/pbx/routing/targets.ts';

export const UPSTREAM_DOMAIN = 'upstream.test';
export const GATEWAY_DOMAIN = 'gw.test';

/** The password of an upstream account (and so of its line) unless a test says otherwise. */
export const upstreamPassword = (user: string): string => `Up-${user}-secret`;
/** The password of a handset user at the gateway unless a test says otherwise. */
export const handsetPassword = (ext: string): string => `Handset-${ext}-pw`;

/** A desk phone's account at the upstream: plain RTP, as the test phones send. */
export const DESK: UserInput = { extension: '41520', password: 'Desk-41520-pw', name: 'Desk', media: { security: 'disabled' } };

/** One gateway line: the handset user at the gateway and its account at the upstream. */
export interface PairLine {
  extension: string;
  upstreamUser: string;
  /** What the line registers with; default its account's password. '' for none (trusted-server mode). */
  password?: string;
  ipei?: string;
  /** More of the upstream account (name, media, voicemail code, another password). */
  account?: Partial<UserInput>;
  /** More of the handset user (name, media, another password). */
  handset?: Partial<UserInput>;
}

/**
 * A line whose upstream account has Enforced media security, so the upstream
 * offers the gateway RTP/SAVP only and the upstream leg runs SRTP.
 */
export function srtpLine(extension: string, upstreamUser: string, account: Partial<UserInput>, handset: Partial<UserInput> = {}): PairLine {
  return { extension, upstreamUser, account: { ...account, media: { security: 'enforced' } }, handset };
}

/** Adds accounts to a server and has its routing see them now rather than at its next directory poll. */
export async function addUsers(ts: TestServer, users: readonly UserInput[]): Promise<void> {
  for (const u of users) await ts.server.store.users.add(u);
  await ts.server.directory.poll();
}

const upstreamOptions = (config: ConfigInput): TestServerOptions => ({ config: { ...config, sip: { domain: UPSTREAM_DOMAIN, ...config.sip } } });

/**
 * Starts the upstream Switchboard (domain upstream.test unless `config` names
 * another) with an account for each line, and `users` besides (desk phones).
 */
export async function startUpstream(lines: readonly PairLine[], config: ConfigInput = {}, users: readonly UserInput[] = []): Promise<TestServer> {
  const upstream = await startTestServer(upstreamOptions(config));
  await addUsers(upstream, [...lines.map((l) => ({ extension: l.upstreamUser, password: upstreamPassword(l.upstreamUser), ...l.account })), ...users]);
  return upstream;
}

/** The upstream started again on the ports and data directory of one that stopped (it "comes back"). */
export function startUpstreamAgain(stopped: TestServer, config: ConfigInput = {}): Promise<TestServer> {
  return startTestServer({ ...upstreamOptions(config), dataDir: stopped.dataDir, sipPort: stopped.sipPort, tlsPort: stopped.tlsPort });
}

export interface LinesOptions {
  /** The upstream's port for `transport`: its SIP port, or its TLS port over TLS. */
  port: number;
  transport?: 'udp' | 'tcp' | 'tls';
  lines: readonly PairLine[];
  /** Settings besides gateway mode, the upstream domain and the transport (which these may override). */
  settings?: GatewaySettingsPatch;
}

/** Makes `gw` a handset gateway: its handset users, then its lines (configureLines). */
export async function addLines(gw: TestServer, o: LinesOptions): Promise<void> {
  await addUsers(gw, o.lines.map((l) => ({ extension: l.extension, password: handsetPassword(l.extension), ...l.handset })));
  await configureLines(gw.server.store, o);
}

/** The upstream as the gateway's proxy, a line for each handset user (already in `store`), then the settings. */
export async function configureLines(store: Store, o: LinesOptions): Promise<void> {
  const transport = o.transport ?? 'udp';
  await store.gateway.addProxy({ uri: `sip:127.0.0.1:${o.port};transport=${transport}`, priority: 1 });
  for (const l of o.lines) {
    await store.gateway.setLine({ extension: l.extension, upstreamUser: l.upstreamUser, password: l.password ?? upstreamPassword(l.upstreamUser), ...(l.ipei ? { ipei: l.ipei } : {}) });
  }
  await store.gateway.updateSettings({ mode: 'gateway', defaultDomain: UPSTREAM_DOMAIN, transport, ...o.settings });
}

export interface PairOptions extends Omit<LinesOptions, 'port'> {
  /** The upstream's config besides its domain. */
  upstream?: ConfigInput;
  /** Accounts at the upstream besides the lines' (desk phones). */
  upstreamUsers?: readonly UserInput[];
  /** The gateway's config besides its domain (gw.test). */
  gateway?: ConfigInput;
  /** The gateway's time moves only by advance(); the upstream stays on real time. */
  manualTime?: boolean;
  /** Wait (this long, real time) for every line to register before returning. */
  registeredWithinMs?: number;
}

export interface Pair {
  upstream: TestServer;
  gw: TestServer;
}

/** Starts the upstream and the gateway, and gives the gateway its lines to the upstream. */
export async function startPair(o: PairOptions): Promise<Pair> {
  const upstream = await startUpstream(o.lines, o.upstream, o.upstreamUsers);
  const gw = await startTestServer({ manualTime: o.manualTime, config: { ...o.gateway, sip: { domain: GATEWAY_DOMAIN, ...o.gateway?.sip } } });
  await addLines(gw, { ...o, port: o.transport === 'tls' ? upstream.tlsPort : upstream.sipPort });
  if (o.registeredWithinMs !== undefined) await linesRegistered(gw, o.lines.map((l) => l.extension), o.registeredWithinMs);
  return { upstream, gw };
}

/** The pair of the call tests on the real lines manager: one line, the desk phone's account upstream; returns once the line registered. */
export function startCallPair(line: PairLine, upstream: ConfigInput, gateway: ConfigInput): Promise<Pair> {
  return startPair({ upstream, gateway, lines: [line], upstreamUsers: [DESK], registeredWithinMs: 10_000 });
}

/** Waits (real time, bounded) until each of the gateway's lines of `extensions` is registered upstream. */
function linesRegistered(gw: TestServer, extensions: readonly string[], ms?: number): Promise<void> {
  const registered = () => extensions.every((e) => gw.server.gateway.lines?.lineStatus(e)?.registration === 'registered');
  return until(registered, `lines ${extensions.join(', ')} registered`, ms);
}

/** Stops what a file started in the order given (phones, the gateway, its upstream), skipping what a failed set-up never started. */
export async function stopAll(...started: ({ stop(): Promise<void> } | undefined)[]): Promise<void> {
  for (const s of started) await s?.stop();
}

/** The test phones and RTP peers a file opens, stopped together after it. */
export class Endpoints {
  readonly phones: TestPhone[] = [];
  readonly peers: RtpPeer[] = [];

  /** A phone for `ext` registered at `ts` (its account already there): the REGISTER must get 200. */
  async phone(ts: TestServer, ext: string, password: string, domain: string): Promise<TestPhone> {
    const p = await TestPhone.start({ ext, password, server: { host: ts.host, port: ts.sipPort, domain } });
    this.phones.push(p);
    expect((await p.register()).status).toBe(200);
    return p;
  }

  /** Handset 1001 registered at the gateway and the desk phone (DESK) at the upstream, each with its own password. */
  async handsetAndDesk({ gw, upstream }: Pair): Promise<[TestPhone, TestPhone]> {
    return [await this.phone(gw, '1001', handsetPassword('1001'), GATEWAY_DOMAIN), await this.phone(upstream, DESK.extension, DESK.password, UPSTREAM_DOMAIN)];
  }

  /** The phone of `ext` opened before. */
  of(ext: string): TestPhone {
    return this.phones.find((p) => p.opts.ext === ext)!;
  }

  async peer(): Promise<RtpPeer> {
    const p = await RtpPeer.open();
    this.peers.push(p);
    return p;
  }

  async stop(): Promise<void> {
    for (const p of this.peers) p.close();
    for (const p of this.phones) await p.stop();
  }
}

/** The line of the in-test lines manager: `extension` at the gateway is `user` at the upstream, reached at Contact user `contactUser`. */
export interface InTestLine {
  extension: string;
  displayName: string;
  user: string;
  password: string;
  contactUser: string;
  /** The domain of both servers (their default, test.local). */
  domain: string;
}

/**
 * The gateway side of one line over UDP, for call tests that are not about
 * registration (the real lines manager, src/gateway/lines.ts, has its own
 * tests): routes the handset's calls upstream as the line and takes the
 * upstream's requests to its Contact user. Its settings are the tests' to change.
 */
export class InTestLines implements GatewayLines {
  settings: GatewaySettings = gatewaySettingsSchema.parse({ mode: 'gateway', transport: 'udp' });

  constructor(private readonly line: InTestLine, private readonly up: TestServer, private readonly gw: TestServer) {}

  isGatewayUser(ext: string): boolean {
    return ext === this.line.extension;
  }
  route(ext: string): UpstreamRoute | undefined {
    if (ext !== this.line.extension) return undefined;
    const { line } = this;
    return {
      aor: { displayName: line.displayName, uri: sipUri(line.user, line.domain), params: new Map() },
      requestUri: (d) => sipUri(d, line.domain),
      dest: { transport: 'udp', address: '127.0.0.1', port: this.up.sipPort },
      routes: [],
      credentials: { username: line.user, password: line.password },
      contact: { ...sipUri(line.contactUser, '127.0.0.1'), port: this.gw.sipPort },
      secure: false,
    };
  }
  fromUpstream(req: SipRequest, inbound: Inbound) {
    const { line } = this;
    return inbound.source.port === this.up.sipPort && req.uri.user === line.contactUser ? { extension: line.extension, lineUser: line.contactUser } : undefined;
  }
  lineStatus() {
    return undefined;
  }
  status(): never {
    throw new Error('not used here');
  }
  reregister(): void {}
  onChange() {
    return () => {};
  }
  touch(): void {}

  /** The line's REGISTER, sent from the gateway's own UDP socket (as the lines manager does), Contact `contactUser`@gateway; its final status. */
  async register(): Promise<number> {
    const { line, gw } = this;
    const aor = { uri: sipUri(line.user, line.domain), params: new Map() };
    let cseq = 0;
    const res = await requestFinal(createRequest({
      method: 'REGISTER', uri: `sip:${line.domain}`, from: { ...aor, params: new Map([['tag', generateTag()]]) }, to: aor, callId: generateCallId(), cseq: ++cseq,
      via: newVia('udp', { address: '127.0.0.1', port: gw.sipPort }),
      contact: { uri: { ...sipUri(line.contactUser, '127.0.0.1'), port: gw.sipPort }, params: new Map([['expires', '3600']]) },
    }), { transactions: gw.server.transactions, dest: { transport: 'udp', address: '127.0.0.1', port: this.up.sipPort }, credentials: new DigestClient({ username: line.user, password: line.password }), nextCSeq: () => ++cseq });
    return res.status;
  }
}
