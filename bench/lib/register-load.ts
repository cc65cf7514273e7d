// A small UDP load generator for authenticated registrations, used where we
// need to know exactly which users ended up registered (the memory bench):
// each user does REGISTER -> 401 -> REGISTER with MD5 digest -> 200 from one
// socket, with a bounded window of registrations in flight, a rate cap,
// RFC 3261 style retransmission (doubling from 500 ms) and a hard deadline.
// Every user keeps the same Contact on every try, so retrying a user who
// failed refreshes one binding instead of adding a second one.
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import type { NameAddr, SipUri } from '../../src/sip/message.ts';
import { parseMessage } from '../../src/sip/parser.ts';
import { getHeaders } from '../../src/sip/headers.ts';
import { createRequest, serializeMessage } from '../../src/sip/serializer.ts';
import { DigestClient, chooseChallenge } from '../../src/sip/digest-client.ts';
import type { TestUser } from '../../test/interop/users.ts';

export interface RegisterLoadOptions {
  host: string;
  port: number;
  domain: string;
  users: readonly TestUser[];
  /** Registrations started per second, at most. */
  rate: number;
  /** Registrations in flight, at most. */
  window: number;
  expiresSec: number;
  /** Whole run stops (unfinished users count as failed) after this. */
  deadlineMs: number;
  /** Sends of one request before the user counts as failed (1 = no retransmission). */
  maxSends?: number;
  /** Passes over the users that failed, after the first one. */
  retryPasses?: number;
  onProgress?: (done: number, ok: number) => void;
}

export interface RegisterLoadResult {
  ok: number;
  failed: number;
  /** Users not registered in the end. */
  failedUsers: TestUser[];
  retransmissions: number;
  /** Final responses other than 401-then-200, by status. */
  unexpected: Map<number, number>;
  elapsedSec: number;
}

interface Pending {
  user: TestUser;
  callId: string;
  /** 1: first REGISTER, 2: with credentials. */
  cseq: number;
  wire: Buffer;
  sends: number;
  nextAt: number;
  interval: number;
}

const T1 = 500;
const T2 = 4000;

function sipUri(user: string | undefined, host: string, port?: number): SipUri {
  const u: SipUri = { scheme: 'sip', host, params: new Map(), headers: new Map() };
  if (user !== undefined) u.user = user;
  if (port !== undefined) u.port = port;
  return u;
}

function nameAddr(uri: SipUri, tag?: string): NameAddr {
  const params = new Map<string, string | null>();
  if (tag !== undefined) params.set('tag', tag);
  return { uri, params };
}

let seq = 0;
function token(): string {
  seq = (seq + 1) >>> 0;
  return `${process.pid.toString(36)}${Date.now().toString(36)}${seq.toString(36)}`;
}

function buildRegister(o: RegisterLoadOptions, localPort: number, p: Pending, authorization?: string): Buffer {
  const aor = sipUri(p.user.ext, o.domain);
  const contact = nameAddr(sipUri(p.user.ext, '127.0.0.1', localPort));
  contact.uri.params.set('transport', 'udp');
  const headers = [{ name: 'expires', value: String(o.expiresSec) }];
  if (authorization !== undefined) headers.push({ name: 'authorization', value: authorization });
  headers.push({ name: 'content-length', value: '0' });
  const viaParams = new Map<string, string | null>([['branch', `z9hG4bK${token()}`], ['rport', null]]);
  const req = createRequest({
    method: 'REGISTER',
    uri: sipUri(undefined, o.domain),
    from: nameAddr(aor, p.callId.slice(0, 12)),
    to: nameAddr(aor),
    callId: p.callId,
    cseq: p.cseq,
    via: { protocol: 'SIP/2.0', transport: 'UDP', host: '127.0.0.1', port: localPort, params: viaParams },
    contact,
    headers,
  });
  return serializeMessage(req);
}

function bind(sock: Socket): Promise<number> {
  return new Promise((res, rej) => {
    sock.once('error', rej);
    sock.bind(0, '127.0.0.1', () => {
      sock.off('error', rej);
      res(sock.address().port);
    });
  });
}

