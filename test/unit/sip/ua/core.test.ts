import { describe, expect, it } from 'vitest';
import type { SipResponse } from '../../../../src/sip/message.ts';
import { createResponse } from '../../../../src/sip/serializer.ts';
import { dialogKey } from '../../../../src/sip/dialog.ts';
import type { DialogUsage } from '../../../../src/sip/ua/core.ts';
import { header, request, uaHarness } from './helpers.ts';

function last(h: ReturnType<typeof uaHarness>): SipResponse {
  return h.lastSent() as SipResponse;
}

describe('UserAgentCore: RFC 3261 §8.2 checks', () => {
  it('405 with Allow for a known method we do not take, 501 for an unknown one', () => {
    const h = uaHarness();
    h.receive(request('MESSAGE'));
    expect(last(h).status).toBe(405);
    expect(header(last(h), 'allow')).toBe('INVITE, BYE, OPTIONS, REGISTER, SUBSCRIBE, NOTIFY, REFER, UPDATE, INFO, PRACK, ACK, CANCEL');
    h.receive(request('FOO'));
    expect(last(h).status).toBe(501);
    expect(header(last(h), 'allow')).toContain('INVITE');
  });

  it('416 for a non-SIP Request-URI', () => {
    const h = uaHarness();
    h.receive(request('OPTIONS', { uri: 'tel:+15551234' }));
    expect(last(h).status).toBe(416);
  });

  it('420 with Unsupported listing only the unknown Require tags; CANCEL is exempt', () => {
    const h = uaHarness();
    h.receive(request('OPTIONS', { extra: ['Require: 100rel, foo', 'Require: bar'] }));
    expect(last(h).status).toBe(420);
    expect(header(last(h), 'unsupported')).toBe('foo, bar');
    h.receive(request('OPTIONS', { extra: ['Require: timer, Replaces'] }));
    expect(last(h).status).toBe(200);
    h.receive(request('CANCEL', { extra: ['Require: foo'] }));
    expect(last(h).status).toBe(481);
  });

  it('415 with Accept and Accept-Encoding for a non-SDP or encoded body', () => {
    const h = uaHarness();
    h.core.handle('INVITE', () => { throw new Error('must not reach the handler'); });
    h.receive(request('INVITE', { body: 'hello', extra: ['Content-Type: text/plain'] }));
    expect(last(h).status).toBe(415);
    expect(header(last(h), 'accept')).toBe('application/sdp');
    expect(header(last(h), 'accept-encoding')).toBe('identity');
    h.receive(request('INVITE', { body: 'v=0', extra: ['Content-Type: application/sdp', 'Content-Encoding: gzip'] }));
    expect(last(h).status).toBe(415);
    h.receive(request('OPTIONS', { body: 'x', extra: ['Content-Type: application/json'] }));
    expect(last(h).status).toBe(415);
  });

  it('406 for an INVITE whose Accept excludes application/sdp; wildcards pass', () => {
    const h = uaHarness();
    const seen: string[] = [];
    h.core.handle('INVITE', (req, tx) => { seen.push(req.callId); tx.respond(createResponse(req, 486)); });
    h.receive(request('INVITE', { extra: ['Accept: text/plain'] }));
    expect(last(h).status).toBe(406);
    h.receive(request('INVITE', { extra: ['Accept: text/plain, application/*'] }));
    expect(last(h).status).toBe(486);
    h.receive(request('INVITE', { extra: ['Accept: application/SDP;level=1'] }));
    expect(last(h).status).toBe(486);
    expect(seen).toHaveLength(2);
  });
});

