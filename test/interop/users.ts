// Test users and the files that carry them to each program: Switchboard's
// import CSV, SIPp's injection CSV. One list feeds both, so a test cannot
// drift into registering users the server never had.

export interface TestUser {
  ext: string;
  password: string;
  name?: string;
  /** Digest username when it differs from the extension. */
  authUser?: string;
}

/**
 * A password derived from the extension (reproducible) that passes the
 * default SIP password rules (src/model/user-rules.ts): the digits spelt as
 * letters, so it does not contain the extension itself.
 */
export function passwordOf(ext: string, prefix = 'pw'): string {
  return `${prefix}-${[...ext].map((c) => (/[0-9]/.test(c) ? 'abcdefghij'[Number(c)] : c)).join('')}-x`;
}

/**
 * n users with consecutive extensions from `first`, each with its own
 * password (derived from the extension, so failures are reproducible).
 */
export function makeUsers(n: number, first = 20000, passwordPrefix = 'pw'): TestUser[] {
  const users: TestUser[] = [];
  for (let i = 0; i < n; i++) {
    const ext = String(first + i);
    users.push({ ext, password: passwordOf(ext, passwordPrefix), name: `User ${ext}` });
  }
  return users;
}

function csvField(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** `switchboard user import` format: header row, then extension,name,password. */
export function switchboardUsersCsv(users: readonly TestUser[]): string {
  const lines = ['extension,name,password'];
  for (const u of users) lines.push([u.ext, u.name ?? '', u.password].map(csvField).join(','));
  return `${lines.join('\n')}\n`;
}

export interface SippCsvOptions {
  /** Overrides each user's password (wrong-password scenarios). */
  password?: (u: TestUser) => string;
  order?: 'SEQUENTIAL' | 'RANDOM' | 'USER';
}

/**
 * SIPp injection file: field0 = user, field1 = the whole `[authentication]`
 * keyword (SIPp 3.6 cannot expand [fieldN] inside it), field2 = domain.
 * SIPp splits on ';' with no quoting, so ';' in a password is refused.
 */
export function sippUsersCsv(users: readonly TestUser[], domain: string, opts: SippCsvOptions = {}): string {
  const lines: string[] = [opts.order ?? 'SEQUENTIAL'];
  for (const u of users) {
    const authUser = u.authUser ?? u.ext;
    const password = opts.password?.(u) ?? u.password;
    for (const v of [u.ext, authUser, password, domain]) {
      if (/[;\s\]]/.test(v)) throw new Error(`sippUsersCsv: value unusable in a SIPp CSV: ${JSON.stringify(v)}`);
    }
    lines.push(`${u.ext};[authentication username=${authUser} password=${password}];${domain}`);
  }
  return `${lines.join('\n')}\n`;
}
