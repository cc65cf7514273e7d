import type { Header, NameAddr, SipRequest } from '../../sip/message.ts';
import type { Inbound } from '../../sip/transport/types.ts';
import { formatUri } from '../../sip/uri.ts';
import { detachString } from '../../sip/syntax.ts';
import { getExpires, getHeader, getHeaders, parseDeltaSeconds, parseNameAddrList, parseTokenList, unquote } from '../../sip/headers.ts';
import type { LocationService, LiveBinding } from './location.ts';
import type { Authenticator } from '../auth/authenticator.ts';
import type { User } from '../../store/types.ts';

export interface RegistrarConfig {
  domain: string;
  minExpiresSec: number;
  maxExpiresSec: number;
  defaultExpiresSec: number;
  maxContactsPerAor: number;
  /** This node's name, stored with each binding (nodes sharing a database route calls to the node holding the phone). */
  node?: string;
}

/** Retry-After of a REGISTER refused because the registration could not be stored. */
const DURABILITY_RETRY_AFTER_SEC = 30;

/** What the registrar does with a REGISTER: the response to send. */
export type Respond = (status: number, reason?: string, extraHeaders?: Header[]) => void;

interface ContactUpdate {
  contact: NameAddr;
  contactUri: string;
  expiresSec: number;
}

/**
 * What a REGISTER is refused with before its sender is authenticated: the
 * stateless screen lets these through to the registrar, which answers them.
 */
export function registerRefusal(req: SipRequest): { status: number; reason: string } | undefined {
  const to = req.to.uri;
  if (to.scheme !== 'sip' && to.scheme !== 'sips') return { status: 400, reason: 'To must be a SIP URI' };
  if (!to.user) return { status: 404, reason: 'Not Found' };
  return undefined;
}

/**
 * RFC 3261 §10.3 registrar with Path (RFC 3327); a +sip.instance replaces
 * that instance's older binding (RFC 5626 §6). The AOR is the To user in our
 * single domain: a device may register "sip:1001@<server IP>" (SPEC EC-11)
 * and still be 1001 of the domain.
 *
 * No GRUU (RFC 5627): handing one out promises that a request to it reaches
 * that one device, and routing sends requests to the AOR's bindings instead.
 * So none is minted or returned, even when the phone says Supported: gruu
 * (§5.1 lets a registrar without GRUU support ignore it). The stored
 * pub_gruu/temp_gruu columns stay, always null: dropping them is a migration.
 */
export class Registrar {
  /** A binding registered here, just before it is stored (the contact prober takes the UDP ones of this worker). */
  onLocalBinding?: (b: LiveBinding) => void;

  constructor(
    private readonly config: RegistrarConfig,
    private readonly location: LocationService,
    private readonly auth: Authenticator,
    private readonly now: () => number,
    /** Why this user may not register over the transport it used (TLS-only users, Strict SIPS), or undefined. */
    private readonly transportRefusal: (user: User, inbound: Inbound) => string | undefined = () => undefined,
    /** The flow the REGISTER came over proved its user: its connection keeps its slot when connections run short. */
    private readonly trustFlow: (source: Inbound['source']) => void = () => {},
  ) {}

  aorFor(user: string): string {
    return `sip:${user}@${this.config.domain}`;
  }

  handle(req: SipRequest, inbound: Inbound, respond: Respond): void {
    const refusal = registerRefusal(req);
    if (refusal !== undefined) {
      respond(refusal.status, refusal.reason);
      return;
    }
    // registerRefusal() has made sure there is one.
    const extension = req.to.uri.user as string;
    const outcome = this.auth.authenticate(req, inbound.source, 'registrar');
    if (outcome.kind !== 'ok') {
      respond(outcome.status, outcome.reason, outcome.headers);
      return;
    }
    // SPEC A-02: the digest user must be the one whose extension is being registered.
    if (outcome.user.extension !== extension) {
      this.auth.observer?.refused({ reason: 'wrong-user', user: outcome.user, name: outcome.user.authUser, req, source: inbound.source, detail: `registering ${extension}` });
      respond(403, 'Forbidden');
      return;
    }
    const transportRefusal = this.transportRefusal(outcome.user, inbound);
    if (transportRefusal !== undefined) {
      this.auth.observer?.refused({ reason: 'transport', user: outcome.user, name: outcome.user.authUser, req, source: inbound.source, detail: transportRefusal });
      respond(403, transportRefusal);
      return;
    }
    this.trustFlow(inbound.source);
    this.update(req, inbound, this.aorFor(extension), respond);
  }

