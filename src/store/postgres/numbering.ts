// Users, hunt groups and short codes share one dialling namespace (see
// src/store/sqlite/numbering.ts); the same checks, run inside the caller's
// transaction, which holds the directory lock.
import { patternMatches } from '../../model/short-code.ts';
import { conflict } from '../sqlite/numbering.ts';
import type { PgDb } from './db.ts';

export class PgNumbering {
  constructor(private readonly t: PgDb) {}

  private async exists(sql: string, value: string): Promise<boolean> {
    return (await this.t.get(sql, [value])) !== undefined;
  }

  private async column(sql: string): Promise<string[]> {
    return (await this.t.all<{ v: string }>(sql)).map((r) => r.v);
  }

  async checkUserExtension(extension: string): Promise<void> {
    if (await this.exists('SELECT 1 FROM hunt_groups WHERE number = ?', extension)) {
      throw conflict('extension', `${extension} is the number of a hunt group`);
    }
    await this.checkNoCode('extension', extension);
  }

  async checkGroupNumber(number: string): Promise<void> {
    if (await this.exists('SELECT 1 FROM users WHERE extension = ?', number)) throw conflict('number', `${number} is the extension of a user`);
    await this.checkNoCode('number', number);
  }

  async checkCode(code: string): Promise<void> {
    for (const ext of await this.column('SELECT extension AS v FROM users')) {
      if (patternMatches(code, ext)) throw conflict('code', `${code} would catch calls to extension ${ext}`);
    }
    for (const n of await this.column('SELECT number AS v FROM hunt_groups')) {
      if (patternMatches(code, n)) throw conflict('code', `${code} would catch calls to hunt group ${n}`);
    }
  }

  private async checkNoCode(field: string, number: string): Promise<void> {
    for (const code of await this.column('SELECT code AS v FROM short_codes')) {
      if (patternMatches(code, number)) throw conflict(field, `${number} would be taken as short code ${code}`);
    }
  }
}
