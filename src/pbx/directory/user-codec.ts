import type { User } from '../../store/types.ts';
import { USER_FEATURE_DEFAULTS } from '../../model/user-features.ts';

// One user as one short JSON string: the fields every user has, in a fixed
// order, then only those settings that differ from their defaults. A
// directory of a million users then holds a million strings of ~80 bytes
// rather than a million objects of ~1 KB with their strings, arrays and
// nested media object.

/** The settings most users leave alone; a user's record names only those it changed. */
const DEFAULTS: Readonly<Record<string, unknown>> = Object.freeze({
  ...USER_FEATURE_DEFAULTS,
  codecs: null,
  maxCalls: null,
  noAnswerTimeoutSec: null,
  media: Object.freeze({}),
  voicemail: true,
  mwi: 'subscribe',
});

/** Fields written in the fixed part of the record (the extension is the directory's key). */
const CORE = new Set(['id', 'extension', 'name', 'authUser', 'password', 'voicemailCode', 'enabled', 'callWaiting', 'outboundCalls', 'createdAt', 'updatedAt']);

const ENABLED = 1;
const CALL_WAITING = 2;
const OUTBOUND = 4;

/** Whether v is the default d: the same value, or both empty arrays, or both objects without keys. */
function isDefault(v: unknown, d: unknown): boolean {
  if (v === d) return true;
  if (Array.isArray(v)) return Array.isArray(d) && v.length === 0 && d.length === 0;
  if (v !== null && typeof v === 'object' && d !== null && typeof d === 'object' && !Array.isArray(d)) {
    for (const _ in v) return false;
    for (const _ in d) return false;
    return true;
  }
  return false;
}

/**
 * The record of u. authUser is written as 0 when it equals the
 * extension (its default), updatedAt as null when it equals createdAt (a
 * user never changed); a field no DEFAULTS entry knows is always kept.
 */
export function encodeUser(u: User): string {
  let extra: Record<string, unknown> | undefined;
  for (const key of Object.keys(u)) {
    if (CORE.has(key)) continue;
    const v = (u as unknown as Record<string, unknown>)[key];
    if (key in DEFAULTS && isDefault(v, DEFAULTS[key])) continue;
    (extra ??= {})[key] = v;
  }
  const flags = (u.enabled ? ENABLED : 0) | (u.callWaiting ? CALL_WAITING : 0) | (u.outboundCalls ? OUTBOUND : 0);
  const core: unknown[] = [
    u.id, u.name, u.authUser === u.extension ? 0 : u.authUser, u.password,
    u.voicemailCode, flags, u.createdAt, u.updatedAt === u.createdAt ? null : u.updatedAt,
  ];
  if (extra) core.push(extra);
  return JSON.stringify(core);
}

type Core = [number, string, string | 0, string, string | null, number, number, number | null, Record<string, unknown>?];

/** The few fields a list of every user shows, without building the user (a status list of 100,000 users). */
export function decodeSummary(record: string): { name: string; enabled: boolean } {
  const core = JSON.parse(record) as Core;
  return { name: core[1], enabled: (core[5] & ENABLED) !== 0 };
}

export function decodeUser(extension: string, record: string): User {
  const [id, name, authUser, password, voicemailCode, flags, createdAt, updatedAt, extra] = JSON.parse(record) as Core;
  return Object.freeze({
    ...DEFAULTS,
    ...extra,
    id,
    extension,
    name,
    authUser: authUser === 0 ? extension : authUser,
    password,
    voicemailCode,
    enabled: (flags & ENABLED) !== 0,
    callWaiting: (flags & CALL_WAITING) !== 0,
    outboundCalls: (flags & OUTBOUND) !== 0,
    createdAt,
    updatedAt: updatedAt ?? createdAt,
  }) as unknown as User;
}
