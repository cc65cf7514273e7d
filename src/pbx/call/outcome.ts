// How the final answers of the forks become the one answer the caller gets,
// and how a call's end is classified in its record.
import type { CallDisposition, CdrInput, CdrLeg, CdrMedia, CdrMediaSide } from '../../store/types.ts';
import type { CallView } from './context.ts';
import type { LegMediaStats, MediaSession } from './media.ts';
import type { Segment } from './segments.ts';
import { reasonPhrase } from '../../sip/serializer.ts';

/**
 * The response to send upstream when every fork failed, after RFC 3261
 * §16.7 step 6: a 6xx wins; otherwise busy beats everything (one busy phone
 * means the user is busy); otherwise the lowest class, preferring specific
 * 4xx to 408/480. Challenges and redirects from phones are never passed on
 * (the caller cannot answer a callee's 401, and we do not redirect), so they
 * count as 480.
 */
export function bestFailure(statuses: readonly number[]): { status: number; reason: string } {
  let best = 0;
  const rank = (s: number): number => {
    if (s >= 600) return 0;
    if (s === 486) return 1;
    if (s >= 400 && s < 500 && s !== 408 && s !== 480 && s !== 401 && s !== 407) return 2;
    if (s === 480 || s === 408) return 3;
    if (s >= 500) return 4;
    return 5;
  };
  for (const raw of statuses) {
    const s = raw === 401 || raw === 407 || (raw >= 300 && raw < 400) || raw === 0 ? 480 : raw;
    if (best === 0 || rank(s) < rank(best)) best = s;
  }
  if (best === 0) best = 480;
  // A phone's 503 says nothing about our service: tell the caller the callee is unreachable.
  if (best === 503) best = 480;
  return { status: best, reason: reasonPhrase(best) };
}

export function dispositionOf(o: { answered: boolean; cancelled: boolean; timedOut: boolean; status: number }): CallDisposition {
  if (o.answered) return 'answered';
  if (o.cancelled) return 'cancelled';
  if (o.timedOut) return 'no-answer';
  if (o.status === 486 || o.status === 600) return 'busy';
  if (o.status === 480 || o.status === 408) return 'no-answer';
  if (o.status >= 500) return 'failed';
  return 'rejected';
}

/**
 * Why an unanswered call ended, in words for the call log: the reason phrase
 * the caller got, or, where that phrase says nothing more than its status,
 * what happened.
 */
export function endReason(o: { answered: boolean; cancelled: boolean; timedOut: boolean; status: number; reason: string }): string {
  if (o.answered) return '';
  if (o.cancelled) return 'cancelled by the caller';
  const plain = o.reason === '' || o.reason === reasonPhrase(o.status);
  if (o.timedOut && plain) return o.status === 408 ? 'nobody answered (no phone rang)' : 'nobody answered in time';
  return o.reason;
}

/** The media of a call as it ends: addresses per side and, when relayed, packet counts, loss and jitter. */
export function mediaRecord(media: MediaSession): CdrMedia | null {
  if (media.codec === undefined) return null;
  const stats = media.legStats();
  const addresses = media.addresses?.() ?? { a: null, b: null };
  const side = (address: string | null, stream: string, s: LegMediaStats | undefined): CdrMediaSide => ({
    address,
    stream,
    packetsIn: s?.packetsIn ?? null,
    packetsOut: s?.packetsOut ?? null,
    lost: s?.lost ?? null,
    lossPercent: s === undefined ? null : Math.round(s.lossPercent * 100) / 100,
    jitterMs: s === undefined ? null : Math.round(s.jitterMs * 100) / 100,
  });
  return {
    connectionType: media.connectionType,
    caller: side(addresses.a, media.streams.a, stats?.a),
    callee: side(addresses.b, media.streams.b, stats?.b),
  };
}

/** The call detail record of a call that just ended. */
export function callRecord(
  call: CallView,
  end: {
    endedAt: number; status: number; reason: string; cancelled: boolean; timedOut: boolean; legs: readonly CdrLeg[];
    segments?: readonly Segment[]; media?: CdrMedia | null;
  },
): CdrInput {
  const answered = call.answeredAt !== undefined;
  return {
    callRef: call.ref,
    direction: call.direction,
    caller: call.caller.number,
    callerName: call.caller.name,
    callerExtension: call.caller.user?.extension ?? null,
    callee: call.callee.number,
    calleeExtension: call.callee.user?.extension ?? null,
    trunk: call.callee.trunk ?? null,
    startedAt: call.startedAt,
    answeredAt: call.answeredAt ?? null,
    endedAt: end.endedAt,
    disposition: dispositionOf({ answered, cancelled: end.cancelled, timedOut: end.timedOut, status: end.status }),
    status: answered ? 200 : end.status,
    reason: endReason({ answered, cancelled: end.cancelled, timedOut: end.timedOut, status: end.status, reason: end.reason }),
    codec: call.codec ?? null,
    legs: end.legs,
    segments: (end.segments ?? []).map((s) => ({ a: s.a.number, b: s.b.number, startedAt: s.startedAt, endedAt: s.endedAt ?? end.endedAt })),
    media: end.media ?? null,
  };
}
