// Users, hunt groups and short codes share one dialling namespace: a number
// must reach exactly one of them. Each repository checks the others' tables
// inside its own write transaction, so two processes cannot slip a clash in.
import type Database from 'better-sqlite3';
import { patternMatches } from '../../model/short-code.ts';
import { StoreError } from '../errors.ts';

export class Numbering {
  private readonly s;

  constructor(db: Database.Database) {
    const p = <R>(sql: string) => db.prepare<unknown[], R>(sql);
    this.s = {
      user: p<number>('SELECT 1 FROM users WHERE extension = ?').pluck(),
      group: p<number>('SELECT 1 FROM hunt_groups WHERE number = ?').pluck(),
      codes: p<string>('SELECT code FROM short_codes').pluck(),
      extensions: p<string>('SELECT extension FROM users').pluck(),
      groups: p<string>('SELECT number FROM hunt_groups').pluck(),
    };
  }

  /** A user extension must not be a hunt group's number nor match a short code. */
  checkUserExtension(extension: string): void {
    if (this.s.group.get(extension)) throw conflict('extension', `${extension} is the number of a hunt group`);
    this.checkNoCode('extension', extension);
  }

  /** A hunt group number must not be a user extension nor match a short code. */
  checkGroupNumber(number: string): void {
    if (this.s.user.get(number)) throw conflict('number', `${number} is the extension of a user`);
    this.checkNoCode('number', number);
  }

  /** A short code must match no user extension and no hunt group number. */
  checkCode(code: string): void {
    for (const ext of this.s.extensions.iterate()) {
      if (patternMatches(code, ext)) throw conflict('code', `${code} would catch calls to extension ${ext}`);
    }
    for (const n of this.s.groups.iterate()) {
      if (patternMatches(code, n)) throw conflict('code', `${code} would catch calls to hunt group ${n}`);
    }
  }

  private checkNoCode(field: string, number: string): void {
    for (const code of this.s.codes.iterate()) {
      if (patternMatches(code, number)) throw conflict(field, `${number} would be taken as short code ${code}`);
    }
  }
}

export function conflict(field: string, message: string): StoreError {
  return new StoreError('conflict', field, `${field}: ${message}`);
}
