// Public API of the SDP library. It knows nothing of SIP dialogs: callers hand
// it bodies and get descriptions back.

export type {
  ParseSdpResult,
  Sdp,
  SdpAttribute,
  SdpBandwidth,
  SdpConnection,
  SdpLimits,
  SdpLine,
  SdpMedia,
  SdpOrigin,
} from './model.ts';
export { DEFAULT_SDP_LIMITS, cloneSdp, findAttribute, findAttributes, isAudio, isRtpProto } from './model.ts';
export { parseSdp } from './parse.ts';
export { serializeSdp } from './serialize.ts';
export type { Codec, FilterResult } from './codecs.ts';
export {
  COMFORT_NOISE,
  TELEPHONE_EVENT,
  canonicalCodecName,
  codecOf,
  codecsOf,
  filterCodecs,
  isVoiceCodec,
  negotiatedCodec,
} from './codecs.ts';
export type { Direction } from './direction.ts';
export { answerDirection, directionAttribute, isHold, mediaDirection, setDirection } from './direction.ts';
export type { MediaEndpoint, SetConnectionOptions } from './session.ts';
export { bumpVersion, connectionOf, setConnection, withVersion } from './session.ts';
