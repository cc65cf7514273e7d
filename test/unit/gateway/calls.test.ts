// The gateway's call routing (issue 15 item 3): the stage that sends a
// gateway user's calls upstream, the hand-over of upstream INVITEs, caller ID
// for handsets (B-21), call waiting (EC-10) and the channel budget (B-25),
// with a small in-test lines manager (the real one: test/integration/gateway/calls.test.ts).
import { describe, expect, it } from 'vitest';
import { GatewayCalls, UPSTREAM, channelBudget, handsetCallerId } from '../../../src/gateway/calls.ts';
import type { GatewayLines, UpstreamRoute } from '../../../src/gateway/types.ts';
import { gatewaySettingsSchema } from '../../../src/model/gateway.ts';
import type { GatewaySettings, LineStatus } from '../../../src/model/gateway.ts';
import { RoutingPipeline } from '../../../src/pbx/routing/pipeline.ts';
import type { Decision, PipelineDeps, Stage } from '../../../src/pbx/routing/pipeline.ts';
import type { Caller, Targets } from '../../../src/pbx/routing/targets.ts';
import { sipUri } from '../../../src/pbx/routing/targets.ts';
import type { PlanStep } from '../../../src/pbx/routing/plan.ts';
import type { User } from '../../../src/store/types.ts';
import type { Directory } from '../../../src/pbx/directory/directory.ts';
import type { CallView } from '../../../src/pbx/call/context.ts';
import type { NameAddr, SipRequest } from '../../../src/sip/message.ts';
import type { Inbound } from '../../../src/sip/transport/types.ts';
import { parseUri } from '../../../src/sip/uri.ts';
import { silentLogger } from '../../../src/lib/log.ts';

const user = (extension: string, over: Partial<User> = {}): User => ({ extension, name: `User ${extension}`, enabled: true, callWaiting: true, maxCalls: null, ...over }) as User;

/** Gateway users 1001 and 1002; 2001 is a local user. */
class TestLines implements GatewayLines {
  registered = true;
  touched: string[] = [];
  constructor(public settings: GatewaySettings) {}
  isGatewayUser(ext: string): boolean {
    return ext === '1001' || ext === '1002';
  }
  route(ext: string): UpstreamRoute | undefined {
    if (!this.registered || !this.isGatewayUser(ext)) return undefined;
    return {
      aor: { displayName: 'Jim', uri: { ...sipUri('41510', 'upstream.test'), scheme: this.settings.sips ? 'sips' : 'sip' }, params: new Map() },
      requestUri: (d) => ({ ...sipUri(d, 'upstream.test'), scheme: this.settings.sips ? 'sips' : 'sip' }),
      dest: { transport: 'tls', address: '127.0.0.9', port: 5061 },
      routes: ['<sip:proxy.upstream.test;lr>'],
      credentials: { username: '41510', password: 'secret' },
      contact: { ...sipUri('gw-41510', '127.0.0.1'), port: 5061 },
      secure: this.settings.sips,
    };
  }
  fromUpstream(req: SipRequest) {
    return req.uri.user === 'gw-41510' ? { extension: '1001', lineUser: 'gw-41510' } : undefined;
  }
  lineStatus(ext: string): LineStatus | undefined {
    return this.registered ? undefined : ({ extension: ext, failure: { code: 'wrong-password', text: 'the upstream refused the password', at: 0, status: 403 } } as LineStatus);
  }
  status(): never {
    throw new Error('not used');
  }
  reregister(): void {}
  onChange(): () => void {
    return () => {};
  }
  touch(ext: string): void {
    this.touched.push(ext);
  }
}

