// Responses sent without a server transaction (RFC 3261 §8.2.7): nothing is
// kept and nothing is retransmitted; a retransmitted request simply gets the
// same answer again. §8.2.7 asks a stateless UAS to give a request and its
// retransmissions the same To tag, so the tag is derived from the request
// instead of drawn at random.
import type { Header, SipRequest, SipResponse } from '../message.ts';
import { createResponse } from '../serializer.ts';

/**
 * A To tag that depends only on the request's top Via branch and Call-ID:
 * the same for every retransmission, different across transactions.
 * FNV-1a over the characters, no allocation beyond the result.
 */
export function statelessTag(req: SipRequest): string {
  let h = 0x811c9dc5;
  const branch = req.via[0]?.params.get('branch') ?? '';
  for (let i = 0; i < branch.length; i++) h = Math.imul(h ^ branch.charCodeAt(i), 0x01000193);
  const callId = req.callId;
  for (let i = 0; i < callId.length; i++) h = Math.imul(h ^ callId.charCodeAt(i), 0x01000193);
  return 'sl' + (h >>> 0).toString(36);
}

/** A final response to `req` for stateless sending: To tag from statelessTag(). */
export function statelessResponse(req: SipRequest, status: number, reason?: string, extraHeaders?: Header[]): SipResponse {
  return createResponse(req, status, reason, { toTag: statelessTag(req), extraHeaders });
}
