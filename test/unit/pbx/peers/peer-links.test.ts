// Inter-node links on manual time: OPTIONS keepalive, the peer's name from its
// answer's Contact, down on silence or refusal, trust by source address.
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../../src/sip/log.ts';
import { PeerLinks, parsePeerUri } from '../../../../src/pbx/peers/peer-links.ts';
import { header, responseTo, uaHarness } from '../../sip/ua/helpers.ts';

function setup(peers = ['sip:192.0.2.20:5061;transport=tls', 'sip:192.0.2.30']) {
  const h = uaHarness();
  const changes: string[] = [];
  const links = new PeerLinks({
    self: 'alpha', peers, keepaliveMs: 2000, domain: 'corp.test',
    transactions: h.layer, timers: h.timers, now: () => h.timers.clock.now(), log: silentLogger,
    localEndpoint: (t) => ({ address: '192.0.2.10', port: t === 'tls' ? 5061 : 5060 }),
    onState: (l) => void changes.push(`${l.uri} ${l.state}`),
  });
  // Distinct requests: UDP retransmissions (Timer E) repeat the same CSeq.
  const options = () => {
    const seen = new Set<string>();
    return h.sentRequests('OPTIONS').filter((r) => !seen.has(`${r.uri.host} ${r.cseq.seq}`) && seen.add(`${r.uri.host} ${r.cseq.seq}`));
  };
  const to = (host: string) => options().filter((r) => r.uri.host === host);
  return { h, links, options, to, changes };
}

describe('parsePeerUri', () => {
  it('takes the transport from the URI, sips meaning TLS, UDP by default, and the default port per transport', () => {
    expect(parsePeerUri('sip:10.0.0.2:5061;transport=tls')).toMatchObject({ transport: 'tls', host: '10.0.0.2', port: 5061 });
    expect(parsePeerUri('sips:node-b.example')).toMatchObject({ transport: 'tls', host: 'node-b.example', port: 5061 });
    expect(parsePeerUri('sip:10.0.0.3')).toMatchObject({ transport: 'udp', port: 5060 });
    expect(parsePeerUri('sip:[2001:db8::1]:5070;transport=TCP')).toMatchObject({ transport: 'tcp', host: '2001:db8::1', port: 5070 });
  });

  it('refuses what is not a peer address', () => {
    for (const bad of ['', 'tel:+4930123', 'http://10.0.0.2', 'sip:10.0.0.2;transport=sctp', 'sips:10.0.0.2;transport=udp', 'not a uri']) {
      expect(parsePeerUri(bad), bad).toBeUndefined();
    }
  });
});

