// Repository interfaces of the persistence layer. They name no SQL dialect and
// no driver: the embedded SQLite store (src/store/sqlite/) and the PostgreSQL
// one (src/store/postgres/) both satisfy them. Every read or write of the
// database returns a Promise (PostgreSQL drivers are asynchronous); the
// write-behind enqueue methods stay synchronous so the SIP path never waits.

import type { AdminStore } from './admin-types.ts';
import type { AppStore } from './app-types.ts';
import type { DeviceRepository } from './device-types.ts';
import type { GatewayRepository } from './gateway-types.ts';
import type { HuntGroup, HuntGroupInput, HuntGroupPatch } from '../model/hunt-group.ts';
import type { ShortCode, ShortCodeInput, ShortCodeMatch, ShortCodePatch } from '../model/short-code.ts';
import type { UserFeaturePatch, UserFeatures } from '../model/user-features.ts';

// The models are the source of these types; re-exported so the call engine
// imports everything persistent from one place.
export type { UserFeaturePatch, UserFeatures } from '../model/user-features.ts';
export type { HuntGroup, HuntGroupInput, HuntGroupMember, HuntGroupPatch, HuntStrategy } from '../model/hunt-group.ts';
export type { ShortCode, ShortCodeFeature, ShortCodeInput, ShortCodeMatch, ShortCodePatch } from '../model/short-code.ts';
export type { ShortCodeAction, ShortCodeCaller } from '../model/short-code-effect.ts';
export type { DeviceFetch, DeviceRepository, DeviceSecrets } from './device-types.ts';

export type DigestAlgorithm = 'MD5' | 'SHA-256' | 'SHA-512-256';

import type { MwiMode, UserMediaSettings } from '../model/user.ts';
/** A user's media settings (src/model/user.ts); a missing key means "Same as System". */
export type { MediaSecurityMode, UserMediaSettings } from '../model/user.ts';

/** What update() takes for media: a value sets a key, null returns it to the system value. */
export type UserMediaPatch = { [K in keyof UserMediaSettings]?: UserMediaSettings[K] | null };

/**
 * One user of the directory (SPEC 1.A "User"), with its telephony features
 * (forwarding, do not disturb, follow me, pickup group: src/model/user-features.ts).
 */