  private update(req: SipRequest, inbound: Inbound, aor: string, respond: Respond): void {
    const parsed = this.readContacts(req);
    if (parsed === 'invalid') {
      respond(400, 'Bad Contact');
      return;
    }
    const now = this.now();
    if (parsed === 'star') {
      // §10.3 step 6: "*" only with Expires: 0 and as the only Contact.
      if (getExpires(req) !== 0) {
        respond(400, 'Wildcard Contact needs Expires: 0');
        return;
      }
      for (const b of this.location.raw(aor)) {
        if (b.callId === req.callId && req.cseq.seq <= b.cseq) {
          respond(500, 'Out of order request');
          return;
        }
      }
      this.location.removeAll(aor);
      this.acknowledge(respond, this.okHeaders(aor, now));
      return;
    }
    const min = this.config.minExpiresSec;
    for (const c of parsed) {
      if (c.expiresSec > 0 && c.expiresSec < min) {
        respond(423, 'Interval Too Brief', [{ name: 'min-expires', value: String(min) }]);
        return;
      }
    }
    const existing = this.location.raw(aor);
    for (const c of parsed) {
      const old = existing.find((b) => b.contactUri === c.contactUri);
      if (old && old.callId === req.callId && req.cseq.seq <= old.cseq) {
        respond(500, 'Out of order request');
        return;
      }
    }
    const supported = parseTokenList(getHeaders(req, 'supported'));
    const wantsPath = supported.includes('path');
    const path = wantsPath ? getHeaders(req, 'path').map(detachString) : [];
    const ua = getHeader(req, 'user-agent');
    const userAgent = ua === undefined ? null : detachString(ua);
    for (const c of parsed) {
      if (c.expiresSec === 0) {
        this.location.remove(aor, c.contactUri);
        continue;
      }
      const instance = instanceId(c.contact.params.get('+sip.instance'));
      // RFC 5626 §6: a new binding for the same instance replaces the old one (phone rebooted, new port).
      if (instance) {
        for (const b of [...this.location.raw(aor)]) {
          if (b.instanceId === instance && b.contactUri !== c.contactUri) this.location.remove(aor, b.contactUri);
        }
      }
      // Bindings live for an hour: detach what is stored from the request's text (see detachString).
      const contactUri = detachString(c.contactUri);
      const binding: LiveBinding = {
        aor,
        contactUri,
        contactRaw: contactUri,
        callId: detachString(req.callId),
        cseq: req.cseq.seq,
        expiresAt: now + c.expiresSec * 1000,
        q: parseQ(c.contact.params.get('q')),
        path,
        instanceId: instance ? detachString(instance) : null,
        regId: parseDeltaSeconds(c.contact.params.get('reg-id') ?? '') ?? null,
        pubGruu: null,
        tempGruu: null,
        transport: inbound.source.transport,
        sourceAddress: inbound.source.address,
        sourcePort: inbound.source.port,
        localAddress: inbound.local.address,
        localPort: inbound.local.port,
        userAgent,
        updatedAt: now,
        node: this.config.node ?? null,
        connectionId: inbound.source.connectionId,
      };
      this.onLocalBinding?.(binding);
      this.location.put(binding);
    }
    this.enforceMaxContacts(aor);
    const extra = this.okHeaders(aor, now);
    if (wantsPath && path.length) for (const p of path) extra.push({ name: 'path', value: p });
    this.acknowledge(respond, extra);
  }

