// The REGISTER client end to end over real sockets on loopback: a TLS flow
// (FlowOpener) to a small in-test registrar that checks digest credentials,
// with the Contact carrying the flow's ephemeral port.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRootCa, issueCertificate } from '../../../../src/security/ca.ts';
import { TransportLayer } from '../../../../src/sip/transport/layer.ts';
import { TransactionLayer } from '../../../../src/sip/transaction/layer.ts';
import { TimerQueue } from '../../../../src/sip/timer-queue.ts';
import { systemClock } from '../../../../src/sip/clock.ts';
import { createResponse } from '../../../../src/sip/serializer.ts';
import { getContacts, getHeader } from '../../../../src/sip/headers.ts';
import { formatNameAddr } from '../../../../src/sip/name-addr.ts';
import { DigestServer, ha1, parseAuthHeader } from '../../../../src/sip/digest.ts';
import { parseUri } from '../../../../src/sip/uri.ts';
import type { SipRequest } from '../../../../src/sip/message.ts';
import type { Flow } from '../../../../src/sip/transport/types.ts';
import type { Inbound } from '../../../../src/sip/transport/types.ts';
import { createRegisterClient } from '../../../../src/sip/ua/register-client.ts';
import type { RegisterFailure, RegisterSuccess } from '../../../../src/sip/ua/register-client.ts';

const HOST = 'registrar.test';
const LO = '127.0.0.1';
const REALM = 'registrar.test';

let registrar: TransportLayer;
let registrarTx: TransactionLayer;
let ours: TransportLayer;
let ourTx: TransactionLayer;
const timers = new TimerQueue();
const registrarTimers = new TimerQueue();
const digest = new DigestServer({ realm: REALM, nonceTtlMs: 60_000, algorithms: ['MD5'], now: () => Date.now() });
const received: Array<{ req: SipRequest; source: Inbound['source'] }> = [];
let caPem = '';

beforeAll(async () => {
  const ca = await createRootCa();
  caPem = ca.certPem;
  const cert = await issueCertificate(ca, { commonName: HOST, dns: [HOST], days: 30 });
  registrar = new TransportLayer({ tls: { host: LO, port: 0 }, tlsServerOptions: { cert: cert.certPem, key: cert.keyPem } });
  registrarTx = new TransactionLayer({
    sender: registrar, timers: registrarTimers, clock: systemClock, autoTrying: false,
    onRequest: (req, tx, inbound) => {
      received.push({ req, source: inbound.source });
      const auth = getHeader(req, 'authorization');
      const parsed = auth !== undefined ? parseAuthHeader(auth) : undefined;
      const ok = parsed !== undefined && digest.verify(parsed, req.method, req.uriRaw, () => ha1('2001', REALM, 'pw'), {}).kind === 'ok';
      if (!ok) {
        tx!.respond(createResponse(req, 401, undefined, { extraHeaders: digest.challenge({ stale: false }).map((value) => ({ name: 'www-authenticate', value })) }));
        return;
      }
      const contacts = getContacts(req) as ReturnType<typeof getContacts> & object[];
      const c = contacts[0]!;
      const asked = Number(c.params.get('expires'));
      const granted = asked === 0 ? 0 : Math.min(asked, 120);
      tx!.respond(createResponse(req, 200, 'OK', {
        extraHeaders: [{ name: 'contact', value: formatNameAddr({ ...c, params: new Map(c.params).set('expires', String(granted)) }) }],
      }));
    },
  });
  registrar.onInbound = (i) => registrarTx.receive(i);
  await registrar.start();
  ours = new TransportLayer({ tls: { host: LO, port: 0 }, tlsServerOptions: { cert: cert.certPem, key: cert.keyPem } });
  ourTx = new TransactionLayer({ sender: ours, timers, clock: systemClock, autoTrying: false, onRequest: () => {} });
  ours.onInbound = (i) => ourTx.receive(i);
  await ours.start();
}, 60_000);

afterAll(async () => {
  await ours?.stop();
  await registrar?.stop();
  ourTx?.close();
  registrarTx?.close();
  timers.close();
  registrarTimers.close();
});

describe('RegisterClient over a TLS flow', () => {
  it('registers through the digest challenge with the flow port in Contact and Via, and unregisters over the same connection', async () => {
    const tlsPort = registrar.listening().find((l) => l.transport === 'tls')!.port;
    let flow: Flow | undefined;
    let registered: ReturnType<typeof createRegisterClient> | undefined;
    const done = new Promise<RegisterSuccess>((resolve, reject) => {
      const client = createRegisterClient({
        transactions: ourTx,
        timers,
        now: () => Date.now(),
        aor: { uri: parseUri(`sip:2001@${HOST}`)!, params: new Map() },
        requestUri: parseUri(`sip:${HOST}`)!,
        nextHop: async () => {
          flow = await ours.openFlow({ transport: 'tls', address: LO, port: tlsPort }, {
            tls: { key: 'line-2001', options: { ca: [caPem], servername: HOST, rejectUnauthorized: true } },
          });
          const contact = parseUri(`sip:2001@${flow.local.address}:${flow.local.port};transport=tls`)!;
          return { dest: flow.dest, contact };
        },
        credentials: { username: '2001', password: 'pw' },
        expiresSec: 3600,
        timeoutMs: 5_000,
        retryAfterMs: () => undefined,
        onRegistered: (ok) => resolve(ok),
        onFailed: (f: RegisterFailure) => reject(new Error(f.reason)),
      });
      client.start();
      registered = client;
    });
    const ok = await done;
    expect(received).toHaveLength(2);
    const [first, second] = received;
    expect(second!.source.port).toBe(flow!.local.port);
    expect(second!.source.connectionId).toBe(first!.source.connectionId);
    expect(second!.req.via[0]!.port).toBe(flow!.local.port);
    expect(getHeader(second!.req, 'contact')).toBe(`<sip:2001@${LO}:${flow!.local.port};transport=tls>;expires=3600`);
    const now = Date.now();
    expect(ok.expiresAt).toBeGreaterThan(now + 110_000);
    expect(ok.expiresAt).toBeLessThanOrEqual(now + 120_000);
    await registered!.stop(true);
    expect(registered!.state).toBe('stopped');
    const un = received.at(-1)!;
    expect(getHeader(un.req, 'contact')).toContain('expires=0');
    expect(un.source.connectionId).toBe(first!.source.connectionId);
  });
});