describe('PeerLinks', () => {
  it('probes each peer with OPTIONS at once and every keepalive period, naming itself in From', async () => {
    const { h, links, options, to } = setup();
    await links.start();
    expect(options()).toHaveLength(2);
    const first = to('192.0.2.20')[0]!;
    expect(h.sender.sent.slice(0, 2).map((x) => x.dest)).toEqual([
      { transport: 'tls', address: '192.0.2.20', port: 5061 },
      { transport: 'udp', address: '192.0.2.30', port: 5060 },
    ]);
    expect(header(first, 'from')).toContain('sip:alpha@corp.test');
    expect(header(first, 'via')).toContain('SIP/2.0/TLS 192.0.2.10:5061');
    expect(links.list().map((l) => l.state)).toEqual(['connecting', 'connecting']);
    h.timers.advance(2000);
    expect(options()).toHaveLength(4);
    // One dialog-less Call-ID per link, CSeq counting up.
    const again = to('192.0.2.20')[1]!;
    expect(again.callId).toBe(first.callId);
    expect(again.cseq.seq).toBe(first.cseq.seq + 1);
    links.stop();
  });

  it('is up with the node name from the answer\'s Contact, and routes to that node only while up', async () => {
    const { h, links, to, changes } = setup();
    await links.start();
    h.timers.advance(150);
    h.receive(responseTo(to('192.0.2.20')[0]!, 200, { toTag: 'p', extra: ['Contact: <sip:bravo@192.0.2.20:5061;transport=tls>'] }));
    const [b] = links.list();
    expect(b).toMatchObject({ node: 'bravo', state: 'up', rttMs: 150, reason: '' });
    expect(links.routeTo('bravo')).toEqual({ transport: 'tls', address: '192.0.2.20', port: 5061 });
    expect(links.routeTo('charlie')).toBeUndefined();
    // The next probe goes unanswered for a whole period: down at the one after, and no route.
    h.timers.advance(1850);
    h.timers.advance(2000);
    expect(links.list()[0]).toMatchObject({ node: 'bravo', state: 'down', reason: 'no answer' });
    expect(links.routeTo('bravo')).toBeUndefined();
    // It answers again: up.
    h.receive(responseTo(to('192.0.2.20').at(-1)!, 200, { toTag: 'p', extra: ['Contact: <sip:bravo@192.0.2.20:5061;transport=tls>'] }));
    expect(links.routeTo('bravo')).toBeDefined();
    // Each change of state is told once (alarms follow it).
    const tls = 'sip:192.0.2.20:5061;transport=tls';
    expect(changes.filter((c) => c.startsWith(tls))).toEqual([`${tls} up`, `${tls} down`, `${tls} up`]);
    links.stop();
  });

  it('a 200 without a node name (not a Switchboard) or an error answer is down, with the reason', async () => {
    const { h, links, to } = setup();
    await links.start();
    h.receive(responseTo(to('192.0.2.20')[0]!, 200, { toTag: 'p' }));
    h.receive(responseTo(to('192.0.2.30')[0]!, 403, { toTag: 'q' }));
    const [b, c] = links.list();
    expect(b).toMatchObject({ state: 'down', node: null, reason: 'answer names no node (not a Switchboard peer)' });
    expect(c).toMatchObject({ state: 'down' });
    expect(c!.reason).toMatch(/^403 /);
    links.stop();
  });

  it('a peer answering with our own name is down: two nodes must not share one', async () => {
    const { h, links, to } = setup();
    await links.start();
    h.receive(responseTo(to('192.0.2.20')[0]!, 200, { toTag: 'p', extra: ['Contact: <sip:alpha@192.0.2.20:5061;transport=tls>'] }));
    expect(links.list()[0]).toMatchObject({ state: 'down', reason: 'peer is also named alpha: every node needs its own --node-name' });
    expect(links.routeTo('alpha')).toBeUndefined();
    links.stop();
  });

  it('warns once per peer link that is not over a connection (UDP sources can be spoofed)', () => {
    const warned: object[] = [];
    const log = { ...silentLogger, warn: (obj: object, msg?: string) => void (msg?.startsWith('peer link over UDP') && warned.push(obj)) };
    const h = uaHarness();
    new PeerLinks({
      self: 'alpha', peers: ['sip:192.0.2.20:5061;transport=tls', 'sip:192.0.2.30', 'sip:192.0.2.40;transport=tcp'], keepaliveMs: 2000, domain: 'corp.test',
      transactions: h.layer, timers: h.timers, now: () => h.timers.clock.now(), log, localEndpoint: () => undefined,
    });
    expect(warned).toEqual([{ peer: 'sip:192.0.2.30' }]);
  });

  it('knows a request from a peer by its address and transport, and over UDP also its port', async () => {
    const { links } = setup();
    await links.start();
    expect(links.fromSource({ transport: 'tls', address: '192.0.2.20', port: 40123 })?.uri).toContain('192.0.2.20');
    expect(links.fromSource({ transport: 'tcp', address: '192.0.2.20', port: 40123 })).toBeUndefined();
    expect(links.fromSource({ transport: 'udp', address: '192.0.2.30', port: 5060 })).toBeDefined();
    expect(links.fromSource({ transport: 'udp', address: '192.0.2.30', port: 5062 })).toBeUndefined();
    expect(links.fromSource({ transport: 'udp', address: '192.0.2.99', port: 5060 })).toBeUndefined();
    links.stop();
  });

  it('answers a peer with a Contact naming this node', () => {
    const { links } = setup();
    expect(links.contactHeader({ transport: 'tls', address: '192.0.2.10', port: 5061 }).value).toBe('<sip:alpha@192.0.2.10:5061;transport=tls>');
    expect(links.contactHeader({ transport: 'udp', address: '::1', port: 5060 }).value).toBe('<sip:alpha@[::1]:5060>');
  });
});
