// What both engines share for the handset gateway (gateway-types.ts): the
// SQL they agree on, rows to views, and the rules (settings merged and
// re-validated, at most MAX_PROXIES with unique URIs, the capacity profile's
// handset limit, one handset per IPEI, a password kept unless given).
import {
  GATEWAY_PROFILES, MAX_PROXIES, gatewaySettingsPatchSchema, gatewaySettingsSchema, handsetInfoSchema, lineInputSchema,
  linePatchSchema, proxySchema,
  type GatewayProfile, type GatewaySettings, type GatewaySettingsPatch, type HandsetInfo, type LineInput, type LinePatch,
  type LineView, type ProxyInput, type ProxyView,
} from '../model/gateway.ts';
import { CONTROL_RE } from '../model/common.ts';
import { StoreError } from './errors.ts';
import type { LineWithSecret, UpstreamMwi } from './gateway-types.ts';
import { parseModel } from './model-parse.ts';

export interface LineRow {
  user_id: number;
  extension: string;
  upstream_user: string;
  upstream_domain: string;
  auth_user: string;
  password: string;
  display_name: string;
  ipei: string | null;
  access_code: string;
  standby_text: string;
  disabled: number;
  handset: string;
  created_at: number;
  updated_at: number;
  /** The user's name (joined). */
  user_name: string;
}

export interface ProxyRow {
  id: number;
  uri: string;
  priority: number;
  weight: number;
}

export interface MwiRow {
  extension: string;
  waiting: number;
  new_messages: number;
  old_messages: number;
  at: number;
}

