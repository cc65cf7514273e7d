// The gateway's media policy towards the upstream call server (SPEC B-05..B-09,
// B-11, D-09, EC-01, EC-02): the gateway settings as the MediaProfile of the
// upstream leg. The relay (src/pbx/media/call-media.ts) applies it like any
// other side's profile; the handset keeps its own user's profile, and the
// bridge between them translates RTP and SRTP.
import type { GatewaySettings } from '../model/gateway.ts';
import type { MediaProfile } from '../pbx/media/profile.ts';

/** D-09: the key lifetime the gateway writes into its own a=crypto lines (RFC 4568 "2^31"). */
export const GATEWAY_SDES_LIFETIME = '2^31';

/**
 * The upstream leg's profile. SRTP on and required: RTP/SAVP only, an offer
 * without acceptable crypto is refused (B-05). SRTP on alone: SRTP when the
 * peer offers it (best effort). SRTCP is always encrypted when SRTP runs
 * (EC-02: UNENCRYPTED_SRTCP is refused). No RFC 5939 (B-06, EC-01: an
 * RTP/AVP offer with acap/pcfg is refused with a reason under Require).
 * The relay always anchors it: media never goes direct to the upstream.
 */
export function gatewayMediaProfile(s: GatewaySettings, system: { suites: readonly string[] }): MediaProfile {
  return {
    security: !s.srtp ? 'disabled' : s.requireSrtp ? 'enforced' : 'best-effort',
    encryptedSrtcp: true,
    directMedia: false,
    dtmf: s.dtmfInfo || !s.dtmfRfc2833 ? 'info' : 'rfc4733',
    capneg: false,
    transport: s.transport === 'tls' ? 'tls' : 'any',
    suites: system.suites,
    codecs: s.codecs,
    sdes: {
      ...(s.sdesLifetime ? { lifetime: GATEWAY_SDES_LIFETIME } : {}),
      // D-09: a one-byte MKI whose value is 1 at session start.
      ...(s.sdesMki ? { mkiLength: 1 } : {}),
    },
    dtmfPayloadType: s.dtmfPayloadType,
    dtmfDurationMs: s.dtmfDurationMs,
    answerSingleCodec: s.answerSingleCodec,
    answerPreferredCodec: s.answerPreferredCodec,
    // B-11 "Add G729A media type": G.729 is also offered, and understood, under the name G729A.
    g729a: s.g729a,
  };
}
