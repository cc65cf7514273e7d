// RFC 3891 Replaces: the header (§6.1), the UAS matching rules (§3) and the
// escaped form carried in a Refer-To URI for attended transfer (§4, RFC 5589).

import type { SipRequest, SipUri } from '../message.ts';
import { dialogKey } from '../dialog.ts';
import { getHeaders } from '../headers.ts';
import { parseParams } from '../params.ts';
import { cloneUri, formatUri } from '../uri.ts';

export interface Replaces {
  callId: string;
  /** The to-tag of the header: at the UAS that receives it, its own (local) tag. */
  toTag: string;
  /** The from-tag: at the receiving UAS, the remote tag. */
  fromTag: string;
  earlyOnly: boolean;
}

/** `callid;to-tag=..;from-tag=..[;early-only]`; undefined without both tags or with an empty Call-ID. */
export function parseReplaces(value: string): Replaces | undefined {
  const v = value.trim();
  const semi = v.indexOf(';');
  if (semi <= 0) return undefined;
  const callId = v.slice(0, semi).trim();
  if (callId.length === 0 || /\s/.test(callId)) return undefined;
  const params = parseParams(v.slice(semi));
  if (params === undefined) return undefined;
  const toTag = params.get('to-tag');
  const fromTag = params.get('from-tag');
  if (toTag == null || fromTag == null) return undefined;
  return { callId, toTag, fromTag, earlyOnly: params.has('early-only') };
}

export function formatReplaces(r: Replaces): string {
  return `${r.callId};to-tag=${r.toTag};from-tag=${r.fromTag}${r.earlyOnly ? ';early-only' : ''}`;
}

/**
 * The Replaces header of a request: 'none', the parsed value, or 'bad' when
 * it is malformed or there is more than one (§3: 400 Bad Request).
 */
export function replacesOf(req: SipRequest): Replaces | 'none' | 'bad' {
  const values = getHeaders(req, 'replaces');
  if (values.length === 0) return 'none';
  if (values.length > 1) return 'bad';
  return parseReplaces(values[0]!) ?? 'bad';
}

/** The key under which the receiving UAS keeps the named dialog (our tag is the header's to-tag). */
export function replacesDialogKey(r: Replaces): string {
  return dialogKey(r.callId, r.toTag, r.fromTag);
}

/** What the matching rule needs to know of one of our dialogs. */
export interface ReplaceableDialog {
  state: 'early' | 'confirmed' | 'terminated';
  /** We sent the INVITE that created it (an early dialog can only be replaced at its originator). */
  initiatedLocally: boolean;
}

export type ReplacesMatch<T> = { ok: true; dialog: T } | { ok: false; status: 400 | 481 | 486 | 603; reason: string };

/**
 * §3 at the UAS of an INVITE carrying Replaces: 481 when no dialog matches
 * or it is an early dialog we did not initiate, 486 for a confirmed dialog
 * when early-only is set, 603 for a dialog that has already ended; otherwise
 * the dialog to replace. `lookup` takes replacesDialogKey(r) (e.g. the core's
 * dialog table plus the application's own state).
 */
export function matchReplaces<T extends ReplaceableDialog>(r: Replaces | 'bad', lookup: (key: string) => T | undefined): ReplacesMatch<T> {
  if (r === 'bad') return { ok: false, status: 400, reason: 'Bad Replaces Header' };
  const d = lookup(replacesDialogKey(r));
  if (d === undefined) return { ok: false, status: 481, reason: 'Call/Transaction Does Not Exist' };
  if (d.state === 'terminated') return { ok: false, status: 603, reason: 'Declined' };
  if (d.state === 'confirmed' && r.earlyOnly) return { ok: false, status: 486, reason: 'Busy Here' };
  if (d.state === 'early' && !d.initiatedLocally) return { ok: false, status: 481, reason: 'Call/Transaction Does Not Exist' };
  return { ok: true, dialog: d };
}

/**
 * A Refer-To value for attended transfer: `<target?Replaces=...>` with the
 * Replaces value %-escaped as a URI header (';' '=' '@' and all, RFC 3261
 * §19.1.1), from the point of view of the UA that will receive the INVITE:
 * toTag is ITS tag in the dialog being replaced, fromTag the other party's.
 */
export function referToWithReplaces(target: SipUri, r: Replaces): string {
  const uri = cloneUri(target);
  uri.headers.set('Replaces', formatReplaces(r));
  return '<' + formatUri(uri) + '>';
}
