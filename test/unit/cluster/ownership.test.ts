import { afterEach, describe, expect, it } from 'vitest';
import { MAX_OWNERS, localOwner, nextConnectionId, ownerOfConnection, ownerOfId, setLocalOwner } from '../../../src/sip/owner.ts';
import { MAGIC_COOKIE, generateBranch, generateTag } from '../../../src/sip/ids.ts';
import { parseMessage } from '../../../src/sip/parser.ts';
import type { SipMessage } from '../../../src/sip/message.ts';
import { ownerOfMessage } from '../../../src/cluster/router.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FrameReader, WorkerLink, encodeFrame } from '../../../src/cluster/link.ts';
import { silentLogger } from '../../../src/lib/log.ts';
import { waitUntil } from '../../lib/wait.ts';
import type { LinkFrame } from '../../../src/cluster/link.ts';
import { clusterRelayPorts, workerCount } from '../../../src/cluster/member.ts';

afterEach(() => setLocalOwner(0));

function parse(text: string): SipMessage {
  const r = parseMessage(Buffer.from(text.replace(/\n/g, '\r\n')));
  if (!r.ok) throw new Error(r.reason);
  return r.message;
}

describe('identifiers name the worker that minted them', () => {
  it('mints plain identifiers outside a cluster, and "<n>." ones in worker n', () => {
    expect(ownerOfId(generateTag())).toBe(0);
    expect(generateBranch().startsWith(MAGIC_COOKIE)).toBe(true);
    setLocalOwner(7);
    expect(localOwner()).toBe(7);
    const tag = generateTag();
    expect(tag.startsWith('7.')).toBe(true);
    expect(ownerOfId(tag)).toBe(7);
    const branch = generateBranch();
    expect(branch.startsWith(`${MAGIC_COOKIE}7.`)).toBe(true);
    expect(ownerOfId(branch, MAGIC_COOKIE.length)).toBe(7);
  });

  it('reads no owner from identifiers other agents made', () => {
    for (const id of ['', 'abc', '12345.x', '.x', 'x1.y', '99.x', '1x.y', '123']) expect(ownerOfId(id)).toBe(0);
    expect(ownerOfId(undefined)).toBe(0);
    expect(ownerOfId('63.abc')).toBe(63);
    expect(ownerOfId(`${MAX_OWNERS}.abc`)).toBe(0);
  });

  it('numbers connections so that their owner can be read back', () => {
    setLocalOwner(3);
    const a = nextConnectionId();
    const b = nextConnectionId();
    expect(a).not.toBe(b);
    expect([ownerOfConnection(a), ownerOfConnection(b)]).toEqual([3, 3]);
  });

  it('refuses an owner number out of range', () => {
    expect(() => setLocalOwner(MAX_OWNERS)).toThrow(RangeError);
    expect(() => setLocalOwner(-1)).toThrow(RangeError);
  });

  it('finds the owner of a response by its Via branch and of a request by its To tag', () => {
    const response = parse(`SIP/2.0 200 OK
Via: SIP/2.0/UDP 127.0.0.1:5060;branch=${MAGIC_COOKIE}2.abcdefgh
From: <sip:a@x>;tag=9.zz
To: <sip:b@x>;tag=5.yy
Call-ID: c1
CSeq: 1 INVITE
Content-Length: 0

`);
    expect(ownerOfMessage(response)).toBe(2);
    const bye = parse(`BYE sip:a@127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.2:5060;branch=${MAGIC_COOKIE}phone1
From: <sip:b@x>;tag=phone-tag
To: <sip:a@x>;tag=4.ours
Call-ID: c1
CSeq: 2 BYE
Max-Forwards: 70
Content-Length: 0

`);
    expect(ownerOfMessage(bye)).toBe(4);
    const invite = parse(`INVITE sip:b@x SIP/2.0
Via: SIP/2.0/UDP 127.0.0.2:5060;branch=${MAGIC_COOKIE}3.phone
From: <sip:a@x>;tag=1.phone-tag
To: <sip:b@x>
Call-ID: c2
CSeq: 1 INVITE
Max-Forwards: 70
Content-Length: 0

`);
    // A new request stays where it landed, whatever its own identifiers look like.
    expect(ownerOfMessage(invite)).toBe(0);
  });
});

