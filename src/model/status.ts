// The live status model: what GET /api/status, the WebSocket feed behind the
// System Status page and the Users page's activity column send. The API
// documents these schemas (src/api/live-schemas.ts) and the web UI takes its
// types from them. Objects are loose: the status service grows fields (media
// statistics, features) and clients must ignore what they do not know.
import { z } from 'zod';

export const EXTENSION_STATES = ['idle', 'ringing', 'connected'] as const;
export type ExtensionState = (typeof EXTENSION_STATES)[number];
export const ALARM_SEVERITIES = ['critical', 'major', 'minor', 'warning'] as const;
export type AlarmSeverity = (typeof ALARM_SEVERITIES)[number];

export const contactStatusSchema = z.looseObject({
  contact: z.string(),
  transport: z.string(),
  address: z.string(),
  port: z.number().int(),
  userAgent: z.string().nullable(),
  expiresAt: z.number().int(),
  node: z.string().nullable().optional().describe('the node holding the phone, when several share the store'),
});

export const extensionStatusSchema = z.looseObject({
  extension: z.string(),
  name: z.string(),
  registered: z.boolean(),
  contacts: z.array(contactStatusSchema),
  state: z.enum(EXTENSION_STATES),
  calls: z.number().int().describe('calls the extension is in (any state)'),
  mediaStream: z.string().describe('what its media security makes of its calls: "SRTP", "SRTP/RTP" or "RTP"'),
});

const legStatusSchema = z.looseObject({
  stream: z.string(),
  packetsIn: z.number().int().nullable(),
  packetsOut: z.number().int().nullable(),
  lost: z.number().int().nullable(),
  lossPercent: z.number().nullable(),
  jitterMs: z.number().nullable(),
});

export const callStatusSchema = z.looseObject({
  ref: z.string(),
  state: z.string(),
  direction: z.string(),
  caller: z.string(),
  callerName: z.string(),
  callee: z.string(),
  calleeExtension: z.string().nullable(),
  trunk: z.string().nullable(),
  app: z.string().nullable().optional().describe('the media server application that answered: voicemail, ivr, conference or moh; null for a phone or trunk'),
  startedAt: z.number().int(),
  answeredAt: z.number().int().nullable(),
  durationSec: z.number().int(),
  codec: z.string().nullable(),
  held: z.boolean(),
  connectionType: z.string().describe('e.g. "SRTP Direct Media", "RTP relayed"'),
  legs: z.object({ caller: legStatusSchema, callee: legStatusSchema })
    .describe('per leg: media stream and, for relayed calls, packets, loss and jitter'),
});

export const TRUNK_STATES = ['unknown', 'up', 'down', 'registering', 'registered', 'refused'] as const;

export const trunkStatusSchema = z.looseObject({
  trunk: z.string(),
  state: z.enum(TRUNK_STATES).describe('down: its OPTIONS went unanswered (calls to it get 503 at once); refused: it answered the REGISTER ' +
    'with an error (after the digest retry); registering/registered for trunks with credentials; up: it answers OPTIONS; unknown: not answered yet'),
  reason: z.string().describe("why it is down, refused or still registering ('' otherwise)"),
  since: z.number().int().describe('when the state began, epoch ms'),
  reachable: z.enum(['unknown', 'up', 'down']).describe('what its OPTIONS answers say'),
  rttMs: z.number().nullable().describe('round trip of the last answered OPTIONS'),
  probeStatus: z.number().int().describe('status of the last answer to OPTIONS (any status means alive); 0 for none'),
  registration: z.string().nullable().describe('registering, registered or failed for a trunk with credentials; null otherwise'),
  lastStatus: z.number().int().describe('last final status to a REGISTER; 0 for a timeout, a transport error or none'),
  expiresAt: z.number().int().optional().describe('when the registration runs out, epoch ms'),
});

export const peerLinkStatusSchema = z.looseObject({
  uri: z.string().describe('the peer node as configured, e.g. sip:10.0.0.2:5061;transport=tls'),
  node: z.string().nullable().describe("the peer's node name, from its answers; null until it answered"),
  state: z.string().describe('connecting, up or down'),
  since: z.number().int().describe('when the state began, epoch ms'),
  rttMs: z.number().nullable().describe('round trip of the last answered OPTIONS'),
  reason: z.string().describe("why the link is down ('' when up)"),
});

export const parkedCallSchema = z.looseObject({
  slot: z.string(),
  call: z.string().describe("the parked call's reference"),
  party: z.object({ number: z.string(), name: z.string() }).describe('who waits in the slot'),
  parkedBy: z.string().nullable().describe('extension that parked it'),
  since: z.number().int().describe('epoch ms'),
});

export const alarmSchema = z.looseObject({
  id: z.string(),
  kind: z.string(),
  severity: z.enum(ALARM_SEVERITIES),
  text: z.string(),
  source: z.string().optional(),
  since: z.number().int(),
  lastAt: z.number().int(),
  count: z.number().int(),
  clearAt: z.number().int().optional(),
});

