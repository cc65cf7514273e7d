// The user-agent core (RFC 3261 §8.2 UAS behaviour and §12.2.2 in-dialog
// dispatch, §9.2 CANCEL) that sits on the transaction layer's onRequest. It
// runs the generic checks every UAS makes before a method handler sees a
// request (method, URI scheme, Require, body), routes in-dialog requests to
// the usage that owns the dialog (RFC 5057: one owner per dialog; an owner
// that shares its dialog with other usages, e.g. an INVITE dialog carrying a
// REFER subscription, forwards to them itself), answers CANCEL, and hands the
// rest to handlers registered by method. It knows nothing of the application.

import type { Header, SipRequest } from '../message.ts';
import type { Inbound } from '../transport/types.ts';
import type { InviteServerTransaction, ServerTransaction } from '../transaction/types.ts';
import { createResponse } from '../serializer.ts';
import { dialogKey, dialogKeyOfRequest } from '../dialog.ts';
import { tagOf } from '../name-addr.ts';

/** A response the UAS checks of §8.2 answer a request with (reason: the standard phrase when absent). */
export interface UasRefusal {
  status: number;
  reason?: string;
  headers?: Header[];
}

/** Whatever owns a dialog: receives its in-dialog requests (ACK for 2xx with tx undefined). */
export interface DialogUsage {
  onRequest(req: SipRequest, tx: ServerTransaction | undefined, inbound: Inbound): void;
}

/** A handler for out-of-dialog requests of one method; it must answer tx. */
export type RequestHandler = (req: SipRequest, tx: ServerTransaction, inbound: Inbound) => void;

/** Told about a CANCEL (already answered 200); true when the application answers the INVITE itself. */
export type CancelHook = (inviteTx: InviteServerTransaction, cancel: SipRequest) => boolean;

/** Finds the INVITE server transaction a CANCEL targets: TransactionLayer satisfies it. */
export interface CancelLookup {
  findInviteServerTransactionForCancel(cancel: SipRequest): InviteServerTransaction | undefined;
}

export interface UserAgentCoreOptions {
  /** Methods we implement (ACK and CANCEL are added): the Allow header of 405/501/OPTIONS. */
  allowedMethods: readonly string[];
  /** Option tags we support (RFC 3261 §8.2.2.3): Require outside these gets 420. */
  supportedOptions: readonly string[];
  /** Methods we know of but do not take: 405 rather than 501 (§8.2.1). Default: the IANA methods not allowed. */
  knownMethods?: readonly string[];
  /** Body types accepted in INVITE/OPTIONS (default application/sdp): 415 otherwise, 406 if Accept excludes all. */
  acceptedBodyTypes?: readonly string[];
  /** Set later with `core.transactions = layer` when the layer is built after the core (it takes our onRequest). */
  transactions?: CancelLookup;
  onCancel?: CancelHook;
  /**
   * Takes in-dialog requests (and ACKs) whose dialog has no owner in the
   * table, instead of the 481 (and the dropped ACK): lets an application
   * that keeps its own dialog map move over gradually.
   */
  unknownDialog?: DialogUsage;
}

/** Every method registered with IANA at the time of writing. */
const IANA_METHODS = ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'REGISTER', 'PRACK', 'SUBSCRIBE', 'NOTIFY', 'PUBLISH', 'INFO', 'REFER', 'MESSAGE', 'UPDATE'];
/** Methods that only make sense inside a dialog (RFC 3261 §15, 3262, 3311, 6086): 481 without one. */
const DIALOG_ONLY = new Set(['BYE', 'UPDATE', 'INFO', 'PRACK']);

const R481 = 'Call/Transaction Does Not Exist';

/**
 * The dialog table: dialog key (dialogKey(callId, localTag, remoteTag)) ->
 * owner. A key with an empty remote tag is a "half key": the core falls back
 * to it for requests naming a dialog whose remote tag the owner does not know
 * yet (a NOTIFY overtaking the 2xx of its SUBSCRIBE, RFC 6665 §4.1.2.4).
 */
export class DialogTable {
  private readonly map = new Map<string, DialogUsage>();

  /** Takes the key; a previous owner is replaced (the caller decides races, not the table). */
  add(key: string, usage: DialogUsage): void {
    this.map.set(key, usage);
  }

  /** Removes the key only while `usage` still owns it, so a late cleanup cannot evict a successor. */
  remove(key: string, usage: DialogUsage): boolean {
    if (this.map.get(key) !== usage) return false;
    this.map.delete(key);
    return true;
  }

  get(key: string): DialogUsage | undefined {
    return this.map.get(key);
  }

