// Users, hunt groups, IVR menus, conference rooms and short codes share one
// dialling namespace (see src/store/sqlite/numbering.ts); the same checks,
// run inside the caller's transaction, which holds the directory lock.
import { patternMatches } from '../../model/short-code.ts';
import { NUMBER_OWNERS, conflict, type NumberOwner } from '../sqlite/numbering.ts';
import type { PgDb } from './db.ts';

export class PgNumbering {
  constructor(private readonly t: PgDb) {}

  private async column(sql: string): Promise<string[]> {
    return (await this.t.all<{ v: string }>(sql)).map((r) => r.v);
  }

  checkUserExtension(extension: string): Promise<void> {
    return this.checkNumber('user', 'extension', extension);
  }

  checkGroupNumber(number: string): Promise<void> {
    return this.checkNumber('group', 'number', number);
  }

  async checkNumber(kind: NumberOwner, field: string, number: string): Promise<void> {
    for (const o of NUMBER_OWNERS) {
      if (o.kind === kind) continue;
      if (await this.t.get(`SELECT 1 FROM ${o.table} WHERE ${o.column} = ?`, [number])) throw conflict(field, `${number} is ${o.is}`);
    }
    for (const code of await this.column('SELECT code AS v FROM short_codes')) {
      if (patternMatches(code, number)) throw conflict(field, `${number} would be taken as short code ${code}`);
    }
  }

  async checkCode(code: string): Promise<void> {
    for (const o of NUMBER_OWNERS) {
      for (const n of await this.column(`SELECT ${o.column} AS v FROM ${o.table}`)) {
        if (patternMatches(code, n)) throw conflict('code', `${code} would catch calls to ${o.caught} ${n}`);
      }
    }
  }
}
