import type { SipRequest, Via } from '../message.ts';
import { MAGIC_COOKIE } from '../ids.ts';

// Transaction matching keys (RFC 3261 §17.1.3 and §17.2.3). Keys are plain
// strings so one Map lookup per message finds the transaction. Separator
// characters cannot occur in the parsed values (control characters are not
// allowed in SIP tokens, URIs or header values).

export { MAGIC_COOKIE } from '../ids.ts';

const SEP = '\x01';
// Legacy keys start with a character no branch can start with, so both kinds share one map.
const LEGACY = '\x02';

export function hasMagicCookie(branch: string | null | undefined): branch is string {
  return typeof branch === 'string' && branch.startsWith(MAGIC_COOKIE);
}

function sentBy(via: Via): string {
  return via.port === undefined ? via.host.toLowerCase() : `${via.host.toLowerCase()}:${via.port}`;
}

export function tagOf(params: Map<string, string | null>): string {
  return params.get('tag') ?? '';
}

/**
 * Server transaction key for `req`, as if its method were `method` (ACK and
 * the CANCEL lookup pass 'INVITE'). With the RFC 3261 cookie: branch, sent-by
 * and method. Without it, the RFC 2543 fields of §17.2.3: Request-URI, From
 * tag, Call-ID, CSeq number, top Via (transport, sent-by, branch if any) and
 * method — plus the To tag for non-INVITE. INVITE keys leave the To tag out
 * because the ACK for a non-2xx carries the tag of our response, not of the
 * INVITE; callers compare To tags after the lookup (sameTag and ackTagMatches in
 * the layer).
 *
 * Built with join() rather than `+`: the parts are slices of the message text,
 * and `+` makes a string that points at them, so a key kept in the server map
 * through timer J would keep the whole request text alive; join() copies the
 * characters into a new flat string.
 */
export function serverKey(req: SipRequest, method: string): string | undefined {
  const top = req.via[0];
  if (!top) return undefined;
  const branch = top.params.get('branch');
  if (hasMagicCookie(branch)) return [branch, sentBy(top), method].join(SEP);
  const parts = [LEGACY + req.uriRaw, tagOf(req.from.params), req.callId, req.cseq.seq, top.transport, sentBy(top), branch ?? '', method];
  if (method !== 'INVITE') parts.push(tagOf(req.to.params));
  return parts.join(SEP);
}

export function isLegacyKey(key: string): boolean {
  return key.charCodeAt(0) === 2;
}

/** Client transaction key: top Via branch plus CSeq method (§17.1.3). */
export function clientKey(branch: string, method: string): string {
  return branch + SEP + method;
}