describe('worker link frames', () => {
  it('round-trips every kind of frame, split at any byte', () => {
    const frames: LinkFrame[] = [
      { kind: 'inbound', source: { transport: 'tcp', address: '127.0.0.9', port: 5070, connectionId: 130 }, data: Buffer.from('INVITE sip:x SIP/2.0\r\n\r\n') },
      { kind: 'send', dest: { transport: 'tls', address: '::1', port: 5061, connectionId: 66 }, fallback: { transport: 'tls', address: '::1', port: 5061 }, data: Buffer.from([0, 1, 2, 255]) },
      { kind: 'json', topic: 'location', body: { aor: 'sip:1@x', bindings: [] } },
    ];
    const wire = Buffer.concat(frames.map((f) => encodeFrame(f, 2)));
    for (const cut of [1, 3, 7, 20, wire.length - 1]) {
      const reader = new FrameReader();
      const got: [number, LinkFrame][] = [];
      reader.push(wire.subarray(0, cut), (from, f) => got.push([from, f]));
      reader.push(wire.subarray(cut), (from, f) => got.push([from, f]));
      expect(got.map(([from]) => from)).toEqual([2, 2, 2]);
      expect(got.map(([, f]) => f)).toEqual(frames);
    }
  });

  it('a forwarded inbound message keeps the TLS peer its connection proved (D-06: a trusted server handled by another worker)', () => {
    const frame: LinkFrame = {
      kind: 'inbound',
      source: { transport: 'tls', address: '127.0.0.9', port: 40000, connectionId: 131, tlsPeer: { names: ['gw.example.test'] } },
      data: Buffer.from('REGISTER sip:x SIP/2.0\r\n\r\n'),
    };
    const got: LinkFrame[] = [];
    new FrameReader().push(encodeFrame(frame, 1), (_from, f) => got.push(f));
    expect(got).toEqual([frame]);
    expect(got[0]!.kind === 'inbound' && got[0]!.source.tlsPeer).toEqual({ names: ['gw.example.test'] });
  });

  it('refuses a frame length no worker sends', () => {
    const bad = Buffer.alloc(8);
    bad.writeUInt32BE(0xffffffff, 0);
    expect(() => new FrameReader().push(bad, () => {})).toThrow(/length/);
  });
});

describe('cluster settings', () => {
  it('gives each worker its own even-aligned slice of the relay ports', () => {
    const slices = [1, 2, 3].map((w) => clusterRelayPorts(20000, 29999, w, 3));
    expect(slices[0]).toEqual({ portMin: 20000, portMax: 23331 });
    for (let i = 0; i < slices.length; i++) {
      expect(slices[i]!.portMin % 2).toBe(0);
      if (i > 0) expect(slices[i]!.portMin).toBeGreaterThan(slices[i - 1]!.portMax);
    }
    expect(slices[2]!.portMax).toBeLessThanOrEqual(29999);
    expect(() => clusterRelayPorts(20000, 20005, 1, 2)).toThrow(RangeError);
  });

  it('takes 1..63 workers or auto', () => {
    expect(workerCount(undefined)).toBe(1);
    expect(workerCount('4')).toBe(4);
    expect(workerCount('auto')).toBeGreaterThanOrEqual(1);
    for (const bad of ['0', '64', '1.5', 'many', '']) expect(() => workerCount(bad)).toThrow(RangeError);
  });
});

describe('worker link sockets', () => {
  it('holds frames for a worker that is not listening yet and delivers them once it is', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-link-'));
    const got: [number, LinkFrame][] = [];
    const one = new WorkerLink({ dir, self: 1, log: silentLogger, onFrame: () => {} });
    const two = new WorkerLink({ dir, self: 2, log: silentLogger, onFrame: (from, f) => got.push([from, f]) });
    try {
      await one.start();
      // Worker 2 is still starting: nothing listens on its socket.
      expect(one.send(2, { kind: 'json', topic: 'early', body: { n: 1 } })).toBe(true);
      await new Promise((r) => setTimeout(r, 200));
      await two.start();
      expect(one.send(2, { kind: 'json', topic: 'later', body: { n: 2 } })).toBe(true);
      expect(await waitUntil(() => got.length === 2, 3000, 20)).toBe(true);
      expect(got.map(([from, f]) => [from, f.kind === 'json' ? f.topic : f.kind])).toEqual([[1, 'early'], [1, 'later']]);
      expect(one.dropped).toBe(0);
    } finally {
      await one.close();
      await two.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
