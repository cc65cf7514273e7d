// Semantically hostile but well-framed SIP messages, seeded: random methods,
// huge Via and Contact lists, wrong Content-Length, bogus credentials,
// responses to nothing, CANCEL/ACK/BYE for transactions and dialogs that do
// not exist, odd values in every header a server reads. With a challenge at
// hand (`HostileTarget.challenge`) some messages carry correct digest
// credentials, so the registrar and call paths behind authentication get
// the same treatment. Every URI that could be routed names a loopback
// address or the server's own domain: nothing here may send the server
// off loopback.

import { DigestClient } from '../../src/sip/digest-client.ts';
import type { Rng } from '../lib/prng.ts';

export interface FuzzUser {
  ext: string;
  password: string;
}

/** Where a message goes and what it may claim. */
export interface HostileTarget {
  transport: 'UDP' | 'TCP' | 'TLS';
  /** Our socket's address and port, for Via and Contact. */
  localHost: string;
  localPort: number;
  serverHost: string;
  serverPort: number;
  domain: string;
  /** Users these messages may authenticate as, correctly; no message carries wrong credentials for them. */
  authUsers: readonly FuzzUser[];
  /** Users (and made-up names) that get wrong credentials. */
  victims: readonly string[];
  /**
   * 'user': some messages carry correct credentials for authUsers (needs
   * `challenge`), none carries wrong ones, so the auth guard never bans the
   * address. 'attacker': wrong credentials for victims, never right ones.
   */
  role: 'user' | 'attacker';
  /** The newest WWW-/Proxy-Authenticate value this channel received. */
  challenge?: string;
}

