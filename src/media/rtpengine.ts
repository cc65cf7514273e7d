// Optional media backend: rtpengine driven over its ng control protocol
// (`COOKIE <bencoded dict>` in one UDP datagram each way). The built-in relay
// stays the default; this is for deployments that outgrow one process.
//
// NgClient is the protocol: one socket, a unique cookie per request, the same
// datagram retransmitted until a reply with that cookie arrives. rtpengine
// caches replies by cookie, so a retransmitted offer is answered from the
// cache rather than allocating ports twice, which is why a retransmission
// must reuse its cookie and why cookies carry a random per-client prefix (a
// restarted server must not collide with cookies it used before).
//
// RtpengineSession is the B2BUA's view: SDP in from one side, SDP out for the
// other, like the built-in relay's role, with SDP (which may hold SDES keys)
// never logged.
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import type { RemoteInfo, Socket } from 'node:dgram';
import { isIP } from 'node:net';
import type { Logger } from '../lib/log.ts';
import { silentLogger } from '../lib/log.ts';
import type { BencodeDict, BencodeInput, BencodeLimits, BencodeValue } from './bencode.ts';
import { DEFAULT_BENCODE_LIMITS, bencodeDict, bencodeInt, bencodeList, bencodeText, decodeBencode, encodeBencode } from './bencode.ts';

export interface NgClientOptions {
  /** rtpengine's --listen-ng address; an IP literal. */
  host: string;
  port: number;
  /** Local address to send from; default the loopback or any address of host's family. */
  localAddress?: string;
  /** Wait per try before retransmitting; default 500 ms. */
  retransmitMs?: number;
  /** Sends per request (first + retransmissions); default 3, so the timeout is 3 × 500 ms. */
  attempts?: number;
  /** Requests in flight at once; more are refused with kind 'busy'. Default 4096. */
  maxInFlight?: number;
  limits?: BencodeLimits;
  logger?: Logger;
}

/**
 * Why a request failed. 'rejected': rtpengine answered result=error (message
 * is its error-reason); 'busy': it answered "load limit", or too many requests
 * are in flight here; 'timeout': no reply after every attempt; 'bad-reply':
 * the reply could not be decoded; 'closed': the client was closed; 'invalid':
 * a field of the request is wrong (named in the message).
 */
export type NgErrorKind = 'rejected' | 'busy' | 'timeout' | 'bad-reply' | 'closed' | 'invalid';

export class NgError extends Error {
  override readonly name = 'NgError';
  constructor(
    readonly kind: NgErrorKind,
    readonly command: string,
    message: string,
  ) {
    super(message);
  }
}

export type NgTransportProtocol = 'RTP/AVP' | 'RTP/SAVP' | 'RTP/AVPF' | 'RTP/SAVPF';

/** SDES (RFC 4568) behaviour toward the side the SDP goes to. */
export interface NgSdes {
  /** No SDES at all (no a=crypto offered, none accepted). */
  off?: boolean;
  unencryptedSrtcp?: boolean;
  unencryptedSrtp?: boolean;
  unauthenticatedSrtp?: boolean;
  /** Offer only these suites, e.g. ['AES_CM_128_HMAC_SHA1_80']. */
  only?: readonly string[];
  /** Never offer these suites. */
  exclude?: readonly string[];
  /** Add a key lifetime to generated a=crypto lines. */
  lifetime?: boolean;
}