/** One pass over `users`; resolves when all are done or the deadline passed. */
async function pass(
  o: RegisterLoadOptions,
  sock: Socket,
  localPort: number,
  users: readonly TestUser[],
  deadline: number,
  acc: RegisterLoadResult,
): Promise<TestUser[]> {
  const maxSends = o.maxSends ?? 5;
  const inflight = new Map<string, Pending>();
  const failed: TestUser[] = [];
  let next = 0;
  let done = 0;
  const t0 = Date.now();

  const send = (p: Pending): void => {
    p.sends++;
    sock.send(p.wire, o.port, o.host);
  };
  const finish = (p: Pending, good: boolean): void => {
    inflight.delete(p.callId);
    done++;
    if (good) acc.ok++;
    else failed.push(p.user);
  };

  const onMessage = (buf: Buffer): void => {
    const r = parseMessage(buf);
    if (!r.ok || r.message.kind !== 'response') return;
    const res = r.message;
    const p = inflight.get(res.callId);
    if (p === undefined || res.cseq.seq !== p.cseq) return; // late or duplicate
    if (res.status < 200) return;
    if (res.status === 401 && p.cseq === 1) {
      const challenge = chooseChallenge(getHeaders(res, 'www-authenticate'));
      const client = new DigestClient({ username: p.user.authUser ?? p.user.ext, password: p.user.password });
      const auth = challenge === undefined ? undefined : client.authorize(challenge, 'REGISTER', `sip:${o.domain}`);
      if (auth === undefined) {
        acc.unexpected.set(401, (acc.unexpected.get(401) ?? 0) + 1);
        finish(p, false);
        return;
      }
      p.cseq = 2;
      p.wire = buildRegister(o, localPort, p, auth);
      p.sends = 0;
      p.interval = T1;
      p.nextAt = Date.now() + T1;
      send(p);
      return;
    }
    if (res.status === 200 && p.cseq === 2) {
      finish(p, true);
      return;
    }
    acc.unexpected.set(res.status, (acc.unexpected.get(res.status) ?? 0) + 1);
    finish(p, false);
  };
  sock.on('message', onMessage);

  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const now = Date.now();
      // Retransmit or give up; Map iteration order is send order, good enough here.
      for (const p of inflight.values()) {
        if (p.nextAt > now) continue;
        if (p.sends >= maxSends) {
          finish(p, false);
          continue;
        }
        acc.retransmissions++;
        send(p);
        p.interval = Math.min(p.interval * 2, T2);
        p.nextAt = now + p.interval;
      }
      const allowed = Math.min(users.length, Math.floor(((now - t0) / 1000) * o.rate) + 1);
      while (next < allowed && inflight.size < o.window) {
        const user = users[next++] as TestUser;
        const p: Pending = { user, callId: `${token()}@bench`, cseq: 1, wire: Buffer.alloc(0), sends: 0, nextAt: now + T1, interval: T1 };
        p.wire = buildRegister(o, localPort, p);
        inflight.set(p.callId, p);
        send(p);
      }
      o.onProgress?.(done, acc.ok);
      if ((next >= users.length && inflight.size === 0) || now >= deadline) {
        clearInterval(tick);
        for (const p of inflight.values()) failed.push(p.user);
        inflight.clear();
        for (let i = next; i < users.length; i++) failed.push(users[i] as TestUser);
        resolve();
      }
    }, 5);
  });
  sock.off('message', onMessage);
  return failed;
}

/**
 * Registers every user once (plus retry passes for those that failed).
 * Bounded by deadlineMs; never throws for what the server answers.
 */
export async function registerAll(o: RegisterLoadOptions): Promise<RegisterLoadResult> {
  const started = Date.now();
  const deadline = started + o.deadlineMs;
  const acc: RegisterLoadResult = { ok: 0, failed: 0, failedUsers: [], retransmissions: 0, unexpected: new Map(), elapsedSec: 0 };
  // One socket for all passes: the Contact (our port) stays the same for a user.
  const sock = createSocket({ type: 'udp4', recvBufferSize: 8 << 20, sendBufferSize: 8 << 20 });
  const localPort = await bind(sock);
  let todo: readonly TestUser[] = o.users;
  try {
    for (let i = 0; i <= (o.retryPasses ?? 1) && todo.length > 0 && Date.now() < deadline; i++) {
      todo = await pass(o, sock, localPort, todo, deadline, acc);
    }
  } finally {
    sock.close();
  }
  acc.failedUsers = [...todo];
  acc.failed = todo.length;
  acc.elapsedSec = (Date.now() - started) / 1000;
  return acc;
}