export interface User extends UserFeatures {
  readonly id: number;
  /** Number (or SIP user part) the user is reached on; unique. */
  readonly extension: string;
  /** Display name ('' when none): caller ID and status show it. Not unique. */
  readonly name: string;
  /** SIP digest username; unique. Defaults to the extension. */
  readonly authUser: string;
  /**
   * The "login code", which is also the SIP digest secret. Kept retrievable
   * (not hashed) because HA1 depends on the realm and the algorithm, both of
   * which the server may change; see ha1() in src/sip/digest.ts.
   */
  readonly password: string;
  /** Mailbox PIN (digits) or null when none is set. */
  readonly voicemailCode: string | null;
  readonly enabled: boolean;
  readonly callWaiting: boolean;
  /** Allowed codec names in preference order; null = system default. */
  readonly codecs: readonly string[] | null;
  /** Simultaneous calls allowed; null = system default. */
  readonly maxCalls: number | null;
  /** Seconds before an unanswered call goes to coverage; null = system default. */
  readonly noAnswerTimeoutSec: number | null;
  /** May place calls through SIP trunks (off by default: no toll fraud). */
  readonly outboundCalls: boolean;
  /** The user has a mailbox. */
  readonly voicemail: boolean;
  /** How the user's phones learn of waiting messages (src/model/user.ts). */
  readonly mwi: MwiMode;
  /** Media settings that differ from the system's. */
  readonly media: Readonly<UserMediaSettings>;
  /** Epoch milliseconds. */
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** What add() takes; omitted optional fields take their defaults. */
export interface UserInput extends UserFeaturePatch {
  extension: string;
  password: string;
  name?: string;
  authUser?: string;
  voicemailCode?: string | null;
  enabled?: boolean;
  callWaiting?: boolean;
  codecs?: readonly string[] | null;
  maxCalls?: number | null;
  noAnswerTimeoutSec?: number | null;
  outboundCalls?: boolean;
  voicemail?: boolean;
  mwi?: MwiMode;
  media?: UserMediaPatch;
}

/** What update() takes: undefined keeps a field, null clears a nullable one. */
export type UserPatch = Partial<UserInput>;

export interface UserListQuery {
  offset?: number;
  /** 1..1000, default 100. */
  limit?: number;
  /** Case-insensitive substring of extension, name or authUser. */
  search?: string;
}

export type UserChangeOp = 'add' | 'update' | 'remove';

/**
 * One entry of the change log. A hint, not a diff: the consumer re-reads the
 * user by extension, so seeing an entry twice is harmless.
 */
export interface UserChange {
  readonly seq: number;
  readonly extension: string;
  readonly op: UserChangeOp;
}

export interface ImportRowResult {
  /** Record number in the file, the header being record 1 (the spreadsheet row). */
  row: number;
  extension: string;
  action: 'added' | 'updated' | 'error';
  error?: string;
}

export interface ImportOptions {
  /** Called when the file has been read (done 0) and after each chunk of rows. */
  onProgress?: (done: number, total: number) => void;
}

/** A subscription to one repository's change feed. */
export interface ChangeWatcher {
  /**
   * Looks for changes now instead of waiting for the next notification or
   * poll; resolves once that look is done, true when the listener was called
   * meanwhile (by this look or a wake-up's that ran ahead of it).
   */
  poll(): Promise<boolean>;
  stop(): void;
}

export interface WatchOptions {
  /**
   * Period of the look for changes. SQLite polls at this rate (other
   * processes share the file); PostgreSQL is woken by LISTEN/NOTIFY and polls
   * only as a safety net, at max(intervalMs, 5 s). 0: only poll() looks.
   */
  intervalMs?: number;
}

/**
 * Called with the changes after the watcher's position, oldest first. reset is
 * true when the log was trimmed past that position: reload the whole directory.
 */
export type ChangeListener = (changes: readonly UserChange[], reset: boolean) => void | Promise<void>;

export interface UserRepository {
  /** @throws StoreError duplicate | invalid */
  add(input: UserInput): Promise<User>;
  /** Renaming the extension also moves authUser when it equalled the old extension. @throws StoreError */
  update(extension: string, patch: UserPatch): Promise<User>;
  /** @throws StoreError not-found */
  remove(extension: string): Promise<User>;
  getByExtension(extension: string): Promise<User | undefined>;
  getByAuthUser(authUser: string): Promise<User | undefined>;
  /** Ordered by extension, shortest first (numeric order for digit plans). */
  list(query?: UserListQuery): Promise<User[]>;
  count(search?: string): Promise<number>;
  /** Every user and the change sequence they reflect, read in one snapshot. */
  snapshot(): Promise<{ users: User[]; seq: number }>;
  /**
   * Every user, read in one snapshot like snapshot(), handed to visit one at
   * a time rather than as one list (a million users as objects at once is a
   * gigabyte); resolves with the change sequence they reflect.
   */
  eachUser(visit: (user: User) => void): Promise<number>;
  /**
   * Up to limit users with an id above id, by id: a directory read a page
   * at a time (an export of 450,000 users as one read holds up SIP for
   * seconds). Each page is read on its own, not one snapshot.
   */
  afterId(id: number, limit: number): Promise<User[]>;
  /**
   * CSV in the dialect of src/model/user-csv.ts (what the API exports): a
   * header row naming columns, extension required. Valid rows are applied,
   * bad rows are reported and skipped; a transaction per chunk of rows
   * (src/store/user-import.ts), the event loop turning between them.
   * @throws StoreError invalid (field 'csv') when the file or header is
   * unusable; then nothing is applied
   */
  importCsv(text: string, opts?: ImportOptions): Promise<ImportRowResult[]>;
  /** Highest change sequence so far (0 when none). */
  lastChangeSeq(): Promise<number>;
  /** Changes with seq > afterSeq, oldest first, at most limit (default 1000). */
  pollChanges(afterSeq: number, limit?: number): Promise<UserChange[]>;
  /**
   * Follows the change log from afterSeq (default: the end now) and calls
   * listener, one call at a time. Sees changes by other processes or nodes on
   * the same database and by this one.
   */
  watchChanges(listener: ChangeListener, opts?: WatchOptions & { afterSeq?: number }): ChangeWatcher;
}

/** One registered contact of an address-of-record (RFC 3261 §10). */
export interface Binding {
  /** Canonical address-of-record, e.g. "sip:41510@example.com". */
  aor: string;
  /** Contact URI as registered; with aor the key of the binding. */
  contactUri: string;
  /** The whole Contact header value, echoed in the 200 OK. */
  contactRaw: string;
  callId: string;
  cseq: number;
  /** Epoch milliseconds. */
  expiresAt: number;
  q: number | null;
  /** Path header URIs (RFC 3327), in order. */
  path: string[];
  /** +sip.instance (RFC 5626/5627). */
  instanceId: string | null;
  regId: number | null;
  pubGruu: string | null;
  tempGruu: string | null;
  /** Where the REGISTER came from, for NAT traversal ("received"). */
  transport: string;
  sourceAddress: string;
  sourcePort: number;
  /** Local listener that took it, so requests go back out of the same socket. */
  localAddress: string | null;
  localPort: number | null;
  /**
   * The node (`node.name`) that took the REGISTER and holds the phone's flow:
   * calls to the contact go through that node. Absent or null: written
   * before nodes had names, taken as this node's.
   */
  node?: string | null;
  userAgent: string | null;
  updatedAt: number;
}

export interface RegistrationRepository {
  /** Committed bindings (pending writes are not seen: flush() first). With now, only unexpired ones. */
  loadAll(now?: number): Promise<Binding[]>;
  /** Queued, coalesced by (aor, contactUri); never writes synchronously except when the queue is full. */
  enqueueUpsert(binding: Binding): void;
  enqueueDelete(aor: string, contactUri: string): void;
  enqueueDeleteAor(aor: string): void;
  /**
   * Calls back once everything enqueued so far is committed (group commit:
   * the next turn of the event loop writes it), or with the error that kept
   * it from the disk. A registrar answers 200 OK only then.
   */
  whenDurable(done: (err?: Error) => void): void;
  /**
   * Writes everything queued in one transaction now, waiting for another
   * process's lock up to the busy timeout (for shutdown and tests; the timer
   * never waits). @throws the database error (the batch is kept for a retry)
   */
  flush(): Promise<void>;
  /**
   * Flushes, then deletes rows with expiresAt <= now; returns how many were
   * deleted. Never waits for a lock: returns 0 when another process holds it.
   */
  deleteExpired(now: number): Promise<number>;
  /** Distinct keys waiting to be written. */
  readonly pending: number;
  /**
   * Address-of-records whose bindings another store instance (another
   * process or node) wrote, delivered after its write-behind batch committed.
   * A hint: the consumer re-reads the AOR (loadAor). Our own writes are not
   * delivered.
   */
  watch(listener: (aors: readonly string[]) => void | Promise<void>, opts?: WatchOptions): ChangeWatcher;
  /** Committed bindings of one AOR (unexpired ones when now is given). */
  loadAor(aor: string, now?: number): Promise<Binding[]>;
  /** Flushes and stops the timer; later enqueues are dropped. */
  close(): Promise<void>;
}

export type TrunkTransport = 'udp' | 'tcp' | 'tls';

/** An outbound SIP peer (PSTN gateway, ITSP, another call server) and the dialled numbers routed to it. */
export interface Trunk {
  readonly id: number;
  /** Unique, [A-Za-z0-9_.-]{1,64}. */
  readonly name: string;
  /** Host name or IP address of the peer. */
  readonly host: string;
  readonly port: number;
  readonly transport: TrunkTransport;
  /** Digest username for registering to the peer and answering its challenges; null = none. */
  readonly registerUser: string | null;
  readonly registerPassword: string | null;
  /** Send requests here instead of host:port ("HOST:PORT"); null = none. */
  readonly outboundProxy: string | null;
  /**
   * Dialled numbers starting with this prefix go to this trunk ('' matches
   * every number not matched by a longer prefix). Longest prefix wins.
   */
  readonly prefix: string;
  /** Digits removed from the front of the dialled number before sending. */
  readonly strip: number;
  /** Digits put in front after stripping (e.g. a country code). */
  readonly addPrefix: string;
  /** The trunk that takes this one's calls while it is down; null = none. */
  readonly fallbackTrunk: string | null;
  /** Seconds between OPTIONS probes; null = the system default, 0 = not probed. */
  readonly probeIntervalSec: number | null;
  readonly enabled: boolean;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface TrunkInput {
  name: string;
  host: string;
  port?: number;
  transport?: TrunkTransport;
  registerUser?: string | null;
  registerPassword?: string | null;
  outboundProxy?: string | null;
  prefix?: string;
  strip?: number;
  addPrefix?: string;
  fallbackTrunk?: string | null;
  probeIntervalSec?: number | null;
  enabled?: boolean;
}

/** An inbound number: calls arriving from a trunk for `number` ring `extension` (a user's, or an IVR menu's number). */
export interface Did {
  /** Digits, optionally with a leading '+'; unique. */
  readonly number: string;
  readonly extension: string;
  readonly createdAt: number;
}

export interface TrunkRepository {
  /** @throws StoreError duplicate | invalid */
  add(input: TrunkInput): Promise<Trunk>;
  /** @throws StoreError not-found | invalid */
  update(name: string, patch: Partial<TrunkInput>): Promise<Trunk>;
  /** @throws StoreError not-found */
  remove(name: string): Promise<Trunk>;
  get(name: string): Promise<Trunk | undefined>;
  list(): Promise<Trunk[]>;
  /** @throws StoreError duplicate | invalid */
  addDid(number: string, extension: string): Promise<Did>;
  /** @throws StoreError not-found */
  removeDid(number: string): Promise<Did>;
  listDids(): Promise<Did[]>;
  /** Increases with every trunk or DID change, by any process on the database. */
  revision(): Promise<number>;
  /** Calls listener after trunks or DIDs changed (revision moved), by any process or node. */
  watch(listener: () => void | Promise<void>, opts?: WatchOptions): ChangeWatcher;
}

export type CallDirection = 'internal' | 'inbound' | 'outbound';
/** How a call ended, from the caller's point of view. */
export type CallDisposition = 'answered' | 'no-answer' | 'busy' | 'cancelled' | 'rejected' | 'failed';

/** One outbound attempt of a call (a fork to one contact, or a trunk). */
export interface CdrLeg {
  /** Request-URI the leg was sent to. */
  target: string;
  /** Final status the leg got (200, 486, 487, 408 ...) or 0 when none came. */
  status: number;
  /** Dialog Call-ID of the leg. */
  callId: string;
  /** Reason phrase of that final status, as the far end sent it ('' when none came). */
  reason?: string;
}

/** The media of one side of a call as it ended (SPEC status view: stream, loss, jitter). */
export interface CdrMediaSide {
  /** Where the side's RTP came from (latched by the relay) or, failing that, its SDP address, as address:port; null when unknown. */
  address: string | null;
  /** "SRTP" or "RTP". */
  stream: string;
  /** Relayed calls only; null for direct media (the packets never reached us). */
  packetsIn: number | null;
  packetsOut: number | null;
  lost: number | null;
  lossPercent: number | null;
  jitterMs: number | null;
}

/** What the media of a call was when it ended: caller side and callee side. */
export interface CdrMedia {
  /** "SRTP Direct Media", "RTP relayed", ... */
  connectionType: string;
  caller: CdrMediaSide;
  callee: CdrMediaSide;
}

/**
 * One stretch of an answered call between two parties: a transferred, parked
 * or picked-up call keeps one record with a segment per pairing.
 */
export interface CdrSegment {
  /** Numbers of the two parties (extension, or the outside number). */
  a: string;
  b: string;
  /** Epoch ms. */
  startedAt: number;
  endedAt: number;
}

/** A call detail record: one per call, written when the call ends. */
export interface Cdr {
  readonly id: number;
  /** Switchboard's own id for the call (also in logs and status). */
  readonly callRef: string;
  readonly direction: CallDirection;
  /** Caller number (extension, or the trunk's From user) and display name. */
  readonly caller: string;
  readonly callerName: string;
  /** Caller's extension when a local user; null otherwise. */
  readonly callerExtension: string | null;
  /** Number as dialled. */
  readonly callee: string;
  /** Extension that was rung (after DID mapping); null for outbound calls. */
  readonly calleeExtension: string | null;
  /** Trunk used (outbound) or arrived on (inbound); null for internal calls. */
  readonly trunk: string | null;
  /** Epoch ms. answeredAt is null for unanswered calls. */
  readonly startedAt: number;
  readonly answeredAt: number | null;
  readonly endedAt: number;
  readonly disposition: CallDisposition;
  /** Final SIP status the caller got (200 for answered calls). */
  readonly status: number;
  /** Why, in words: the reason phrase sent with status ('Outbound Calls Not Permitted'), or what refused the attempt. */
  readonly reason: string;
  /** Negotiated codec name ('PCMU', 'G722' ...) or null. */
  readonly codec: string | null;
  readonly legs: readonly CdrLeg[];
  /** Who talked to whom, in order (empty for unanswered calls). */
  readonly segments: readonly CdrSegment[];
  /** Media of the last pairing when the call ended; null when it never had media. */
  readonly media: CdrMedia | null;
}

/** What a call hands the store; segments default to none, reason to '', media to null. */
export type CdrInput = Omit<Cdr, 'id' | 'segments' | 'reason' | 'media'> & {
  segments?: readonly CdrSegment[];
  reason?: string;
  media?: CdrMedia | null;
};

export const CALL_DIRECTIONS: readonly CallDirection[] = ['internal', 'inbound', 'outbound'];
export const CALL_DISPOSITIONS: readonly CallDisposition[] = ['answered', 'no-answer', 'busy', 'cancelled', 'rejected', 'failed'];

export interface CdrQuery {
  /** Calls where this extension was caller or callee. */
  extension?: string;
  /** With extension: 'placed' (caller), 'received' (callee, answered), 'missed' (callee, not answered). */
  kind?: 'placed' | 'received' | 'missed';
  /** Epoch ms, inclusive lower bound on startedAt. */
  since?: number;
  /** Epoch ms, exclusive upper bound on startedAt. */
  until?: number;
  direction?: CallDirection;
  disposition?: CallDisposition;
  /** Final SIP status the caller got. */
  status?: number;
  /** Trunk name. */
  trunk?: string;
  /** Part of the caller's or callee's number or the caller's name (case-insensitive). */
  search?: string;
  /** Keyset paging: only calls listed after this one (newest first), for exports that walk the whole log. */
  after?: { startedAt: number; id: number };
  offset?: number;
  /** 1..1000, default 100. */
  limit?: number;
}

export interface CdrRepository {
  /** Queued and written in the background (like registrations); never blocks the call path. */
  enqueue(cdr: CdrInput): void;
  /** Records waiting to be written. */
  readonly pending: number;
  /** Writes queued records now. */
  flush(): Promise<void>;
  /** Newest first. Flushes first. @throws StoreError invalid (a filter) */
  list(query?: CdrQuery): Promise<Cdr[]>;
  count(query?: CdrQuery): Promise<number>;
  /** One record by id. Flushes first. */
  get(id: number): Promise<Cdr | undefined>;
}

export interface HuntGroupRepository {
  /** @throws StoreError invalid | duplicate (number taken by a group) | conflict (a user extension or short code) | not-found (a member is no user) */
  add(input: HuntGroupInput): Promise<HuntGroup>;
  /** Members that stay keep their logged-in state; new ones start logged in. @throws StoreError */
  update(number: string, patch: HuntGroupPatch): Promise<HuntGroup>;
  /** @throws StoreError not-found */
  remove(number: string): Promise<HuntGroup>;
  get(number: string): Promise<HuntGroup | undefined>;
  /** Ordered by number, shortest first. */
  list(): Promise<HuntGroup[]>;
  /** Short codes *45*G# / *46*G#. @throws StoreError not-found (group, or extension not a member) */
  setMemberLoggedIn(number: string, extension: string, loggedIn: boolean): Promise<HuntGroup>;
  /** Rotary: remembers the member that rang last. Does not move revision(). No-op for an unknown group. */
  setLastMember(number: string, extension: string | null): Promise<void>;
  /** Moves with every change of a group or its members (not setLastMember), by any process on the database. */
  revision(): Promise<number>;
  /** Calls listener after revision() moved, by any process or node. */
  watch(listener: () => void | Promise<void>, opts?: WatchOptions): ChangeWatcher;
}

export interface ShortCodeRepository {
  /** In table order (the order matching tries them). A new array after every change. */
  list(): Promise<ShortCode[]>;
  get(code: string): Promise<ShortCode | undefined>;
  /** @throws StoreError invalid | duplicate | conflict (matches a user extension or hunt group number) */
  add(input: ShortCodeInput): Promise<ShortCode>;
  /** @throws StoreError not-found | invalid | duplicate | conflict */
  update(code: string, patch: ShortCodePatch): Promise<ShortCode>;
  /** Adds the code, or changes the one with that pattern. @throws StoreError */
  set(input: ShortCodeInput): Promise<ShortCode>;
  /** @throws StoreError not-found */
  remove(code: string): Promise<ShortCode>;
  /** The first code matching the dialled string, from a table compiled once per change. */
  match(dialled: string): Promise<ShortCodeMatch | undefined>;
  /** Moves with every change, by any process on the database. */
  revision(): Promise<number>;
  /** Calls listener after revision() moved, by any process or node. */
  watch(listener: () => void | Promise<void>, opts?: WatchOptions): ChangeWatcher;
}

export type VoicemailFolder = 'new' | 'saved';
export const VOICEMAIL_FOLDERS: readonly VoicemailFolder[] = ['new', 'saved'];
/** One message of a mailbox (the mailbox is the user's extension); bytes is the size of its WAV. */
export interface VoicemailMessage { id: string; mailbox: string; caller: string; callerName: string; receivedAt: number; durationMs: number; folder: VoicemailFolder; bytes: number }
export interface VoicemailCounts { new: number; saved: number }

/**
 * Mailboxes (src/store/sqlite/voicemail.ts): each message's WAV is stored in
 * the database with its metadata, in one transaction, so a message is never
 * half-stored, every node sharing the database sees it, and a backup carries
 * it. A mailbox goes with its user: removing the user removes its messages
 * and greeting, renumbering moves them.
 */
export interface VoicemailRepository {
  /** Stores a message (wav: a complete WAV file); resolves once durable (committed). @throws StoreError not-found (no such user) */
  deposit(mailbox: string, meta: { caller: string; callerName: string; receivedAt: number; durationMs: number }, wav: Buffer): Promise<VoicemailMessage>;
  /** Oldest first. */
  list(mailbox: string, folder?: VoicemailFolder): Promise<VoicemailMessage[]>;
  get(mailbox: string, id: string): Promise<VoicemailMessage | undefined>;
  /** The WAV. */
  audio(mailbox: string, id: string): Promise<Buffer | undefined>;
  /** False when there is no such message. */
  setFolder(mailbox: string, id: string, folder: VoicemailFolder): Promise<boolean>;
  remove(mailbox: string, id: string): Promise<boolean>;
  counts(mailbox: string): Promise<VoicemailCounts>;
  /** Every mailbox with messages, for status/metrics: mailbox -> counts. */
  allCounts(): Promise<Map<string, VoicemailCounts>>;
  /** null removes the greeting (the default one plays). @throws StoreError not-found (no such user) */
  setGreeting(mailbox: string, wav: Buffer | null): Promise<void>;
  greeting(mailbox: string): Promise<Buffer | undefined>;
  /**
   * Mailboxes whose messages changed (deposit, folder, removal, the user's
   * removal or renumbering), by this process or any other sharing the
   * database, this one's own writes included (the MWI of every worker
   * follows it). A hint: the consumer re-reads counts().
   */
  watch(listener: (mailboxes: readonly string[]) => void | Promise<void>, opts?: WatchOptions): ChangeWatcher;
}

export interface Store extends AppStore {
  users: UserRepository;
  /** Mailboxes: voicemail messages and greetings. */
  voicemail: VoicemailRepository;
  registrations: RegistrationRepository;
  trunks: TrunkRepository;
  huntGroups: HuntGroupRepository;
  /** Phones and DECT bases the provisioning server writes files for (device-types.ts). */
  devices: DeviceRepository;
  /** The handset gateway: settings, upstream proxies, lines, upstream MWI (gateway-types.ts). */
  gateway: GatewayRepository;
  shortCodes: ShortCodeRepository;
  cdrs: CdrRepository;
  /** Administrator accounts, sessions, audit log and settings overrides (admin-types.ts). */
  admin: AdminStore;
  /**
   * Runs fn against a view of the store whose writes are all rolled back at
   * the end (import dry runs): fn sees its own writes, uniqueness checks
   * included, and nothing reaches the database.
   */
  rehearse<T>(fn: (store: Store) => Promise<T>): Promise<T>;
  /**
   * Long runs of writes (a big import) in short transactions: fn gets batch,
   * and each batch(work) runs work against a view of the store inside one
   * transaction, committed when work resolves, rolled back when it throws.
   * Between batches other writers get their turn. SQLite: work must not wait
   * for I/O or timers (its writes are synchronous; while a batch is open the
   * write lock is held by this thread).
   */
  inBatches<T>(fn: (batch: <R>(work: (store: Store) => Promise<R>) => Promise<R>) => Promise<T>): Promise<T>;
  /** Why the database cannot take writes now (for the health check), or undefined. Never waits. */
  problem(): string | undefined;
  /**
   * Flushes pending writes and closes the database. @throws StoreWriteError
   * naming what could not be written (the database is closed all the same)
   */
  close(): Promise<void>;
}

export interface StoreOptions {
  /** Clock for createdAt/updatedAt (epoch ms). */
  now?: () => number;
  /** Write-behind period, default 20 ms. */
  flushIntervalMs?: number;
  /** Queue size that forces a flush, default 2,000. */
  maxQueue?: number;
  /** Change-log entries kept, default 10,000 (older ones are trimmed). */
  changeLogKeep?: number;
  /**
   * Where background write failures go (once when an outage starts, then once
   * a minute while it lasts; see write-health.ts) and entries dropped for bad
   * data; default process.emitWarning.
   */
  onError?: (err: Error) => void;
  /** The first write that went through after an outage. */
  onWriteRecovered?: (what: string, failedForMs: number) => void;
  /** Numbers no IVR menu or conference room may take (the voicemail number); default ['8000']. */
  reservedNumbers?: () => readonly string[];
}
