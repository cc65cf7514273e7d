// Reading the handset gateway's users file (gateway-users.ts) into gateway
// lines (issue 15, B-16, Appendix A #14): each record becomes the line of its
// local user (the extension column, else the username). A record without a
// password keeps the line's stored one; a new line without one starts
// disabled and is reported, unless the gateway is a trusted server (D-06: no
// digest credentials). callForward is the local user's unconditional forward
// (B.1 "Call forward unconditional"; empty = none; left out = unchanged).
// DECT-to-DECT (an internal-only user without a SIP account) and admin rights
// (meaning not given, B.1) have nothing to map to here: a file setting them
// gets one warning per column, not silence. A dry run does it all on a
// rehearsal of the store, so its errors are the real ones and nothing is kept.
import { isStoreError } from '../store/errors.ts';
import type { Store } from '../store/types.ts';
import { parseGatewayUsers, type GatewayUser } from './gateway-users.ts';

export interface GatewayLineImportRow {
  /** CSV record number (header = 1) or JSON position (first user = 1). */
  row: number;
  extension: string;
  action: 'added' | 'updated' | 'error';
  error?: string;
  /** No password in the file: the stored one stays. */
  passwordKept?: boolean;
  /** A new line without a password: stored disabled until one is set. */
  needsPassword?: boolean;
}

export interface GatewayLineImportResult {
  dryRun: boolean;
  rows: GatewayLineImportRow[];
  /** About the file as a whole: columns set in it that Switchboard does not hold (one sentence per column). */
  warnings: string[];
  added: number;
  updated: number;
  errors: number;
}

async function importOne(store: Store, u: GatewayUser, trusted: boolean): Promise<Omit<GatewayLineImportRow, 'row'>> {
  const extension = u.extension || u.username;
  const current = await store.gateway.getLine(extension);
  const keep = u.authPassword === null && current?.hasPassword === true;
  const needsPassword = u.authPassword === null && !keep && !trusted;
  await store.gateway.setLine({
    extension, upstreamUser: u.username, upstreamDomain: u.domain, authUser: u.authUser, displayName: u.displayName,
    ipei: u.ipei === '' ? null : u.ipei, accessCode: u.accessCode, standbyText: u.standbyText,
    disabled: u.disabled || needsPassword,
    // Left out, setLine keeps the stored password.
    ...(u.authPassword === null ? {} : { password: u.authPassword }),
  });
  if (u.callForward !== null) {
    const forward = u.callForward === '' ? null : u.callForward;
    const user = await store.users.getByExtension(extension);
    if (user && user.forwardUnconditional !== forward) await store.users.update(extension, { forwardUnconditional: forward });
  }
  return {
    extension, action: current ? 'updated' : 'added',
    ...(keep ? { passwordKept: true } : {}), ...(needsPassword ? { needsPassword: true } : {}),
  };
}

/** Flags of the file with no Switchboard field, and why. */
const NOT_HELD = [
  ['dectToDect', 'Switchboard has no DECT-to-DECT (internal-only, no SIP account) user: a gateway user here always has its line'],
  ['adminRights', 'Switchboard has no handset admin rights (the source product does not say what they allow)'],
] as const;

/** One warning per flag column the file sets on any record, naming the records. */
function notHeldWarnings(users: readonly GatewayUser[]): string[] {
  const out: string[] = [];
  for (const [flag, why] of NOT_HELD) {
    const set = users.filter((u) => u[flag]).map((u) => u.extension || u.username);
    if (set.length === 0) continue;
    const named = set.length > 10 ? `${set.slice(0, 10).join(', ')} and ${set.length - 10} more` : set.join(', ');
    out.push(`${flag} is set for ${set.length} record(s) (${named}) and was not imported: ${why}`);
  }
  return out;
}

async function importAll(store: Store, text: string): Promise<{ rows: GatewayLineImportRow[]; warnings: string[] }> {
  const file = parseGatewayUsers(text);
  const trusted = (await store.gateway.settings()).trustedServer;
  const rows: GatewayLineImportRow[] = file.errors.map((e) => ({ row: e.row, extension: e.username, action: 'error', error: e.message }));
  // parseGatewayUsers keeps the file's order; its rows are numbered alike.
  const rowOf = rowNumbers(file.users.length, file.errors.map((e) => e.row), /^\ufeff?\s*[[{]/.test(text));
  for (const [i, u] of file.users.entries()) {
    try {
      rows.push({ row: rowOf[i]!, ...await importOne(store, u, trusted) });
    } catch (err) {
      if (!isStoreError(err)) throw err;
      rows.push({ row: rowOf[i]!, extension: u.extension || u.username, action: 'error', error: err.message });
    }
  }
  return { rows: rows.sort((a, b) => a.row - b.row), warnings: notHeldWarnings(file.users) };
}

/** The row numbers of the good records: every row in order, less the bad ones. */
function rowNumbers(good: number, bad: readonly number[], json: boolean): number[] {
  const skip = new Set(bad);
  const out: number[] = [];
  for (let row = json ? 1 : 2; out.length < good; row++) if (!skip.has(row)) out.push(row);
  return out;
}

/**
 * Imports the file's records as lines. @throws GatewayUsersError when the
 * file as a whole is unusable (nothing is written then)
 */
export async function importGatewayLines(store: Store, text: string, opts: { dryRun?: boolean } = {}): Promise<GatewayLineImportResult> {
  const dryRun = opts.dryRun === true;
  const { rows, warnings } = dryRun ? await store.rehearse((s) => importAll(s, text)) : await importAll(store, text);
  const count = (a: GatewayLineImportRow['action']) => rows.filter((r) => r.action === a).length;
  return { dryRun, rows, warnings, added: count('added'), updated: count('updated'), errors: count('error') };
}