function setup(patch: Partial<GatewaySettings> = { mode: 'gateway' }) {
  const lines = new TestLines(gatewaySettingsSchema.parse(patch));
  const users = new Map(['1001', '1002', '2001'].map((e) => [e, user(e)]));
  const calls = new Map<string, number>();
  const directory = { byExtension: (e: string) => users.get(e) } as unknown as Directory;
  const gw = new GatewayCalls({
    directory,
    localEndpoint: () => ({ address: '127.0.0.1', port: 5061 }),
    media: () => ({ suites: ['AES_CM_128_HMAC_SHA1_80'] }),
    callsOf: (e) => calls.get(e) ?? 0,
    maxCallsPerUser: () => 4,
    log: silentLogger,
  });
  gw.attach(lines);
  // What the local stages would do: ring the user here.
  const local: Stage = (r) => ({ ok: true, label: `local ${r.dialled}`, direction: 'internal', calleeUser: users.get(r.dialled), trunkName: undefined, targets: [], ringMs: undefined });
  const rung: string[] = [];
  const targets = { toUser: (u: User, c: Caller) => (rung.push(`${u.extension} from ${c.from.displayName ?? ''} <${c.from.uri.user}>`), local({ dialled: u.extension } as never, undefined as never)) } as unknown as Targets;
  const pipeline = new RoutingPipeline({ directory, targets } as unknown as PipelineDeps, [gw.stage, local]);
  const from = (ext: string): Caller => ({ user: users.get(ext), fromTrunk: undefined, from: { uri: sipUri(ext, 'pbx.test'), params: new Map() }, secure: false });
  return { lines, users, calls, gw, pipeline, from, targets, rung };
}

const step = (d: Decision): PlanStep => {
  if (d.ok !== true) throw new Error(`not a step: ${JSON.stringify(d)}`);
  return d;
};

describe('handset → upstream (the routing stage)', () => {
  it("a gateway user's call goes to the upstream through the line: Request-URI, From, credentials, Contact, route, profile", () => {
    const { pipeline, from, lines } = setup();
    const s = step(pipeline.route('41520', from('1001')));
    expect(s.trunkName).toBe(UPSTREAM);
    expect(s.direction).toBe('outbound');
    const t = s.targets[0]!;
    expect(t.requestUri.user).toBe('41520');
    expect(t.requestUri.host).toBe('upstream.test');
    expect(t.from.uri.user).toBe('41510');
    expect(t.from.displayName).toBe('Jim');
    expect(t.credentials).toEqual({ username: '41510', password: 'secret' });
    expect(t.contact?.user).toBe('gw-41510');
    expect(t.routes).toEqual(['<sip:proxy.upstream.test;lr>']);
    expect(t.dest).toEqual({ transport: 'tls', address: '127.0.0.9', port: 5061 });
    expect(t.media.profile.security).toBe('enforced');
    expect(s.calleeProfile?.security).toBe('enforced');
    expect(lines.touched).toEqual(['1001']);
  });

  it('short codes that are the upstream\'s (*17) and other gateway users\' extensions go upstream too', () => {
    const { pipeline, from } = setup();
    expect(step(pipeline.route('*17', from('1001'))).targets[0]!.requestUri.user).toBe('*17');
    expect(step(pipeline.route('1002', from('1001'))).trunkName).toBe(UPSTREAM);
  });

  it('sips: when the line is secure (B-04)', () => {
    const { pipeline, from } = setup({ mode: 'gateway', sips: true });
    const t = step(pipeline.route('41520', from('1001'))).targets[0]!;
    expect(t.requestUri.scheme).toBe('sips');
    expect(t.secure).toBe(true);
  });

  it('local users route as before; in call-server mode nothing goes upstream', () => {
    const { pipeline, from } = setup({ mode: 'both' });
    expect(step(pipeline.route('1001', from('2001'))).label).toBe('local 1001');
    const cs = setup({ mode: 'call-server' });
    expect(step(cs.pipeline.route('41520', cs.from('1001'))).label).toBe('local 41520');
  });

  it('line not registered: 503 with the reason; with internal routing fallback another handset rings here', () => {
    const a = setup();
    a.lines.registered = false;
    const d = a.pipeline.route('1002', a.from('1001'));
    expect(d).toMatchObject({ ok: false, status: 503 });
    expect((d as { reason: string }).reason).toContain('the upstream refused the password');
    const b = setup({ mode: 'gateway', internalRoutingFallback: true });
    b.lines.registered = false;
    expect(step(b.pipeline.route('1002', b.from('1001'))).label).toBe('local 1002');
    // Not another gateway user: no fallback.
    expect(b.pipeline.route('41520', b.from('1001'))).toMatchObject({ ok: false, status: 503 });
  });

  it('upstream unreachable after the INVITE (unavailable): the fallback rings the other handset here', () => {
    const { pipeline, from } = setup({ mode: 'gateway', internalRoutingFallback: true });
    const s = step(pipeline.route('1002', from('1001')));
    expect(s.next?.('unavailable')).toMatchObject({ ok: true, label: 'local 1002' });
    expect(s.next?.('busy')).toBeUndefined();
    const no = setup();
    expect(step(no.pipeline.route('1002', no.from('1001'))).next?.('unavailable')).toBeUndefined();
  });

  it('channel budget (B-25): 16 with SRTP, 32 without; over it 503, counted', () => {
    expect(channelBudget(gatewaySettingsSchema.parse({ srtp: true }))).toBe(16);
    expect(channelBudget(gatewaySettingsSchema.parse({ srtp: false }))).toBe(32);
    const { pipeline, from, gw } = setup();
    const view = (ref: string) => ({ ref, callee: { trunk: UPSTREAM } }) as CallView;
    for (let i = 0; i < 16; i++) gw.onCall(view(`c${i}`), false);
    expect(gw.channelsInUse).toBe(16);
    expect(pipeline.route('41520', from('1001'))).toMatchObject({ ok: false, status: 503, reason: 'All 16 Gateway Channels Busy' });
    expect(gw.refusedNoChannel).toBe(1);
    gw.onCall(view('c3'), true);
    expect(step(pipeline.route('41520', from('1001'))).trunkName).toBe(UPSTREAM);
  });
});

