// What the REST API and the status feed send, as this page reads it. Resource
// types come from the models in src/model (type-only imports: nothing of the
// server is bundled); the rest are shapes not yet given a model there.
import type { UserMediaSettings, UserView } from '../../src/model/user.ts';

export interface Session {
  name: string;
  roles: string[];
  csrfToken: string;
  mustChangePassword: boolean;
  idleMinutes: number;
}

export type UserMedia = UserMediaSettings;
export type MediaSecurity = NonNullable<UserMedia['security']>;

export type User = UserView;

export interface Page<T> {
  total: number;
  offset: number;
  limit: number;
  items: T[];
}

export interface UserActivity {
  extension: string;
  registered: boolean;
  userAgent: string | null;
  address: string | null;
  transport: string | null;
  state: ExtensionState;
  registeredUntil: number | null;
  lastCallAt: number | null;
}

export interface Trunk {
  id: number;
  name: string;
  host: string;
  port: number;
  transport: 'udp' | 'tcp' | 'tls';
  registerUser: string | null;
  hasRegisterPassword: boolean;
  outboundProxy: string | null;
  prefix: string;
  strip: number;
  addPrefix: string;
  enabled: boolean;
}

export interface Did {
  number: string;
  extension: string;
  createdAt: number;
}

export type SystemMedia = Required<UserMedia>;

export interface SettingsView {
  sip: { domain: string; udp: string; tcp: string; tls: string };
  registrar: { minExpiresSec: number; maxExpiresSec: number; defaultExpiresSec: number };
  media: SystemMedia;
}

export interface SettingsResponse {
  settings: SettingsView;
  running: SettingsView;
  overrides: Record<string, unknown>;
  pinned: string[];
  /** Per dotted key: next-start settings wait for a restart, next-call ones apply on the running server. */
  keys: Record<string, { appliesAt: 'next-start' | 'next-call'; restartRequired: boolean }>;
  restartRequired: boolean;
}

export interface PasswordPolicy {
  minLength: number;
  requireClasses: number;
  maxAgeDays: number;
}

export interface ImportReport {
  dryRun: boolean;
  summary: { add: number; update: number; error: number };
  rows: {
    row: number;
    extension: string;
    action: 'add' | 'update' | 'error';
    error?: string;
    /** Update: the fields it changes (media keys as media.KEY). */
    changes?: string[];
    /** The user's own media settings after the row; a key left out follows the system. */
    media?: UserMedia;
  }[];
}

// --- live status ------------------------------------------------------------

export type ExtensionState = 'idle' | 'ringing' | 'connected';

export interface ContactStatus {
  contact: string;
  transport: string;
  address: string;
  port: number;
  userAgent: string | null;
  expiresAt: number;
}

export interface ExtensionStatus {
  extension: string;
  name: string;
  registered: boolean;
  contacts: ContactStatus[];
  state: ExtensionState;
  calls: number;
  /** "SRTP", "SRTP/RTP" or "RTP" (newer servers). */
  mediaStream?: string;
}

export interface CallStatus {
  ref: string;
  state: string;
  direction: string;
  caller: string;
  callerName: string;
  callee: string;
  calleeExtension: string | null;
  trunk: string | null;
  startedAt: number;
  answeredAt: number | null;
  durationSec: number;
  codec: string | null;
  held: boolean;
  connectionType: string;
}

export interface TrunkStatus {
  trunk: string;
  state: string;
  lastStatus: number;
  expiresAt?: number;
  reason: string;
}

export type AlarmSeverity = 'critical' | 'major' | 'minor' | 'warning';

export interface Alarm {
  id: string;
  kind: string;
  severity: AlarmSeverity;
  text: string;
  source?: string;
  since: number;
  lastAt: number;
  count: number;
}

export interface StatusSnapshot {
  at: number;
  extensions: ExtensionStatus[];
  calls: CallStatus[];
  trunks: TrunkStatus[];
}

export type FeedMessage =
  | { type: 'snapshot'; status: StatusSnapshot; alarms: Alarm[] }
  | { type: 'extension'; extension: ExtensionStatus }
  | { type: 'call'; call: CallStatus; ended: boolean }
  | { type: 'alarm'; event: 'raised' | 'updated' | 'cleared'; alarm: Alarm };