/** Options common to offer and answer. */
export interface NgSdpOptions {
  callId: string;
  fromTag: string;
  sdp: string | Buffer;
  /** 'remove' strips ICE (SIP phones here do not do it). */
  ice?: 'remove' | 'force' | 'default' | 'optional';
  /** Profile of the rewritten SDP: RTP/AVP <-> RTP/SAVP bridges RTP and SRTP. */
  transportProtocol?: NgTransportProtocol;
  /** Put rtpengine's address in o= and in the session-level c=. */
  replace?: ReadonlyArray<'origin' | 'session-connection' | 'session-name' | 'force-increment-sdp-version'>;
  /** rtpengine logical interfaces: [the sender's side, the receiver's side]. */
  direction?: readonly [string, string];
  sdes?: NgSdes;
  /** DTLS-SRTP; 'off' keeps a=fingerprint/a=setup out of SDES-only offers. */
  dtls?: 'off' | 'passive' | 'active';
  /** Default false: sent as record-call=no. */
  recordCall?: boolean;
  /** Further ng flags, e.g. 'strict-source', 'symmetric', 'trust-address'. */
  flags?: readonly string[];
  /** Free-form name rtpengine reports back for this party in query output. */
  label?: string;
}

export interface NgAnswerOptions extends NgSdpOptions {
  toTag: string;
}

export interface NgOfferOptions extends NgSdpOptions {
  /** Set on re-offers once the other party is known. */
  toTag?: string;
}

export interface NgIds {
  callId: string;
  fromTag?: string;
  toTag?: string;
}

export interface NgDeleteOptions extends NgIds {
  /** Seconds rtpengine keeps the deleted call for queries; default its --delete-delay. */
  deleteDelay?: number;
}

export interface NgSdpResult {
  sdp: Buffer;
  warning?: string;
}

export interface NgCounters {
  packets: number;
  bytes: number;
  errors: number;
}

export interface NgStreamStats {
  rtcp: boolean;
  localAddress: string;
  localPort: number;
  /** Where rtpengine sends to this party (latched or signalled). */
  endpoint: { address: string; port: number } | undefined;
  cryptoSuite: string | undefined;
  /** Received from this party on this stream. */
  counters: NgCounters;
}

/** One party (tag) of the call; counters are what rtpengine received from it. */
export interface NgPartyStats {
  tag: string;
  label: string | undefined;
  rtp: NgCounters;
  rtcp: NgCounters;
  medias: Array<{ index: number; type: string; protocol: string; streams: NgStreamStats[] }>;
}

export interface NgCallStats {
  /** Unix seconds. */
  created: number | undefined;
  totals: { rtp: NgCounters; rtcp: NgCounters };
  parties: NgPartyStats[];
  /** The reply as decoded, for fields not typed here. */
  raw: BencodeDict;
}

interface Pending {
  command: string;
  packet: Buffer;
  sendsLeft: number;
  timer?: NodeJS.Timeout;
  resolve(d: BencodeDict): void;
  reject(e: NgError): void;
}

const SUITE = /^[A-Z0-9_]{1,64}$/;
/** The SDES suites rtpengine 10.5 offers by default. */
const RTPENGINE_SUITES: readonly string[] = [
  'AEAD_AES_256_GCM', 'AEAD_AES_128_GCM', 'AES_256_CM_HMAC_SHA1_80', 'AES_256_CM_HMAC_SHA1_32', 'AES_192_CM_HMAC_SHA1_80',
  'AES_192_CM_HMAC_SHA1_32', 'AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32', 'F8_128_HMAC_SHA1_80', 'F8_128_HMAC_SHA1_32',
  'NULL_HMAC_SHA1_80', 'NULL_HMAC_SHA1_32',
];

export class NgClient {
  private readonly pending = new Map<string, Pending>();
  private readonly prefix = randomBytes(6).toString('hex');
  private seq = 0;
  private closed = false;
  private readonly retransmitMs: number;
  private readonly attempts: number;
  private readonly maxInFlight: number;
  private readonly limits: BencodeLimits;
  private readonly log: Logger;

  private constructor(
    private readonly socket: Socket,
    readonly host: string,
    readonly port: number,
    opts: NgClientOptions,
  ) {
    this.retransmitMs = opts.retransmitMs ?? 500;
    this.attempts = opts.attempts ?? 3;
    this.maxInFlight = opts.maxInFlight ?? 4096;
    this.limits = opts.limits ?? DEFAULT_BENCODE_LIMITS;
    this.log = opts.logger ?? silentLogger;
    socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
    socket.on('error', (err) => this.log.warn({ err: err.message }, 'rtpengine ng socket error'));
  }