  /**
   * 200 OK once the change is on disk (group commit: a few ms), so a crash
   * right after cannot lose a registration the phone was told it has. When the
   * write fails (disk full, database gone) the phone hears 503 and tries again
   * later or elsewhere (RFC 3263 failover); the binding stays in memory and
   * queued, and calls still reach it meanwhile.
   */
  private acknowledge(respond: Respond, headers: Header[]): void {
    this.location.whenDurable((err) => {
      if (err === undefined) respond(200, 'OK', headers);
      else respond(503, 'Service Unavailable', [{ name: 'retry-after', value: String(DURABILITY_RETRY_AFTER_SEC) }]);
    });
  }

  /** Keeps the newest bindings when a device keeps registering new contacts (e.g. new port after each reboot). */
  private enforceMaxContacts(aor: string): void {
    const list = [...this.location.raw(aor)];
    const excess = list.length - this.config.maxContactsPerAor;
    if (excess <= 0) return;
    list.sort((a, b) => a.updatedAt - b.updatedAt);
    for (let i = 0; i < excess; i++) this.location.remove(aor, list[i]!.contactUri);
  }

  private readContacts(req: SipRequest): ContactUpdate[] | 'star' | 'invalid' {
    const values = getHeaders(req, 'contact');
    if (values.length === 0) return [];
    const contacts: NameAddr[] = [];
    let star = false;
    for (const v of values) {
      const list = parseNameAddrList(v);
      if (list === undefined) return 'invalid';
      if (list === '*') star = true;
      else contacts.push(...list);
    }
    if (star) return contacts.length === 0 && values.length === 1 ? 'star' : 'invalid';
    const max = this.config.maxExpiresSec;
    const out: ContactUpdate[] = [];
    for (const contact of contacts) {
      const scheme = contact.uri.scheme;
      if (scheme !== 'sip' && scheme !== 'sips') return 'invalid';
      const expiresSec = Math.min(getExpires(req, contact) ?? this.config.defaultExpiresSec, max);
      out.push({ contact, contactUri: formatUri(contact.uri), expiresSec });
    }
    return out;
  }

  /** The 200 OK lists every current binding with its remaining time (§10.3 step 8). */
  private okHeaders(aor: string, now: number): Header[] {
    const headers: Header[] = [];
    for (const b of this.location.lookup(aor)) {
      let v = `<${b.contactUri}>;expires=${Math.max(0, Math.round((b.expiresAt - now) / 1000))}`;
      if (b.q !== null && b.q !== undefined) v += `;q=${b.q}`;
      if (b.instanceId) v += `;+sip.instance="${b.instanceId}"`;
      if (b.regId !== null && b.regId !== undefined) v += `;reg-id=${b.regId}`;
      headers.push({ name: 'contact', value: v });
    }
    headers.push(this.dateHeader(now));
    return headers;
  }

  private dateCache: { second: number; header: Header } = { second: -1, header: { name: 'date', value: '' } };

  /** The Date header (RFC 3261 §20.17), formatted once per second rather than per REGISTER. */
  private dateHeader(now: number): Header {
    const second = Math.floor(now / 1000);
    if (this.dateCache.second !== second) this.dateCache = { second, header: { name: 'date', value: new Date(second * 1000).toUTCString() } };
    return this.dateCache.header;
  }
}

function parseQ(v: string | null | undefined): number | null {
  if (v === null || v === undefined) return null;
  const q = Number(v);
  return Number.isFinite(q) && q >= 0 && q <= 1 ? q : null;
}

/** The +sip.instance value without its quotes and angle brackets: `"<urn:uuid:…>"` → `urn:uuid:…`. */
function instanceId(v: string | null | undefined): string | undefined {
  if (!v) return undefined;
  let s = unquote(v.trim());
  if (s.startsWith('<') && s.endsWith('>')) s = s.slice(1, -1);
  return s || undefined;
}
