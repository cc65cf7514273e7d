// Repository interfaces for the management side: administrator accounts, their
// web sessions, the audit log and settings overrides. Like types.ts they name
// no SQL dialect; SQLite and PostgreSQL implement them, asynchronously.

/**
 * admin: configuration (users, trunks, settings), not accounts or audit.
 * security-admin: administrator accounts, password policy, audit log; reads everything else.
 * operator: reads only.
 */
export type AdminRole = 'admin' | 'security-admin' | 'operator';
export const ADMIN_ROLES: readonly AdminRole[] = ['admin', 'security-admin', 'operator'];

export interface AdminAccount {
  readonly id: number;
  /** Login name; unique ignoring ASCII case. */
  readonly name: string;
  /** One or more roles; the first account holds admin and security-admin so a fresh install is usable. */
  readonly roles: readonly AdminRole[];
  /** Self-describing scrypt hash (see src/security/admin-auth.ts); never the password. */
  readonly passwordHash: string;
  /** Set for generated one-time passwords: every call but the password change is refused until then. */
  readonly mustChangePassword: boolean;
  /** Epoch ms of the last password change, for password expiry and for lifting a lockout. */
  readonly passwordChangedAt: number;
  readonly enabled: boolean;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface AdminAccountInput {
  name: string;
  roles: readonly AdminRole[];
  passwordHash: string;
  mustChangePassword?: boolean;
  enabled?: boolean;
}

export interface AdminAccountPatch {
  name?: string;
  roles?: readonly AdminRole[];
  /** Setting a hash also moves passwordChangedAt to now. */
  passwordHash?: string;
  mustChangePassword?: boolean;
  enabled?: boolean;
}

export interface AdminAccountRepository {
  /** @throws StoreError duplicate | invalid */
  add(input: AdminAccountInput): Promise<AdminAccount>;
  /** @throws StoreError not-found | duplicate | invalid */
  update(name: string, patch: AdminAccountPatch): Promise<AdminAccount>;
  /** Also ends the account's sessions. @throws StoreError not-found */
  remove(name: string): Promise<AdminAccount>;
  /** Case-insensitive. */
  get(name: string): Promise<AdminAccount | undefined>;
  getById(id: number): Promise<AdminAccount | undefined>;
  /** Ordered by name. */
  list(): Promise<AdminAccount[]>;
  count(): Promise<number>;
}

export interface AdminSession {
  /** SHA-256 of the cookie value: a copy of the database does not hand out live sessions. */
  readonly idHash: string;
  readonly adminId: number;
  readonly csrfToken: string;
  readonly sourceIp: string;
  readonly createdAt: number;
  readonly lastSeenAt: number;
}

export interface AdminSessionRepository {
  create(session: AdminSession): Promise<void>;
  get(idHash: string): Promise<AdminSession | undefined>;
  touch(idHash: string, at: number): Promise<void>;
  remove(idHash: string): Promise<void>;
  /** Ends every session of one account; returns how many. */
  removeForAdmin(adminId: number): Promise<number>;
  /** Deletes sessions last seen before `before`, except those in keep (being watched); returns how many. */
  removeIdle(before: number, keep?: readonly string[]): Promise<number>;
}

export interface AuditEntry {
  readonly id: number;
  /** Epoch ms. */
  readonly at: number;
  /** Account name that acted ('-' when none, e.g. the command line). */
  readonly actor: string;
  readonly sourceIp: string | null;
  /** What was done, e.g. "POST /api/users" or "login". */
  readonly action: string;
  /** The object, e.g. "user:1001", "trunk:itsp", "settings". */
  readonly target: string;
  /** JSON values with secrets already replaced by "***"; null when none. */
  readonly before: unknown;
  readonly after: unknown;
}

export type AuditInput = Omit<AuditEntry, 'id'>;

export interface AuditQuery {
  offset?: number;
  /** 1..1000, default 100. */
  limit?: number;
  actor?: string;
  /** Substring of the target. */
  target?: string;
  /** Epoch ms, inclusive. */
  since?: number;
  /** Epoch ms, exclusive. */
  until?: number;
  /** Substring of the action (e.g. "DELETE", "login"). */
  action?: string;
}

export interface AuditRepository {
  append(entry: AuditInput): Promise<AuditEntry>;
  /** Newest first. */
  list(query?: AuditQuery): Promise<AuditEntry[]>;
  count(query?: AuditQuery): Promise<number>;
  /** Deletes all but the newest `keep` entries (at most `keep` remain); returns how many went. */
  trim(keep: number): Promise<number>;
}

/** Settings changed through the API, by dotted key ("sip.domain"), as JSON values. */
export interface SettingsRepository {
  getAll(): Promise<Record<string, unknown>>;
  get(key: string): Promise<unknown>;
  /** Writes all entries in one transaction; an undefined or null value removes the key. */
  set(entries: Record<string, unknown>): Promise<void>;
}

/**
 * Whose trusted addresses: 'admin' = an administrator account (subject: its
 * name in lower case) that logged in from there; 'sip' = a SIP user (subject:
 * its authentication name) that authenticated from there. Lockouts never
 * close an account to such an address (src/security/).
 */
export type TrustKind = 'admin' | 'sip';
export const TRUST_KINDS: readonly TrustKind[] = ['admin', 'sip'];

/** At most this many addresses are kept per subject; the longest unseen go first. */
export const TRUSTED_SOURCES_PER_SUBJECT = 16;

export interface TrustedSource {
  readonly kind: TrustKind;
  readonly subject: string;
  readonly address: string;
  /** Epoch ms. */
  readonly firstSeenAt: number;
  readonly lastSeenAt: number;
}

export interface TrustedSourceSighting {
  kind: TrustKind;
  subject: string;
  address: string;
  at: number;
}

export interface TrustedSourceRepository {
  /**
   * Adds or refreshes sightings in one transaction, then keeps only the
   * TRUSTED_SOURCES_PER_SUBJECT most recently seen addresses of each subject.
   */
  record(sightings: readonly TrustedSourceSighting[]): Promise<void>;
  /** Does `address` count for this subject (seen at or after `since`)? */
  has(kind: TrustKind, subject: string, address: string, since: number): Promise<boolean>;
  /** The subject's addresses seen at or after `since`, most recent first. */
  list(kind: TrustKind, subject: string, since: number): Promise<TrustedSource[]>;
  /** The subjects that have `address` (seen at or after `since`), at most `limit`, most recent first. */
  subjectsAt(kind: TrustKind, address: string, since: number, limit: number): Promise<string[]>;
  /** Forgets one address of a subject, or (no address) all of them; returns how many went. */
  remove(kind: TrustKind, subject: string, address?: string): Promise<number>;
  /** Ages out addresses last seen before `before`; returns how many went. */
  prune(before: number): Promise<number>;
}

export interface AdminStore {
  accounts: AdminAccountRepository;
  sessions: AdminSessionRepository;
  audit: AuditRepository;
  settings: SettingsRepository;
  /** Addresses each admin account and SIP user authenticated from (lockout allow-lists). */
  trustedSources: TrustedSourceRepository;
}
