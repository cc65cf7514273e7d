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

/** The top Via as far as RFC 2543 matching cares: transport, sent-by and branch if any. */
function viaKey(via: Via): string {
  return `${via.transport}${SEP}${sentBy(via)}${SEP}${via.params.get('branch') ?? ''}`;
}

export function tagOf(params: Map<string, string | null>): string {
  return params.get('tag') ?? '';
}

/**
 * Server transaction key for `req`, as if its method were `method` (ACK and
 * the CANCEL lookup pass 'INVITE'). With the RFC 3261 cookie: branch, sent-by
 * and method. Without it, the RFC 2543 fields of §17.2.3: Request-URI, From
 * tag, Call-ID, CSeq number, top Via and method — plus the To tag for
 * non-INVITE. INVITE keys leave the To tag out because the ACK for a non-2xx
 * carries the tag of our response, not of the INVITE; callers compare To
 * tags after the lookup (see legacyToTagMatches in the layer).
 */
export function serverKey(req: SipRequest, method: string): string | undefined {
  const top = req.via[0];
  if (!top) return undefined;
  const branch = top.params.get('branch');
  if (hasMagicCookie(branch)) return branch + SEP + sentBy(top) + SEP + method;
  let key =
    LEGACY + req.uriRaw + SEP + tagOf(req.from.params) + SEP + req.callId + SEP + req.cseq.seq + SEP + viaKey(top) + SEP + method;
  if (method !== 'INVITE') key += SEP + tagOf(req.to.params);
  return key;
}

export function isLegacyKey(key: string): boolean {
  return key.charCodeAt(0) === 2;
}

/** Client transaction key: top Via branch plus CSeq method (§17.1.3). */
export function clientKey(branch: string, method: string): string {
  return branch + SEP + method;
}