export const trunkReductionSchema = z.looseObject({
  trunk: z.string(),
  reduction: z.number().int().describe('percentage of new calls to it not sent now (RFC 7339 oc)'),
  until: z.number().int().describe('when its feedback runs out, epoch ms'),
  shed: z.number().int().describe('calls not sent to it since start (their callers got 503)'),
});

export const overloadStatusSchema = z.looseObject({
  enabled: z.boolean().describe('sip.overload.enabled'),
  receiveDelayMs: z.number().describe("how long the last probe waited in the UDP socket before it was read"),
  admitted: z.number().describe('share of new out-of-dialog requests with credentials admitted (1 = no shedding)'),
  admittedUnauthenticated: z.number().describe('the same for requests without credentials'),
  refused: z.number().int().describe('new requests refused with 503 since start'),
  dropped: z.number().int().describe('new requests without credentials dropped unanswered since start'),
  ocFeedback: z.number().int().describe('responses that carried RFC 7339 feedback to an upstream since start'),
  trunks: z.array(trunkReductionSchema).describe('trunks that sent RFC 7339 feedback, and what holds now'),
});

export const workerStatusSchema = z.looseObject({
  worker: z.number().int(),
  pid: z.number().int(),
  calls: z.number().int().describe('calls this worker holds'),
  bindings: z.number().int().describe('registrations (bindings) in its location index; every worker holds every one'),
  connections: z.number().int().describe('TCP/TLS connections it holds'),
  forwarded: z.number().int().describe('messages it handed to the worker that owns them'),
  overload: overloadStatusSchema.optional(),
});

export const statusSnapshotSchema = z.looseObject({
  at: z.number().int().describe('server time of the snapshot, epoch ms'),
  extensions: z.array(extensionStatusSchema).describe('registered extensions and extensions in calls'),
  calls: z.array(callStatusSchema),
  trunks: z.array(trunkStatusSchema).describe('every enabled trunk, with its state since when and the last round trip'),
  parked: z.array(parkedCallSchema).describe('calls waiting in park slots; *38*S# takes one'),
  peers: z.array(peerLinkStatusSchema).describe('SIP links to the other nodes sharing the store').optional(),
  overload: overloadStatusSchema.optional().describe('overload control now; in a cluster, the workers together (sums, lowest shares, longest wait)'),
  workers: z.array(workerStatusSchema).optional().describe('in a cluster: each worker, as it answered now'),
});

export const activeConferenceSchema = z.object({
  room: z.string().describe('the room number, or adhoc-<extension>-<n> for the ad-hoc conference a handset made with the conference code'),
  adhoc: z.boolean(),
  participants: z.number().int(),
  worker: z.number().int().nullable().describe("the worker process whose mixer holds the room; null for a single process"),
});
export type ActiveConference = z.output<typeof activeConferenceSchema>;

export const alarmListSchema = z.object({ items: z.array(alarmSchema) });

export const userActivitySchema = z.object({
  extension: z.string(),
  registered: z.boolean(),
  userAgent: z.string().nullable().describe("the newest binding's device"),
  address: z.string().nullable(),
  transport: z.string().nullable(),
  state: z.enum(EXTENSION_STATES),
  registeredUntil: z.number().int().nullable().describe('expiry of the latest registration, epoch ms'),
  lastCallAt: z.number().int().nullable().describe('start of the newest call (active or recorded), epoch ms'),
});

/** A loose schema's output without its index signature: the fields a client knows. */
export type Known<T> = T extends readonly (infer U)[] ? Known<U>[]
  : T extends object ? { [K in keyof T as string extends K ? never : K]: Known<T[K]> } : T;

export type ContactStatus = Known<z.output<typeof contactStatusSchema>>;
export type ExtensionStatus = Known<z.output<typeof extensionStatusSchema>>;
export type CallStatus = Known<z.output<typeof callStatusSchema>>;
export type TrunkStatus = Known<z.output<typeof trunkStatusSchema>>;
export type PeerLinkView = Known<z.output<typeof peerLinkStatusSchema>>;
export type ParkedCallView = Known<z.output<typeof parkedCallSchema>>;
export type Alarm = Known<z.output<typeof alarmSchema>>;
export type StatusSnapshotView = Known<z.output<typeof statusSnapshotSchema>>;
export type OverloadStatus = Known<z.output<typeof overloadStatusSchema>>;
export type WorkerStatus = Known<z.output<typeof workerStatusSchema>>;
export type UserActivity = z.output<typeof userActivitySchema>;

/** One text message of GET /api/status/ws. */
export type FeedMessage =
  | { type: 'snapshot'; status: StatusSnapshotView; alarms: Alarm[] }
  | { type: 'extension'; extension: ExtensionStatus }
  | { type: 'call'; call: CallStatus; ended: boolean }
  | { type: 'trunk'; trunk: TrunkStatus }
  | { type: 'alarm'; event: 'raised' | 'updated' | 'cleared'; alarm: Alarm };
