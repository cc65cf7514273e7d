// Public surface of the user-agent core (see each module's header for the RFC sections).
export { UserAgentCore, DialogTable } from './core.ts';
export type { DialogUsage, RequestHandler, CancelHook, CancelLookup, UserAgentCoreOptions } from './core.ts';
export { UacRequest, sendUacRequest, requestFinal, nextAttempt } from './uac.ts';
export type { UacTransport, UacFailure, UacHandlers, UacOptions } from './uac.ts';
export {
  NotifierSubscription, Subscriber, parseEvent, formatEvent, eventMatches, parseSubscriptionState, formatSubscriptionState,
} from './subscription.ts';
export type {
  UsageContext, SubState, SubscriptionState, EventHeader, NotifyContent, NotifierOptions, AcceptSubscribeOptions, NotifyInfo, SubscriberOptions,
} from './subscription.ts';
export { ReferNotifier, ReferSubscriber, sendRefer, parseReferTo, parseSipfrag, sipfrag, wantsNoSubscription } from './refer.ts';
export type { ReferTo, AcceptReferOptions, SendReferOptions } from './refer.ts';
export { parseReplaces, formatReplaces, replacesOf, replacesDialogKey, matchReplaces, referToWithReplaces } from './replaces.ts';
export type { Replaces, ReplaceableDialog, ReplacesMatch } from './replaces.ts';
export { optionsRequest } from './options.ts';
export type { OptionsProbe } from './options.ts';
export { createRegisterClient, refreshDelaySec } from './register-client.ts';
export type {
  RegisterClient, RegisterClientOptions, RegisterHop, RegisterFailure, RegisterFailureKind, RegisterSuccess,
} from './register-client.ts';