/** SQL both dialects run as written (PgDb takes `?` placeholders). */
export const GW_SQL = {
  settings: 'SELECT value FROM gateway_settings WHERE id = 1',
  saveSettings: 'UPDATE gateway_settings SET value = ? WHERE id = 1',
  proxies: 'SELECT id, uri, priority, weight FROM gateway_proxies ORDER BY priority, id',
  proxyById: 'SELECT id, uri, priority, weight FROM gateway_proxies WHERE id = ?',
  addProxy: 'INSERT INTO gateway_proxies (uri, priority, weight, created_at) VALUES (?, ?, ?, ?) RETURNING id, uri, priority, weight',
  removeProxy: 'DELETE FROM gateway_proxies WHERE id = ?',
  lines: 'SELECT l.*, u.extension, u.name AS user_name FROM gateway_lines l JOIN users u ON u.id = l.user_id ORDER BY length(u.extension), u.extension',
  line: 'SELECT l.*, u.extension, u.name AS user_name FROM gateway_lines l JOIN users u ON u.id = l.user_id WHERE u.extension = ?',
  lineCount: 'SELECT COUNT(*) AS n FROM gateway_lines',
  userId: 'SELECT id FROM users WHERE extension = ?',
  ipeiHolder: 'SELECT u.extension FROM gateway_lines l JOIN users u ON u.id = l.user_id WHERE l.ipei = ? AND l.user_id <> ?',
  insertLine: `INSERT INTO gateway_lines (user_id, upstream_user, upstream_domain, auth_user, password, display_name, ipei,
    access_code, standby_text, disabled, handset, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  updateLine: `UPDATE gateway_lines SET upstream_user = ?, upstream_domain = ?, auth_user = ?, password = ?, display_name = ?,
    ipei = ?, access_code = ?, standby_text = ?, disabled = ?, updated_at = ? WHERE user_id = ?`,
  removeLine: 'DELETE FROM gateway_lines WHERE user_id = ?',
  handset: 'UPDATE gateway_lines SET handset = ? WHERE user_id = ?',
  mwi: 'SELECT u.extension, m.waiting, m.new_messages, m.old_messages, m.at FROM gateway_mwi m JOIN users u ON u.id = m.user_id WHERE u.extension = ?',
  mwiSince: 'SELECT u.extension FROM gateway_mwi m JOIN users u ON u.id = m.user_id WHERE m.rev > ? ORDER BY u.extension',
  bumpMwi: "UPDATE revisions SET revision = revision + 1 WHERE name = 'gateway_mwi'",
  setMwi: `INSERT INTO gateway_mwi (user_id, waiting, new_messages, old_messages, at, rev)
    VALUES (?, ?, ?, ?, ?, (SELECT revision FROM revisions WHERE name = 'gateway_mwi'))
    ON CONFLICT (user_id) DO UPDATE SET waiting = excluded.waiting, new_messages = excluded.new_messages,
    old_messages = excluded.old_messages, at = excluded.at, rev = excluded.rev`,
  removeMwi: 'DELETE FROM gateway_mwi WHERE user_id = ?',
  revisions: "SELECT name, revision FROM revisions WHERE name IN ('gateway', 'gateway_mwi')",
} as const;

// --- settings -------------------------------------------------------------------

/**
 * The stored record holds only the keys an administrator set (so a default
 * changed by a later release reaches everyone who kept it); the settings are
 * that record over the defaults.
 */
export function settingsOf(stored: string | undefined): GatewaySettings {
  return gatewaySettingsSchema.parse(JSON.parse(stored ?? '{}'));
}

/** The record to store after a patch, and the settings it gives. @throws StoreError invalid */
export function patchedSettings(stored: string | undefined, patch: GatewaySettingsPatch): { record: string; settings: GatewaySettings } {
  parseModel(gatewaySettingsPatchSchema, patch);
  const explicit: Record<string, unknown> = JSON.parse(stored ?? '{}');
  for (const [k, v] of Object.entries(patch)) if (v !== undefined) explicit[k] = v;
  const settings = parseModel(gatewaySettingsSchema, explicit);
  const record = Object.fromEntries(Object.keys(explicit).map((k) => [k, settings[k as keyof GatewaySettings]]));
  return { record: JSON.stringify(record), settings };
}

function capacityError(profile: GatewayProfile, lines: number, field: string, doing: string): StoreError {
  const limit = GATEWAY_PROFILES[profile].handsets;
  return new StoreError('invalid', field,
    `${field}: the capacity profile ${profile} allows ${limit} gateway users (lines) and ${lines} exist; ${doing}`);
}

/** Lowering the profile below the lines there are is refused. @throws StoreError invalid (profile) */
export function checkProfileFits(settings: GatewaySettings, lines: number): void {
  if (lines > GATEWAY_PROFILES[settings.profile].handsets) {
    throw capacityError(settings.profile, lines, 'profile', 'remove lines before choosing it');
  }
}

/** A new line must fit the profile. @throws StoreError invalid (profile) */
export function checkLineFits(settings: GatewaySettings, lines: number): void {
  if (lines >= GATEWAY_PROFILES[settings.profile].handsets) {
    throw capacityError(settings.profile, lines, 'profile', 'choose a larger profile or remove a line');
  }
}

// --- proxies --------------------------------------------------------------------

export function toProxy(r: ProxyRow): ProxyView {
  return { id: r.id, uri: r.uri, priority: r.priority, weight: r.weight };
}

/** Validated, and checked against the proxies there are. @throws StoreError invalid */
export function newProxy(input: ProxyInput, existing: readonly ProxyView[]): { uri: string; priority: number; weight: number } {
  const p = parseModel(proxySchema, input);
  if (existing.length >= MAX_PROXIES) {
    throw new StoreError('invalid', 'uri', `uri: at most ${MAX_PROXIES} proxies; remove one first`);
  }
  const key = p.uri.toLowerCase();
  if (existing.some((x) => x.uri.toLowerCase() === key)) throw new StoreError('invalid', 'uri', `uri: ${p.uri} is already a proxy`);
  return p;
}

/** The proxy named by id (a number or a string of digits) or by URI. @throws StoreError not-found */
export function findProxy(proxies: readonly ProxyView[], idOrUri: number | string): ProxyView {
  const id = typeof idOrUri === 'number' ? idOrUri : /^\d{1,15}$/.test(idOrUri) ? Number(idOrUri) : undefined;
  const key = String(idOrUri).toLowerCase();
  const p = proxies.find((x) => (id !== undefined ? x.id === id : x.uri.toLowerCase() === key));
  if (!p) throw new StoreError('not-found', 'proxy', `no proxy ${String(idOrUri)}`);
  return p;
}

// --- lines ----------------------------------------------------------------------

export function toLine(r: LineRow): LineView {
  return {
    extension: r.extension,
    userId: r.user_id,
    upstreamUser: r.upstream_user,
    upstreamDomain: r.upstream_domain,
    authUser: r.auth_user,
    hasPassword: r.password !== '',
    displayName: r.display_name,
    ipei: r.ipei,
    accessCode: r.access_code,
    standbyText: r.standby_text,
    disabled: r.disabled !== 0,
    handset: handsetOf(r.handset),
    userName: r.user_name,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function toLineWithSecret(r: LineRow): LineWithSecret {
  return { ...toLine(r), password: r.password };
}

function handsetOf(json: string): HandsetInfo {
  const r = handsetInfoSchema.safeParse(JSON.parse(json || '{}'));
  return r.success ? r.data : handsetInfoSchema.parse({});
}

/** What a handset reported, merged into what it reported before: cut to size, control characters dropped (hostile input). */
export function mergedHandset(json: string, info: Partial<HandsetInfo>): string {
  const cur = handsetOf(json);
  const next: Record<string, string> = { ...cur };
  for (const key of ['model', 'firmware', 'baseStation'] as const) {
    const v = info[key];
    if (typeof v === 'string') next[key] = v.replace(new RegExp(CONTROL_RE.source, 'g'), '').slice(0, 64);
  }
  return JSON.stringify(next);
}

export function lineNotFound(extension: string): StoreError {
  return new StoreError('not-found', 'extension', `extension: no gateway line for ${String(extension)}`);
}

export function noUser(extension: string): StoreError {
  return new StoreError('not-found', 'extension', `extension: no user with extension ${String(extension)}`);
}

export function ipeiTaken(ipei: string, holder: string): StoreError {
  return new StoreError('duplicate', 'ipei', `ipei: ${ipei} is already the handset of ${holder}`);
}

/** A line's columns in the order of GW_SQL.updateLine (upstream_user .. disabled). */
function lineValues(l: ReturnType<typeof lineInputSchema.parse>) {
  return [l.upstreamUser, l.upstreamDomain, l.authUser, l.password, l.displayName, l.ipei, l.accessCode,
    l.standbyText, l.disabled ? 1 : 0] as const;
}

/**
 * setLine's input validated. A password left out keeps the stored one (a
 * form that does not show the secret can resend the rest); '' clears it.
 * @throws StoreError invalid
 */
export function lineFromInput(input: LineInput, current: LineRow | undefined) {
  const l = parseModel(lineInputSchema, input);
  if (input.password === undefined && current) l.password = current.password;
  return { extension: l.extension, ipei: l.ipei, values: lineValues(l) };
}

/** updateLine's patch over the current line. @throws StoreError invalid */
export function lineFromPatch(current: LineRow, patch: LinePatch) {
  parseModel(linePatchSchema, patch);
  const merged = {
    extension: current.extension, upstreamUser: current.upstream_user, upstreamDomain: current.upstream_domain,
    authUser: current.auth_user, password: current.password, displayName: current.display_name, ipei: current.ipei,
    accessCode: current.access_code, standbyText: current.standby_text, disabled: current.disabled !== 0,
  };
  for (const [k, v] of Object.entries(patch)) if (v !== undefined) (merged as Record<string, unknown>)[k] = v;
  return lineFromInput(merged, current);
}

export function toMwi(r: MwiRow): UpstreamMwi {
  return { waiting: r.waiting !== 0, newMessages: r.new_messages, oldMessages: r.old_messages, at: r.at };
}

/** Counts as the RFC 3842 summary may carry them: non-negative integers, capped. */
export function mwiValues(mwi: UpstreamMwi): [number, number, number, number] {
  const count = (n: number) => (Number.isFinite(n) && n > 0 ? Math.min(Math.floor(n), 1_000_000) : 0);
  return [mwi.waiting ? 1 : 0, count(mwi.newMessages), count(mwi.oldMessages), Math.floor(mwi.at) || 0];
}

/** Revision rows to the pair the watcher compares. */
export function revisionPair(rows: readonly { name: string; revision: number }[]): { config: number; mwi: number } {
  const of = (n: string) => rows.find((r) => r.name === n)?.revision ?? 0;
  return { config: of('gateway'), mwi: of('gateway_mwi') };
}