  /** Binds the client's socket. RangeError for a host that is not an IP literal or a bad port/timer. */
  static async open(opts: NgClientOptions): Promise<NgClient> {
    const family = isIP(opts.host);
    if (family === 0) throw new RangeError(`rtpengine host must be an IP address, not ${JSON.stringify(opts.host)}`);
    if (!Number.isInteger(opts.port) || opts.port < 1 || opts.port > 65535) throw new RangeError(`rtpengine port out of range: ${opts.port}`);
    for (const [k, v] of [['retransmitMs', opts.retransmitMs], ['attempts', opts.attempts], ['maxInFlight', opts.maxInFlight]] as const) {
      if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new RangeError(`rtpengine ${k} must be a positive integer, not ${v}`);
    }
    const socket = createSocket(family === 6 ? 'udp6' : 'udp4');
    const local = opts.localAddress ?? (family === 6 ? '::' : '0.0.0.0');
    await new Promise<void>((res, rej) => {
      socket.once('error', rej);
      socket.bind({ address: local, port: 0 }, () => {
        socket.off('error', rej);
        res();
      });
    });
    return new NgClient(socket, opts.host, opts.port, opts);
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /** Sends one command and resolves with the reply dictionary (result ok or pong). */
  request(command: string, args: { readonly [key: string]: BencodeInput | undefined } = {}): Promise<BencodeDict> {
    if (this.closed) return Promise.reject(new NgError('closed', command, 'rtpengine client is closed'));
    if (this.pending.size >= this.maxInFlight) return Promise.reject(new NgError('busy', command, `${this.pending.size} rtpengine requests in flight`));
    const cookie = `${this.prefix}_${(++this.seq).toString(36)}`;
    let body: Buffer;
    try {
      body = encodeBencode({ ...args, command });
    } catch (err) {
      return Promise.reject(new NgError('invalid', command, `${command}: ${(err as Error).message}`));
    }
    const packet = Buffer.concat([Buffer.from(`${cookie} `, 'latin1'), body]);
    return new Promise((resolve, reject) => {
      const p: Pending = { command, packet, sendsLeft: this.attempts, resolve, reject };
      this.pending.set(cookie, p);
      this.transmit(cookie, p);
    });
  }

  private transmit(cookie: string, p: Pending): void {
    p.sendsLeft--;
    this.socket.send(p.packet, this.port, this.host, (err) => {
      if (err) this.log.debug({ err: err.message, command: p.command }, 'rtpengine ng send failed');
    });
    p.timer = setTimeout(() => {
      if (p.sendsLeft > 0) return this.transmit(cookie, p);
      this.pending.delete(cookie);
      const ms = this.attempts * this.retransmitMs;
      p.reject(new NgError('timeout', p.command, `no reply from rtpengine ${this.host}:${this.port} to '${p.command}' after ${this.attempts} tries (${ms} ms)`));
    }, this.retransmitMs);
  }

  private onMessage(msg: Buffer, rinfo: RemoteInfo): void {
    // Only the configured rtpengine may answer; anything else is noise or spoofing.
    if (rinfo.port !== this.port || rinfo.address !== this.host) return;
    const space = msg.indexOf(0x20);
    if (space <= 0) return;
    const cookie = msg.toString('latin1', 0, space);
    const p = this.pending.get(cookie);
    if (!p) return; // late duplicate of an answered or timed-out request
    this.pending.delete(cookie);
    clearTimeout(p.timer);
    const decoded = decodeBencode(msg.subarray(space + 1), this.limits);
    const dict = decoded.ok ? bencodeDict(decoded.value) : undefined;
    if (!dict) return p.reject(new NgError('bad-reply', p.command, `bad reply from rtpengine to '${p.command}': ${decoded.ok ? 'not a dictionary' : decoded.reason}`));
    const result = bencodeText(dict['result']);
    if (result === 'ok' || result === 'pong') {
      const warning = bencodeText(dict['warning']);
      if (warning !== undefined) this.log.warn({ command: p.command, warning }, 'rtpengine warning');
      return p.resolve(dict);
    }
    const reason = bencodeText(dict['error-reason']) ?? `result=${result ?? '(none)'}`;
    p.reject(new NgError(result === 'load limit' ? 'busy' : 'rejected', p.command, `rtpengine refused '${p.command}': ${reason}`));
  }

  async ping(): Promise<void> {
    const r = await this.request('ping');
    if (bencodeText(r['result']) !== 'pong') throw new NgError('bad-reply', 'ping', 'rtpengine answered ping without pong');
  }

  offer(o: NgOfferOptions): Promise<NgSdpResult> {
    return this.sdpCommand('offer', o, o.toTag);
  }

  answer(o: NgAnswerOptions): Promise<NgSdpResult> {
    return this.sdpCommand('answer', o, o.toTag, true);
  }

  /**
   * Ends the call (or one party of it). Resolves with the final statistics
   * when the reply carries them; rtpengine 10.5's does not (undefined), so
   * query first when they matter.
   */
  async delete(o: NgDeleteOptions): Promise<NgCallStats | undefined> {
    const args = idArgs('delete', o);
    if (o.deleteDelay !== undefined) args['delete delay'] = o.deleteDelay;
    const r = await this.request('delete', args);
    return r['totals'] === undefined && r['tags'] === undefined ? undefined : callStats(r);
  }

  /** Statistics of a running call; kind 'rejected' when rtpengine does not know it. */
  async query(o: NgIds): Promise<NgCallStats> {
    return callStats(await this.request('query', idArgs('query', o)));
  }

  /** Rejects whatever is in flight with kind 'closed' and releases the socket. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new NgError('closed', p.command, 'rtpengine client closed'));
    }
    this.pending.clear();
    this.socket.close();
  }

  private async sdpCommand(command: string, o: NgSdpOptions, toTag: string | undefined, needTo = false): Promise<NgSdpResult> {
    const args = sdpArgs(command, o, toTag, needTo);
    const r = await this.request(command, args);
    const sdp = r['sdp'];
    if (!Buffer.isBuffer(sdp)) throw new NgError('bad-reply', command, `rtpengine reply to '${command}' has no sdp`);
    const warning = bencodeText(r['warning']);
    return warning === undefined ? { sdp } : { sdp, warning };
  }
}

type Args = { [key: string]: BencodeInput | undefined };

function need(command: string, field: string, v: unknown): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > 1024) throw new NgError('invalid', command, `${command}: ${field} must be a non-empty string (at most 1024 characters)`);
  return v;
}

function idArgs(command: string, o: NgIds): Args {
  return {
    'call-id': need(command, 'call-id', o.callId),
    'from-tag': o.fromTag === undefined ? undefined : need(command, 'from-tag', o.fromTag),
    'to-tag': o.toTag === undefined ? undefined : need(command, 'to-tag', o.toTag),
  };
}

function sdpArgs(command: string, o: NgSdpOptions, toTag: string | undefined, needTo: boolean): Args {
  const args = idArgs(command, { callId: o.callId, fromTag: need(command, 'from-tag', o.fromTag), toTag: needTo ? need(command, 'to-tag', toTag) : toTag });
  if (typeof o.sdp !== 'string' && !Buffer.isBuffer(o.sdp)) throw new NgError('invalid', command, `${command}: sdp must be a string or Buffer`);
  if (o.sdp.length === 0) throw new NgError('invalid', command, `${command}: sdp is empty`);
  args['sdp'] = o.sdp;
  args['ICE'] = o.ice;
  args['transport-protocol'] = o.transportProtocol;
  args['replace'] = o.replace;
  if (o.direction) args['direction'] = [need(command, 'direction[0]', o.direction[0]), need(command, 'direction[1]', o.direction[1])];
  args['SDES'] = o.sdes ? sdesFlags(command, o.sdes) : undefined;
  args['DTLS'] = o.dtls;
  args['record call'] = o.recordCall ? 'yes' : 'no';
  args['flags'] = o.flags;
  args['label'] = o.label;
  return args;
}

function sdesFlags(command: string, s: NgSdes): string[] {
  const out: string[] = [];
  if (s.off) out.push('off');
  if (s.unencryptedSrtcp) out.push('unencrypted_srtcp');
  if (s.unencryptedSrtp) out.push('unencrypted_srtp');
  if (s.unauthenticatedSrtp) out.push('unauthenticated_srtp');
  if (s.lifetime) out.push('lifetime');
  for (const suite of [...(s.only ?? []), ...(s.exclude ?? [])]) {
    if (!SUITE.test(suite)) throw new NgError('invalid', command, `${command}: sdes suite ${JSON.stringify(suite)} is not a suite name`);
  }
  const excluded = new Set(s.exclude);
  if (s.only) {
    // rtpengine 10.5 (Debian 12) ignores only-SUITE, so the suites left out are also excluded one by one.
    for (const suite of s.only) out.push(`only-${suite}`);
    for (const suite of RTPENGINE_SUITES) if (!s.only.includes(suite)) excluded.add(suite);
  }
  for (const suite of excluded) out.push(`no-${suite}`);
  return out;
}

function counters(v: BencodeValue | undefined): NgCounters {
  const d = bencodeDict(v);
  return { packets: bencodeInt(d?.['packets']) ?? 0, bytes: bencodeInt(d?.['bytes']) ?? 0, errors: bencodeInt(d?.['errors']) ?? 0 };
}

function add(into: NgCounters, c: NgCounters): void {
  into.packets += c.packets;
  into.bytes += c.bytes;
  into.errors += c.errors;
}

function streamStats(v: BencodeValue): NgStreamStats {
  const s = bencodeDict(v);
  const ep = bencodeDict(s?.['endpoint']);
  const epAddr = bencodeText(ep?.['address']);
  const flags = (bencodeList(s?.['flags']) ?? []).map(bencodeText);
  return {
    rtcp: flags.includes('RTCP'),
    localAddress: bencodeText(s?.['local address']) ?? '',
    localPort: bencodeInt(s?.['local port']) ?? 0,
    endpoint: epAddr === undefined ? undefined : { address: epAddr, port: bencodeInt(ep?.['port']) ?? 0 },
    cryptoSuite: bencodeText(s?.['crypto suite']),
    counters: counters(s?.['stats']),
  };
}

/** Typed view of a query/delete reply; tolerant of missing fields (counted as zero). */
export function callStats(raw: BencodeDict): NgCallStats {
  const totals = bencodeDict(raw['totals']);
  const parties: NgPartyStats[] = [];
  const tags = bencodeDict(raw['tags']) ?? {};
  for (const key of Object.keys(tags)) {
    const t = bencodeDict(tags[key]);
    const party: NgPartyStats = { tag: bencodeText(t?.['tag']) ?? key, label: bencodeText(t?.['label']), rtp: counters(undefined), rtcp: counters(undefined), medias: [] };
    for (const mv of bencodeList(t?.['medias']) ?? []) {
      const m = bencodeDict(mv);
      const streams = (bencodeList(m?.['streams']) ?? []).map(streamStats);
      for (const s of streams) add(s.rtcp ? party.rtcp : party.rtp, s.counters);
      party.medias.push({ index: bencodeInt(m?.['index']) ?? 0, type: bencodeText(m?.['type']) ?? '', protocol: bencodeText(m?.['protocol']) ?? '', streams });
    }
    parties.push(party);
  }
  return { created: bencodeInt(raw['created']), totals: { rtp: counters(totals?.['RTP']), rtcp: counters(totals?.['RTCP']) }, parties, raw };
}