const METHODS = ['INVITE', 'REGISTER', 'OPTIONS', 'BYE', 'CANCEL', 'ACK', 'PRACK', 'SUBSCRIBE', 'NOTIFY', 'PUBLISH', 'INFO', 'REFER', 'MESSAGE', 'UPDATE'];
const EVENTS = ['presence', 'dialog', 'message-summary', 'reg', 'refer', 'conference', 'x-unknown', 'presence;id=1', ''];
const TOKEN_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-.!%*_+`\'~';

export class HostileGenerator {
  /** One digest client per user: the nonce counts of a channel must rise. */
  private readonly digests = new Map<string, DigestClient>();

  constructor(private readonly rng: Rng) {}

  private int(n: number): number {
    return Math.floor(this.rng() * n);
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }

  private chance(p: number): boolean {
    return this.rng() < p;
  }

  private token(min = 1, max = 12): string {
    let s = '';
    const n = min + this.int(max - min + 1);
    for (let i = 0; i < n; i++) s += TOKEN_CHARS[this.int(TOKEN_CHARS.length)];
    return s;
  }

  private hex(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += '0123456789abcdef'[this.int(16)];
    return s;
  }

  /** A number a server might choke on: 0, negatives, 2^31, 2^32, 2^53 and past, or just large. */
  private oddNumber(): string {
    return this.pick(['0', '-1', '1', '2147483647', '2147483648', '4294967295', '4294967296', '9007199254740993',
      '99999999999999999999999', '00000000000000000001', '1e3', '0x10', ' 7 ', '3600', String(this.int(100_000))]);
  }

  /** A host that stays on this machine. */
  private host(t: HostileTarget): string {
    return this.pick([t.domain, t.serverHost, `127.0.0.${1 + this.int(254)}`, '[::1]', `127.${this.int(256)}.${this.int(256)}.${this.int(256)}`]);
  }

  private uri(t: HostileTarget, user?: string): string {
    const u = user ?? this.pick([...t.victims, this.pick(t.authUsers).ext, this.token(), '*72', '#', '%2a%2a', '+4930123456', '']);
    const at = u === '' ? '' : `${u}@`;
    const port = this.chance(0.5) ? `:${this.pick([t.serverPort, 5060, 0, 65535, 1])}` : '';
    const params = this.chance(0.3) ? this.pick([';transport=tcp', ';lr', ';maddr=127.0.0.1', `;${this.token()}=${this.token()}`, ';user=phone', ';transport=ws;ob']) : '';
    return `${this.chance(0.05) ? 'sips' : 'sip'}:${at}${this.host(t)}${port}${params}`;
  }

  private via(t: HostileTarget, branch = `z9hG4bK${this.hex(16)}`): string {
    return `SIP/2.0/${t.transport} ${t.localHost}:${t.localPort};branch=${branch};rport`;
  }

  private oddVia(t: HostileTarget): string {
    switch (this.int(6)) {
      case 0: return `SIP/2.0/${t.transport} ${this.host(t)};branch=z9hG4bK${this.hex(8)};received=${this.host(t)};rport=${this.oddNumber()}`;
      case 1: return `SIP/2.0/${this.pick(['UDP', 'TCP', 'TLS', 'SCTP', 'WS', 'FOO'])} ${t.localHost}:${this.oddNumber()};branch=${this.token(0, 40)}`;
      case 2: return `SIP/3.0/UDP ${t.localHost}:${t.localPort};branch=z9hG4bK${this.hex(8)}`;
      case 3: return `SIP/2.0/UDP ${t.localHost};maddr=127.0.0.1;ttl=${this.oddNumber()};branch=z9hG4bK`;
      case 4: return `SIP/2.0/UDP ${t.localHost}:${t.localPort};branch=z9hG4bK${'x'.repeat(1 + this.int(2000))}`;
      default: return this.via(t);
    }
  }

  private credentials(t: HostileTarget, method: string, uri: string): string {
    const user = this.chance(0.3) ? this.token(1, 40) : this.pick(t.victims);
    const realm = this.chance(0.8) ? t.domain : this.token();
    const nonce = this.chance(0.5) && t.challenge !== undefined ? (/nonce="([^"]*)"/.exec(t.challenge)?.[1] ?? '') : this.token(0, 60);
    const params = [
      `username="${user}"`, `realm="${realm}"`, `nonce="${nonce}"`, `uri="${this.chance(0.8) ? uri : this.uri(t)}"`,
      `response="${this.chance(0.7) ? this.hex(32) : this.token(0, 80)}"`,
      this.pick(['algorithm=MD5', 'algorithm=SHA-256', 'algorithm=MD5-sess', 'algorithm=SHA-512-256', `algorithm=${this.token()}`, '']),
      this.pick(['qop=auth, nc=00000001, cnonce="abc"', 'qop=auth-int, nc=ffffffff, cnonce=""', `qop=${this.token()}, nc=${this.token()}`, 'nc=00000001', '']),
      this.pick(['opaque="x"', `${this.token()}=${this.token()}`, 'username="dup"', 'response=', '']),
    ].filter((p) => p !== '');
    // Shuffle, so no parameter is always first.
    for (let i = params.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [params[i], params[j]] = [params[j]!, params[i]!];
    }
    const scheme = this.pick(['Digest', 'Digest', 'Digest', 'digest', 'Basic', 'Bearer', 'NTLM', '']);
    const sep = this.pick([', ', ',', ' ,\t', ',,']);
    return scheme === 'Basic' ? `Basic ${Buffer.from(`${user}:x`).toString('base64')}` : `${scheme} ${params.join(sep)}`;
  }

  private sdp(): string {
    const lines = ['v=0', `o=- ${this.oddNumber()} 1 IN IP4 127.0.0.1`, 's=-', `c=IN ${this.pick(['IP4 127.0.0.1', 'IP6 ::1', 'IP4 0.0.0.0', 'IP4 999.1.1.1', 'IP9 x'])}`, 't=0 0'];
    const media = 1 + this.int(this.chance(0.1) ? 60 : 3);
    for (let i = 0; i < media; i++) {
      lines.push(`m=${this.pick(['audio', 'video', 'image', 'application', this.token()])} ${this.pick(['40000', '0', '65536', '-1', '1/2', String(this.int(65536))])} ${this.pick(['RTP/AVP', 'RTP/SAVP', 'UDP/TLS/RTP/SAVPF', 'udptl', 'TCP/MRCPv2', this.token()])} ${this.pick(['0 8 101', '0', '', '96 97 98 99 100 101 102 103 104 105', '255 256', this.token()])}`);
      if (this.chance(0.5)) lines.push(this.pick(['a=rtpmap:101 telephone-event/8000', 'a=rtpmap:0 PCMU', 'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:AAAA', 'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:' + 'A'.repeat(500), 'a=sendonly', 'a=inactive', 'a=rtcp:0', 'a=fingerprint:sha-256 00', `a=${this.token()}:${this.token(0, 200)}`]));
    }
    return `${lines.join('\r\n')}\r\n`;
  }

  /** The header lines a request of `kind` gets beyond the mandatory ones: odd values for what servers read. */
  private oddHeaders(t: HostileTarget, method: string): string[] {
    const out: string[] = [];
    const n = this.int(4);
    for (let i = 0; i < n; i++) {
      switch (this.int(16)) {
        case 0: out.push(`Max-Forwards: ${this.oddNumber()}`); break;
        case 1: out.push(`Expires: ${this.oddNumber()}`); break;
        case 2: out.push(`Contact: ${this.pick(['*', '<*>', `<${this.uri(t)}>;expires=${this.oddNumber()}`, `"${this.token(0, 300)}" <${this.uri(t)}>;+sip.instance="<urn:uuid:${this.hex(8)}>";reg-id=${this.oddNumber()}`, '<>', ''])}`); break;
        case 3: {
          const m = 1 + this.int(this.chance(0.2) ? 300 : 30);
          const list: string[] = [];
          for (let k = 0; k < m; k++) list.push(`<${this.uri(t)}>;q=${this.pick(['0.5', '1.0', '2', '-1', 'x'])}`);
          out.push(`Contact: ${list.join(', ')}`);
          break;
        }
        case 4: out.push(`Require: ${this.pick(['100rel', 'timer', 'replaces', 'gruu', this.token(), 'outbound, path, foo'])}`); break;
        case 5: out.push(`Supported: ${Array.from({ length: 1 + this.int(300) }, () => this.token()).join(', ')}`); break;
        case 6: out.push(`Route: <sip:${this.host(t)};lr>`, `Record-Route: <sip:${this.host(t)};lr>`); break;
        case 7: out.push(`Event: ${this.pick(EVENTS)}`, `Subscription-State: ${this.pick(['active;expires=60', 'terminated;reason=noresource', 'pending', this.token()])}`); break;
        case 8: out.push(`${this.token(1, 30)}: ${this.token(0, this.chance(0.1) ? 7000 : 60)}`); break;
        case 9: out.push(`Refer-To: <${this.uri(t)}${this.pick(['', '?Replaces=abc%3Bto-tag%3D1%3Bfrom-tag%3D2', '?Replaces=', '?x=y'])}>`, `Referred-By: <${this.uri(t)}>`); break;
        case 10: out.push(`Replaces: ${this.token()}@${this.host(t)};to-tag=${this.token()};from-tag=${this.token()}${this.pick(['', ';early-only'])}`); break;
        case 11: out.push(`Session-Expires: ${this.oddNumber()}${this.pick(['', ';refresher=uac', ';refresher=x'])}`, `Min-SE: ${this.oddNumber()}`); break;
        case 12: out.push(`RAck: ${this.oddNumber()} ${this.oddNumber()} ${this.pick([method, 'INVITE', 'FOO'])}`, `RSeq: ${this.oddNumber()}`); break;
        case 13: out.push(`P-Asserted-Identity: <${this.uri(t)}>`, `Privacy: ${this.pick(['id', 'none', 'header;user', this.token()])}`); break;
        case 14: out.push(`Allow-Events: ${this.pick(EVENTS)}`, `Accept: ${this.pick(['application/sdp', '*/*', 'x/y;q=2', ''])}`); break;
        default: out.push(`Call-Info: <${this.uri(t)}>;answer-after=${this.oddNumber()}`, `Alert-Info: <${this.uri(t)}>`); break;
      }
    }
    return out;
  }

  /** One well-framed hostile message (Content-Length may lie: that is one of the games). */
  next(t: HostileTarget): Buffer {
    const roll = this.int(100);
    if (roll < 10 && t.role === 'user' && t.challenge !== undefined) return this.authenticated(t);
    if (roll < 20) return this.response(t);
    return this.request(t, roll);
  }

  private assemble(startLine: string, headers: string[], body: string, contentLength?: string): Buffer {
    const cl = contentLength ?? String(Buffer.byteLength(body, 'latin1'));
    const lines = [startLine, ...headers];
    if (cl !== 'none') lines.push(`${this.chance(0.1) ? 'l' : 'Content-Length'}: ${cl}`);
    return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`, 'latin1');
  }

  /** A Content-Length that is usually right and otherwise wrong in one of the usual ways. */
  private contentLength(body: string): string | undefined {
    if (!this.chance(0.15)) return undefined;
    const n = Buffer.byteLength(body, 'latin1');
    return this.pick([String(n + 1 + this.int(100)), String(Math.max(0, n - 1 - this.int(20))), '0', '-1', '99999999999', `${n}, ${n}`, 'abc', 'none', ` ${n} `, String(n + 70_000)]);
  }

  private request(t: HostileTarget, roll: number): Buffer {
    let method = this.pick(METHODS);
    if (roll >= 90) method = this.chance(0.5) ? this.token(1, 20) : method.toLowerCase();
    const uri = this.uri(t);
    const callId = this.chance(0.05) ? this.token(0, 3000) : `${this.hex(16)}@${t.localHost}`;
    const fromTag = this.chance(0.9) ? `;tag=${this.hex(8)}` : '';
    // A To tag puts the request in a dialog that does not exist (BYE, re-INVITE, NOTIFY...).
    const toTag = this.chance(0.3) || ['BYE', 'ACK', 'PRACK', 'UPDATE', 'INFO', 'NOTIFY'].includes(method) ? `;tag=${this.hex(8)}` : '';
    const vias: string[] = [];
    // Huge Via lists: one per line, or comma-joined on one line.
    const nVia = this.chance(0.1) ? 10 + this.int(this.chance(0.3) ? 400 : 60) : 1 + this.int(2);
    vias.push(this.chance(0.8) ? this.via(t) : this.oddVia(t));
    for (let i = 1; i < nVia; i++) vias.push(this.oddVia(t));
    const viaLines = this.chance(0.5) ? vias.map((v) => `Via: ${v}`) : [`Via: ${vias.join(', ')}`];
    const cseq = `${this.chance(0.8) ? 1 + this.int(1000) : this.oddNumber()} ${this.chance(0.9) ? method : this.pick(METHODS)}`;
    const user = this.pick([...t.victims, this.token()]);
    const headers = [
      ...viaLines,
      `Max-Forwards: 70`,
      `From: <sip:${user}@${t.domain}>${fromTag}`,
      `To: <${this.chance(0.8) ? uri : this.uri(t)}>${toTag}`,
      `Call-ID: ${callId}`,
      `CSeq: ${cseq}`,
      `Contact: <sip:${user}@${t.localHost}:${t.localPort};transport=${t.transport.toLowerCase()}>`,
      ...this.oddHeaders(t, method),
    ];
    if (t.role === 'attacker' && this.chance(0.35)) headers.push(`${this.chance(0.5) ? 'Authorization' : 'Proxy-Authorization'}: ${this.credentials(t, method, uri)}`);
    if (t.role === 'attacker' && this.chance(0.05)) headers.push(`Authorization: ${this.credentials(t, method, uri)}`, `Authorization: ${this.credentials(t, method, uri)}`);
    // Shuffle a few header lines: order is not something a parser may rely on.
    for (let k = this.int(3); k > 0; k--) {
      const a = this.int(headers.length);
      const b = this.int(headers.length);
      [headers[a], headers[b]] = [headers[b]!, headers[a]!];
    }
    let body = '';
    if (method === 'INVITE' || method === 'UPDATE' || this.chance(0.1)) {
      body = this.chance(0.8) ? this.sdp() : this.token(0, this.chance(0.1) ? 20_000 : 300);
      headers.push(`Content-Type: ${this.pick(['application/sdp', 'application/sdp', 'multipart/mixed;boundary=x', 'text/plain', 'application/pidf+xml', this.token()])}`);
    }
    return this.assemble(`${method} ${uri} SIP/2.0`, headers, body, this.contentLength(body));
  }

  /** A response to a request nobody sent: any status, any CSeq method, a branch of our own. */
  private response(t: HostileTarget): Buffer {
    const status = this.chance(0.7) ? this.pick([100, 180, 183, 200, 202, 401, 407, 481, 487, 491, 500, 503, 603]) : 100 + this.int(600);
    const method = this.pick(METHODS);
    const headers = [
      `Via: SIP/2.0/${t.transport} ${t.serverHost}:${t.serverPort};branch=z9hG4bK${this.hex(this.chance(0.9) ? 16 : 0)}`,
      ...(this.chance(0.2) ? [`Via: ${this.oddVia(t)}`] : []),
      `From: <sip:${this.pick(t.victims)}@${t.domain}>;tag=${this.hex(8)}`,
      `To: <sip:${this.pick(t.victims)}@${t.domain}>${this.chance(0.7) ? `;tag=${this.hex(8)}` : ''}`,
      `Call-ID: ${this.hex(16)}@${t.serverHost}`,
      `CSeq: ${1 + this.int(100)} ${method}`,
      ...(this.chance(0.5) ? [`Contact: <${this.uri(t)}>`] : []),
      ...(status === 401 || status === 407 ? [`${status === 401 ? 'WWW' : 'Proxy'}-Authenticate: Digest realm="${t.domain}", nonce="${this.token()}", qop="auth"`] : []),
      ...(this.chance(0.3) ? this.oddHeaders(t, method) : []),
    ];
    const body = method === 'INVITE' && status >= 180 && status < 300 && this.chance(0.5) ? this.sdp() : '';
    if (body !== '') headers.push('Content-Type: application/sdp');
    return this.assemble(`SIP/2.0 ${status} ${this.chance(0.9) ? 'Whatever' : this.token(0, 200)}`, headers, body, this.contentLength(body));
  }

  /**
   * A request with correct credentials for one of authUsers, against the
   * channel's newest challenge: REGISTERs with odd contacts and expiries,
   * INVITEs with hostile SDP to users, numbers and short codes, SUBSCRIBE,
   * MESSAGE, REFER and OPTIONS out of dialog. No byte mutation follows
   * (it would break the credentials, or send a contact off loopback).
   */
  private authenticated(t: HostileTarget): Buffer {
    const me = this.pick(t.authUsers);
    const method = this.pick(['REGISTER', 'REGISTER', 'INVITE', 'INVITE', 'SUBSCRIBE', 'MESSAGE', 'REFER', 'OPTIONS', 'PUBLISH']);
    const target = method === 'REGISTER' ? `sip:${t.domain}` : `sip:${this.pick([...t.authUsers.map((u) => u.ext), ...t.victims, '*72', '*78', '*0', '0', '999', '+49301234'])}@${t.domain}`;
    let digest = this.digests.get(me.ext);
    if (digest === undefined) {
      // cnonces from the seeded generator, so a run repeats.
      digest = new DigestClient({ username: me.ext, password: me.password, cnonce: () => this.hex(16) });
      this.digests.set(me.ext, digest);
    }
    const auth = digest.authorize(t.challenge!, method, target);
    const aor = `<sip:${me.ext}@${t.domain}>`;
    const contact = `<sip:${me.ext}@${t.localHost}:${t.localPort};transport=${t.transport.toLowerCase()}>`;
    const headers = [
      `Via: ${this.via(t)}`,
      ...(this.chance(0.2) ? Array.from({ length: 1 + this.int(40) }, () => `Via: SIP/2.0/UDP 127.0.0.${1 + this.int(254)}:${this.int(65536)};branch=z9hG4bK${this.hex(8)}`) : []),
      'Max-Forwards: 70',
      `From: ${aor};tag=${this.hex(8)}`,
      `To: ${method === 'REGISTER' ? aor : `<${target}>`}`,
      `Call-ID: ${this.hex(16)}@${t.localHost}`,
      `CSeq: ${1 + this.int(1000)} ${method}`,
      `${method === 'REGISTER' ? 'Authorization' : 'Proxy-Authorization'}: ${auth}`,
    ];
    if (method === 'REGISTER') {
      switch (this.int(5)) {
        case 0: headers.push('Contact: *', 'Expires: 0'); break;
        case 1: headers.push(`Contact: ${Array.from({ length: 1 + this.int(30) }, (_, i) => `<sip:${me.ext}@127.0.0.${1 + i}:${1024 + this.int(60000)}>;expires=${this.oddNumber()}`).join(', ')}`); break;
        case 2: headers.push(`Contact: ${contact};expires=${this.oddNumber()};+sip.instance="<urn:uuid:${this.hex(8)}-0000-0000-0000-${this.hex(12)}>";reg-id=${this.oddNumber()}`, 'Supported: outbound, path'); break;
        case 3: headers.push(`Contact: ${contact}`, `Expires: ${this.oddNumber()}`); break;
        default: headers.push(`Contact: ${contact};q=${this.pick(['0.1', '1', '1.5'])}`, ...this.oddHeaders(t, method).filter((h) => !/^(Route|Record-Route|Contact|Refer-To|Referred-By|P-Asserted|Call-Info|Alert-Info):/.test(h))); break;
      }
      return this.assemble(`REGISTER ${target} SIP/2.0`, headers, '');
    }
    headers.push(`Contact: ${contact}`);
    if (method === 'SUBSCRIBE' || method === 'PUBLISH') headers.push(`Event: ${this.pick(EVENTS)}`, `Expires: ${this.oddNumber()}`);
    if (method === 'REFER') headers.push(`Refer-To: <sip:${this.pick(t.victims)}@${t.domain}>`);
    let body = '';
    if (method === 'INVITE' || (method === 'MESSAGE' && this.chance(0.5))) {
      body = method === 'INVITE' ? this.sdp() : this.token(0, 1000);
      headers.push(`Content-Type: ${method === 'INVITE' ? 'application/sdp' : 'text/plain'}`);
    }
    return this.assemble(`${method} ${target} SIP/2.0`, headers, body);
  }
}
