import type { Header, SipRequest } from '../sip/message.ts';
import type { Inbound } from '../sip/transport/types.ts';
import type { ServerTransaction } from '../sip/transaction/types.ts';
import { createResponse } from '../sip/serializer.ts';
import { getHeader, getHeaders, parseTokenList } from '../sip/headers.ts';
import type { Registrar } from './registrar/registrar.ts';
import type { CallEngine } from './call/engine.ts';
import type { InviteServerTransaction } from '../sip/transaction/types.ts';
import { tagOf } from '../sip/headers.ts';

/** Methods this server implements; the Allow header of every 405/501/OPTIONS answer. */
export const ALLOWED_METHODS = ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'REGISTER', 'UPDATE', 'INFO', 'PRACK'] as const;
/** Methods we know of but do not take yet: 405, not 501 (RFC 3261 §8.2.1). */
const KNOWN_METHODS = new Set(['SUBSCRIBE', 'NOTIFY', 'REFER', 'MESSAGE', 'PUBLISH']);
/** Option tags we support (RFC 3261 §8.2.2.3): Path (RFC 3327), GRUU (RFC 5627), reliable provisionals (RFC 3262), session timers (RFC 4028). */
export const SUPPORTED_OPTIONS = ['path', 'gruu', '100rel', 'timer'] as const;

const ALLOW: Header = { name: 'allow', value: ALLOWED_METHODS.join(', ') };
const SUPPORTED: Header = { name: 'supported', value: SUPPORTED_OPTIONS.join(', ') };
const ACCEPT: Header = { name: 'accept', value: 'application/sdp' };
const allowed = new Set<string>(ALLOWED_METHODS);
const supported = new Set<string>(SUPPORTED_OPTIONS);

export interface RequestContext {
  registrar: Registrar;
  calls: CallEngine;
  /** Finds the INVITE server transaction a CANCEL targets (RFC 3261 §9.2). */
  findInviteForCancel(cancel: SipRequest): ServerTransaction | undefined;
}

/**
 * The user-agent server core: the generic request checks of RFC 3261 §8.2
 * (method, URI scheme, Require, content), in that order, then the method's
 * handler. Every request leaves with exactly one final response, except ACK.
 */
export function handleRequest(ctx: RequestContext, req: SipRequest, tx: ServerTransaction | undefined, inbound: Inbound): void {
  if (req.method === 'ACK' || !tx) {
    // ACKs for our 2xx belong to a dialog; an ACK without one is dropped (it has no response).
    if (req.method === 'ACK') ctx.calls.inDialog(req, undefined, inbound);
    return;
  }
  const respond = (status: number, reason?: string, extra?: Header[], toTag?: string): void => {
    tx.respond(createResponse(req, status, reason, { extraHeaders: extra, toTag }));
  };
  const method = req.method;
  if (!allowed.has(method)) {
    respond(KNOWN_METHODS.has(method) ? 405 : 501, undefined, [ALLOW]);
    return;
  }
  const scheme = req.uri.scheme;
  if (scheme !== 'sip' && scheme !== 'sips') {
    respond(416, 'Unsupported URI Scheme');
    return;
  }
  if (method !== 'CANCEL') {
    const unsupported = parseTokenList(getHeaders(req, 'require')).filter((t) => !supported.has(t));
    if (unsupported.length > 0) {
      respond(420, 'Bad Extension', [{ name: 'unsupported', value: unsupported.join(', ') }]);
      return;
    }
  }
  if (req.body.length > 0 && (method === 'INVITE' || method === 'OPTIONS')) {
    const type = mediaType(getHeader(req, 'content-type'));
    if (type !== 'application/sdp' || hasUnknownEncoding(req)) {
      respond(415, 'Unsupported Media Type', [ACCEPT, { name: 'accept-encoding', value: 'identity' }]);
      return;
    }
  }
  if (method !== 'REGISTER' && method !== 'CANCEL' && tagOf(req.to) !== undefined) {
    ctx.calls.inDialog(req, tx, inbound);
    return;
  }
  switch (method) {
    case 'REGISTER':
      ctx.registrar.handle(req, inbound, (status, reason, extra) => respond(status, reason, extra));
      return;
    case 'OPTIONS':
      respond(200, 'OK', [ALLOW, ACCEPT, SUPPORTED, { name: 'accept-language', value: 'en' }]);
      return;
    case 'CANCEL': {
      const invite = ctx.findInviteForCancel(req);
      if (!invite) {
        respond(481, 'Call/Transaction Does Not Exist');
        return;
      }
      respond(200, 'OK');
      if (ctx.calls.cancel(invite)) return;
      if (!invite.lastResponse || invite.lastResponse.status < 200) {
        invite.respond(createResponse(invite.request, 487, 'Request Terminated'));
      }
      return;
    }
    case 'INVITE':
      if (!acceptsSdp(req)) {
        respond(406, 'Not Acceptable', [{ name: 'warning', value: '399 switchboard "Only application/sdp can be answered"' }]);
        return;
      }
      ctx.calls.invite(req, tx as InviteServerTransaction, inbound);
      return;
    case 'BYE':
    case 'UPDATE':
    case 'INFO':
    case 'PRACK':
      // Only meaningful inside a dialog, and this one names none (no To tag).
      respond(481, 'Call/Transaction Does Not Exist');
      return;
  }
}

function mediaType(value: string | undefined): string {
  if (!value) return '';
  const semi = value.indexOf(';');
  return (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase();
}

function hasUnknownEncoding(req: SipRequest): boolean {
  return parseTokenList(getHeaders(req, 'content-encoding')).some((e) => e !== 'identity');
}

/** An Accept header that does not admit application/sdp means we could not send an answer (RFC 3261 §21.4.7). */
function acceptsSdp(req: SipRequest): boolean {
  const values = getHeaders(req, 'accept');
  if (values.length === 0) return true;
  for (const v of values) {
    const t = mediaType(v);
    if (t === 'application/sdp' || t === 'application/*' || t === '*/*' || t === '') return true;
  }
  return false;
}