function invite(ruser: string, from: NameAddr): SipRequest {
  return { method: 'INVITE', uri: parseUri(`sip:${ruser}@127.0.0.1:5061`)!, from, headers: [] } as unknown as SipRequest;
}
const inbound = {} as Inbound;

describe('upstream → handset (the hand-over)', () => {
  const upstreamFrom: NameAddr = { displayName: 'Desk 41520', uri: sipUri('41520', 'upstream.test'), params: new Map() };

  it("an INVITE for the line rings that user's handsets, recorded as upstream, with the gateway's media profile", () => {
    const { gw, targets, rung } = setup();
    const h = gw.handedOver(invite('gw-41510', upstreamFrom), inbound, targets)!;
    expect(h.dialled).toBe('1001');
    expect(h.source).toBe(UPSTREAM);
    expect(h.profile.security).toBe('enforced');
    expect(h.route.ok).toBe(true);
    expect(rung).toEqual(['1001 from Desk 41520 <41520>']);
    expect(gw.handedOver(invite('someone', upstreamFrom), inbound, targets)).toBeUndefined();
  });

  it('call waiting (EC-10): a busy handset gets a second call only when the gateway and the user both allow it', () => {
    const on = setup();
    on.calls.set('1001', 1);
    expect(on.gw.handedOver(invite('gw-41510', upstreamFrom), inbound, on.targets)!.route.ok).toBe(true);
    const gwOff = setup({ mode: 'gateway', callWaiting: false });
    gwOff.calls.set('1001', 1);
    expect(gwOff.gw.handedOver(invite('gw-41510', upstreamFrom), inbound, gwOff.targets)!.route).toMatchObject({ ok: false, status: 486 });
    const userOff = setup();
    userOff.users.set('1001', user('1001', { callWaiting: false }));
    userOff.calls.set('1001', 1);
    expect(userOff.gw.handedOver(invite('gw-41510', upstreamFrom), inbound, userOff.targets)!.route).toMatchObject({ ok: false, status: 486 });
    // Idle handset: rings whatever the settings.
    const idle = setup({ mode: 'gateway', callWaiting: false });
    expect(idle.gw.handedOver(invite('gw-41510', upstreamFrom), inbound, idle.targets)!.route.ok).toBe(true);
  });

  it('caller ID for the handset (B-21): a URI of up to 64 characters is kept; a longer one leaves the name, cut to 24', () => {
    const at64 = 'sip:' + 'a'.repeat(64 - 4 - 'upstream.test'.length - 1) + '@upstream.test';
    expect(at64.length).toBe(64);
    const ok = handsetCallerId({ displayName: 'Desk', uri: parseUri(at64)!, params: new Map() });
    expect(ok.number).toBe(at64.slice(4, at64.indexOf('@')));
    expect(ok.from.uri.host).toBe('upstream.test');
    const long = 'sip:' + 'b'.repeat(50) + '@upstream.test';
    const cut = handsetCallerId({ displayName: 'A Very Long Display Name Indeed', uri: parseUri(long)!, params: new Map() });
    expect(cut.name).toBe('A Very Long Display Name');
    expect(cut.name.length).toBe(24);
    expect(cut.number).toBe('anonymous');
    expect(cut.from.uri.host).toBe('anonymous.invalid');
  });
});
