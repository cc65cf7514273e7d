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
export type {
  MakeCryptoOptions,
  MasterKey,
  ParseCryptoResult,
  SdesCrypto,
  SdesFlag,
  SdesKeyParam,
  SdesLifetime,
  SdesMki,
  SdesSessionParam,
  SrtpSuiteInfo,
} from './crypto.ts';
export {
  DEFAULT_SRTP_SUITES,
  KeyMaterial,
  SRTP_SUITES,
  cryptoAttribute,
  formatCrypto,
  generateKeySalt,
  makeCrypto,
  makeCryptoAttribute,
  masterKeys,
  parseCrypto,
  redactCrypto,
  redactSdp,
  suiteInfo,
} from './crypto.ts';
export type {
  Acap,
  AttributeChoice,
  CapConfig,
  CapNegResult,
  CapNegSrtpOptions,
  ChosenConfiguration,
  ConfigPart,
  PotentialConfiguration,
  Tcap,
} from './capneg.ts';
export {
  CAPNEG_ATTRIBUTES,
  SUPPORTED_CAPNEG_OPTIONS,
  applyAcfg,
  capNegSrtpMedia,
  formatAcap,
  formatConfig,
  formatTcap,
  hasCapNeg,
  parseAcap,
  parseAcfg,
  parseOptionTags,
  parsePcfg,
  parseTcap,
  potentialConfigurations,
  stripCapNeg,
  withoutCapNeg,
} from './capneg.ts';
export type {
  AnswerCryptoOptions,
  AnswerDecision,
  AnswerVerdict,
  JudgeAnswerOptions,
  JudgeOptions,
  MediaSecurity,
  OfferVerdict,
  SecureOfferOptions,
  SecuredOffer,
  SelectCryptoOptions,
  StreamDecision,
  StreamSecurity,
  StreamSecurityKind,
} from './media-security.ts';
export { answerCrypto, classifyOffer, judgeAnswer, judgeOffer, secureOffer, selectCrypto } from './media-security.ts';
