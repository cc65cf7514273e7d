// Users, hunt groups, IVR menus, conference rooms and short codes share one
// dialling namespace: a number must reach exactly one of them. Each
// repository checks the others' tables inside its own write transaction, so
// two processes cannot slip a clash in.
import type Database from 'better-sqlite3';
import { patternMatches } from '../../model/short-code.ts';
import { StoreError } from '../errors.ts';

/** The tables that own a number, and how a clash names the owner. */
export const NUMBER_OWNERS = [
  { kind: 'user', table: 'users', column: 'extension', is: 'the extension of a user', caught: 'extension' },
  { kind: 'group', table: 'hunt_groups', column: 'number', is: 'the number of a hunt group', caught: 'hunt group' },
  { kind: 'ivr', table: 'ivr_menus', column: 'number', is: 'the number of an IVR menu', caught: 'IVR menu' },
  { kind: 'room', table: 'conference_rooms', column: 'number', is: 'the number of a conference room', caught: 'conference room' },
] as const;
export type NumberOwner = (typeof NUMBER_OWNERS)[number]['kind'];

export class Numbering {
  private readonly s;

  constructor(db: Database.Database) {
    const p = <R>(sql: string) => db.prepare<unknown[], R>(sql);
    this.s = {
      owners: NUMBER_OWNERS.map((o) => ({
        ...o,
        one: p<number>(`SELECT 1 FROM ${o.table} WHERE ${o.column} = ?`).pluck(),
        all: p<string>(`SELECT ${o.column} FROM ${o.table}`).pluck(),
      })),
      codes: p<string>('SELECT code FROM short_codes').pluck(),
    };
  }

  /** A user extension must not be another owner's number nor match a short code. */
  checkUserExtension(extension: string): void {
    this.checkNumber('user', 'extension', extension);
  }

  /** A hunt group number must not be another owner's number nor match a short code. */
  checkGroupNumber(number: string): void {
    this.checkNumber('group', 'number', number);
  }

  /** A number of `kind` must be no other kind's and match no short code (its own kind's duplicates: the caller's check). */
  checkNumber(kind: NumberOwner, field: string, number: string): void {
    for (const o of this.s.owners) {
      if (o.kind !== kind && o.one.get(number)) throw conflict(field, `${number} is ${o.is}`);
    }
    for (const code of this.s.codes.iterate()) {
      if (patternMatches(code, number)) throw conflict(field, `${number} would be taken as short code ${code}`);
    }
  }

  /** A short code must match no number of any owner. */
  checkCode(code: string): void {
    for (const o of this.s.owners) {
      for (const n of o.all.iterate()) {
        if (patternMatches(code, n)) throw conflict('code', `${code} would catch calls to ${o.caught} ${n}`);
      }
    }
  }
}

export function conflict(field: string, message: string): StoreError {
  return new StoreError('conflict', field, `${field}: ${message}`);
}