  get size(): number {
    return this.map.size;
  }
}

function mediaType(value: string): string {
  const semi = value.indexOf(';');
  return (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase();
}

export class UserAgentCore {
  readonly dialogs = new DialogTable();
  transactions: CancelLookup | undefined;
  onCancel: CancelHook | undefined;
  unknownDialog: DialogUsage | undefined;
  private readonly handlers = new Map<string, RequestHandler>();
  private readonly allowed: Set<string>;
  private readonly known: Set<string>;
  private readonly supported: Set<string>;
  private readonly bodyTypes: Set<string>;
  /** Precomputed once: the same Header objects go into every response (responses never edit them). */
  readonly allowHeader: Header;
  readonly supportedHeader: Header;
  readonly acceptHeader: Header;
  private readonly acceptEncodingHeader: Header = { name: 'accept-encoding', value: 'identity' };
  private readonly acceptLanguageHeader: Header = { name: 'accept-language', value: 'en' };

  constructor(opts: UserAgentCoreOptions) {
    const allowed = [...new Set([...opts.allowedMethods.map((m) => m.toUpperCase()), 'ACK', 'CANCEL'])];
    this.allowed = new Set(allowed);
    this.known = new Set((opts.knownMethods ?? IANA_METHODS).filter((m) => !this.allowed.has(m)));
    this.supported = new Set(opts.supportedOptions.map((t) => t.toLowerCase()));
    const types = opts.acceptedBodyTypes ?? ['application/sdp'];
    this.bodyTypes = new Set(types.map((t) => t.toLowerCase()));
    this.allowHeader = { name: 'allow', value: allowed.join(', ') };
    this.supportedHeader = { name: 'supported', value: opts.supportedOptions.join(', ') };
    this.acceptHeader = { name: 'accept', value: types.join(', ') };
    this.transactions = opts.transactions;
    this.onCancel = opts.onCancel;
    this.unknownDialog = opts.unknownDialog;
  }

  /** Registers the out-of-dialog handler of a method (replacing any previous one). */
  handle(method: string, handler: RequestHandler): void {
    this.handlers.set(method.toUpperCase(), handler);
  }

  /** What a 200 to OPTIONS says about us (RFC 3261 §11.2), for an application's own OPTIONS handler too. */
  capabilityHeaders(): Header[] {
    return [this.allowHeader, this.acceptHeader, this.acceptEncodingHeader, this.acceptLanguageHeader, this.supportedHeader];
  }

  /** Whether a method passes the 405/501 check. */
  allows(method: string): boolean {
    return this.allowed.has(method);
  }

  /** TransactionLayer's onRequest. Arrow property so it can be passed as is. */
  readonly onRequest = (req: SipRequest, tx: ServerTransaction | undefined, inbound: Inbound): void => {
    if (tx === undefined) {
      // ACK for a 2xx (the layer absorbs ACKs of non-2xx): it belongs to a
      // dialog and has no response, so without an owner it is dropped (§13.3.1.4 is the owner's).
      if (req.method === 'ACK') (this.findUsage(req) ?? this.unknownDialog)?.onRequest(req, undefined, inbound);
      return;
    }
    if (!this.passesChecks(req, tx)) return;
    const method = req.method;
    if (method === 'CANCEL') {
      this.cancel(req, tx);
      return;
    }
    // REGISTER never lives in a dialog (§10.2): a To tag there is noise the registrar may judge.
    if (method !== 'REGISTER' && tagOf(req.to) !== undefined) {
      const usage = this.findUsage(req) ?? this.unknownDialog;
      if (usage === undefined) respond(req, tx, 481, R481);
      else usage.onRequest(req, tx, inbound);
      return;
    }
    const handler = this.handlers.get(method);
    if (method === 'OPTIONS' && handler === undefined) {
      respond(req, tx, 200, 'OK', this.capabilityHeaders());
      return;
    }
    if (DIALOG_ONLY.has(method) || (method === 'NOTIFY' && handler === undefined)) {
      respond(req, tx, 481, R481);
      return;
    }
    if (handler === undefined) {
      // Allowed but nobody took it: a configuration slip, not the client's fault.
      respond(req, tx, 500, 'No Handler');
      return;
    }
    handler(req, tx, inbound);
  };

  /** For TransactionLayer's onStrayAck, when the application sets one: routes the ACK like onRequest. */
  readonly onStrayAck = (ack: SipRequest, inbound: Inbound): void => {
    (this.findUsage(ack) ?? this.unknownDialog)?.onRequest(ack, undefined, inbound);
  };

  private findUsage(req: SipRequest): DialogUsage | undefined {
    const key = dialogKeyOfRequest(req);
    if (key === undefined) return undefined;
    const usage = this.dialogs.get(key);
    if (usage !== undefined) return usage;
    // Half key: the owner has not learnt the remote tag yet.
    return this.dialogs.get(dialogKey(req.callId, tagOf(req.to) as string, ''));
  }

  /** §8.2.1-8.2.3 in the RFC's order; false when a response was sent. */
  private passesChecks(req: SipRequest, tx: ServerTransaction): boolean {
    const refusal = this.refusal(req);
    if (refusal === undefined) return true;
    respond(req, tx, refusal.status, refusal.reason, refusal.headers);
    return false;
  }

  /**
   * What the checks of §8.2.1-8.2.3 refuse a request with, in the RFC's
   * order, or undefined when it passes them. Public for a stateless screen
   * that must answer as the core would before anything else looks at a request.
   */
  refusal(req: SipRequest): UasRefusal | undefined {
    const method = req.method;
    if (!this.allowed.has(method)) {
      return { status: this.known.has(method) ? 405 : 501, headers: [this.allowHeader] };
    }
    const scheme = req.uri.scheme;
    if (scheme !== 'sip' && scheme !== 'sips') {
      return { status: 416, reason: 'Unsupported URI Scheme' };
    }
    const isInvite = method === 'INVITE';
    const checkBody = req.body.length > 0 && (isInvite || method === 'OPTIONS');
    let unsupported: string[] | undefined;
    let contentType = '';
    let badEncoding = false;
    let accept: string[] | undefined;
    // One pass over the headers; nothing is allocated unless a header of interest is present.
    for (const h of req.headers) {
      switch (h.name) {
        case 'require':
          if (method === 'CANCEL') break;
          for (const part of h.value.split(',')) {
            const t = part.trim();
            if (t.length > 0 && !this.supported.has(t.toLowerCase())) (unsupported ??= []).push(t);
          }
          break;
        case 'content-type':
          if (checkBody) contentType = mediaType(h.value);
          break;
        case 'content-encoding':
          if (checkBody) {
            for (const part of h.value.split(',')) {
              const e = part.trim().toLowerCase();
              if (e.length > 0 && e !== 'identity') badEncoding = true;
            }
          }
          break;
        case 'accept':
          if (isInvite) (accept ??= []).push(h.value);
          break;
      }
    }
    if (unsupported !== undefined) {
      return { status: 420, reason: 'Bad Extension', headers: [{ name: 'unsupported', value: unsupported.join(', ') }] };
    }
    if (checkBody && (!this.bodyTypes.has(contentType) || badEncoding)) {
      return { status: 415, reason: 'Unsupported Media Type', headers: [this.acceptHeader, this.acceptEncodingHeader] };
    }
    if (accept !== undefined && !this.acceptsOurs(accept)) {
      // §21.4.7: we could not send an answer in any type the caller takes.
      return { status: 406, reason: 'Not Acceptable', headers: [this.acceptHeader] };
    }
    return undefined;
  }

  /** An empty Accept, a wildcard or one of our body types admits our answer. */
  private acceptsOurs(values: string[]): boolean {
    for (const v of values) {
      for (const part of v.split(',')) {
        const t = mediaType(part);
        if (t === '' || t === '*/*' || this.bodyTypes.has(t)) return true;
        if (t.endsWith('/*')) {
          const top = t.slice(0, -1);
          for (const b of this.bodyTypes) if (b.startsWith(top)) return true;
        }
      }
    }
    return false;
  }

  /** §9.2: 200 to the CANCEL, then 487 to the INVITE unless the application takes it. */
  private cancel(req: SipRequest, tx: ServerTransaction): void {
    const invite = this.transactions?.findInviteServerTransactionForCancel(req);
    if (invite === undefined) {
      respond(req, tx, 481, R481);
      return;
    }
    respond(req, tx, 200, 'OK');
    if (this.onCancel?.(invite, req) === true) return;
    const last = invite.lastResponse;
    if (last !== undefined && last.status >= 200) return;
    // Same To tag as the provisionals, so the caller sees one early dialog end.
    const toTag = last !== undefined ? tagOf(last.to) : undefined;
    invite.respond(createResponse(invite.request, 487, 'Request Terminated', toTag !== undefined ? { toTag } : undefined));
  }
}

function respond(req: SipRequest, tx: ServerTransaction, status: number, reason?: string, extraHeaders?: Header[]): void {
  tx.respond(createResponse(req, status, reason, extraHeaders !== undefined ? { extraHeaders } : undefined));
}