describe('UserAgentCore: dispatch', () => {
  it('answers OPTIONS with Allow, Accept and Supported unless a handler is registered', () => {
    const h = uaHarness();
    h.receive(request('OPTIONS'));
    expect(last(h).status).toBe(200);
    expect(header(last(h), 'supported')).toBe('100rel, timer, replaces, norefersub');
    expect(header(last(h), 'accept')).toBe('application/sdp');
    h.core.handle('OPTIONS', (req, tx) => tx.respond(createResponse(req, 480)));
    h.receive(request('OPTIONS'));
    expect(last(h).status).toBe(480);
  });

  it('481 for BYE, UPDATE, INFO, PRACK and NOTIFY outside a dialog', () => {
    const h = uaHarness();
    for (const m of ['BYE', 'UPDATE', 'INFO', 'PRACK', 'NOTIFY']) {
      h.receive(request(m));
      expect(last(h).status, m).toBe(481);
    }
  });

  it('routes by method to registered handlers; 500 when an allowed method has none', () => {
    const h = uaHarness();
    const got: string[] = [];
    h.core.handle('register', (req, tx) => { got.push(req.method); tx.respond(createResponse(req, 200)); });
    h.receive(request('REGISTER', { toTag: 'x' }));
    expect(got).toEqual(['REGISTER']);
    h.receive(request('SUBSCRIBE'));
    expect(last(h).status).toBe(500);
  });

  it('in-dialog requests and ACK go to the dialog owner; 481 without one, ACK dropped', () => {
    const h = uaHarness();
    const seen: string[] = [];
    const usage: DialogUsage = { onRequest: (req, tx) => { seen.push(req.method + (tx ? '' : ':notx')); tx?.respond(createResponse(req, 200)); } };
    h.core.dialogs.add(dialogKey('c1@test', 'ours', 'theirs'), usage);
    expect(h.core.dialogs.size).toBe(1);
    h.receive(request('BYE', { callId: 'c1@test', toTag: 'ours', fromTag: 'theirs' }));
    h.receive(request('ACK', { callId: 'c1@test', toTag: 'ours', fromTag: 'theirs' }));
    expect(seen).toEqual(['BYE', 'ACK:notx']);
    const before = h.sender.sent.length;
    h.receive(request('ACK', { callId: 'c2@test', toTag: 'ours', fromTag: 'theirs' }));
    expect(h.sender.sent.length).toBe(before);
    h.receive(request('INFO', { callId: 'c2@test', toTag: 'ours', fromTag: 'theirs' }));
    expect(last(h).status).toBe(481);
  });

  it('an unknownDialog usage takes requests and ACKs of dialogs nobody owns', () => {
    const h = uaHarness();
    const seen: string[] = [];
    h.core.unknownDialog = { onRequest: (req, tx) => { seen.push(req.method); tx?.respond(createResponse(req, 200)); } };
    h.receive(request('BYE', { callId: 'c9@test', toTag: 'ours', fromTag: 'theirs' }));
    h.receive(request('ACK', { callId: 'c9@test', toTag: 'ours', fromTag: 'theirs' }));
    expect(seen).toEqual(['BYE', 'ACK']);
    expect(last(h).status).toBe(200);
  });

  it('falls back to the half key (empty remote tag) for an owner that does not know the remote tag yet', () => {
    const h = uaHarness();
    const seen: string[] = [];
    h.core.dialogs.add(dialogKey('c3@test', 'ours', ''), { onRequest: (req) => seen.push(req.method) });
    h.receive(request('NOTIFY', { callId: 'c3@test', toTag: 'ours', fromTag: 'notifier' }));
    expect(seen).toEqual(['NOTIFY']);
  });

  it('dialogs.remove only removes the current owner', () => {
    const h = uaHarness();
    const a: DialogUsage = { onRequest() {} };
    const b: DialogUsage = { onRequest() {} };
    h.core.dialogs.add('k', a);
    h.core.dialogs.add('k', b);
    expect(h.core.dialogs.remove('k', a)).toBe(false);
    expect(h.core.dialogs.get('k')).toBe(b);
    expect(h.core.dialogs.remove('k', b)).toBe(true);
    expect(h.core.dialogs.size).toBe(0);
  });
});

describe('UserAgentCore: CANCEL (RFC 3261 §9.2)', () => {
  it('200 to the CANCEL and 487 to the INVITE, with the tag of its provisional', () => {
    const h = uaHarness();
    h.core.handle('INVITE', (req, tx) => tx.respond(createResponse(req, 180, undefined, { toTag: 'ring1' })));
    const invite = request('INVITE', { branch: 'z9hG4bKinv1', callId: 'cx@test', fromTag: 'a1' });
    h.receive(invite);
    h.receive(request('CANCEL', { branch: 'z9hG4bKinv1', callId: 'cx@test', fromTag: 'a1' }));
    const res = h.sentResponses();
    expect(res.map((r) => `${r.status} ${r.cseq.method}`)).toEqual(['180 INVITE', '200 CANCEL', '487 INVITE']);
    expect(res[2]!.to.params.get('tag')).toBe('ring1');
  });

  it('leaves the INVITE to the application when the hook takes it', () => {
    const h = uaHarness();
    const taken: string[] = [];
    h.core.onCancel = (inv, cancel) => { taken.push(inv.request.callId + ' ' + cancel.method); return true; };
    h.core.handle('INVITE', () => {});
    h.receive(request('INVITE', { branch: 'z9hG4bKinv2', callId: 'cy@test', fromTag: 'a1' }));
    h.receive(request('CANCEL', { branch: 'z9hG4bKinv2', callId: 'cy@test', fromTag: 'a1' }));
    expect(taken).toEqual(['cy@test CANCEL']);
    expect(h.sentResponses().map((r) => r.status)).toEqual([200]);
  });

  it('no 487 once the INVITE has its final response', () => {
    const h = uaHarness();
    h.core.handle('INVITE', (req, tx) => tx.respond(createResponse(req, 486)));
    h.receive(request('INVITE', { branch: 'z9hG4bKinv3', callId: 'cz@test', fromTag: 'a1' }));
    h.receive(request('CANCEL', { branch: 'z9hG4bKinv3', callId: 'cz@test', fromTag: 'a1' }));
    expect(h.sentResponses().map((r) => r.status)).toEqual([486, 200]);
  });
});
