// The rules of IVR menus, rooms and audio files that need other rows (both
// engines load the rows in their transaction, then call these): menus that
// exist, loops a caller cannot leave, files in use, reserved numbers.
import { findMenuLoop, menuActions, type IvrMenuFields } from '../model/ivr-menu.ts';
import { StoreError } from './errors.ts';
import { conflict } from './sqlite/numbering.ts';

/** The voicemail number's default (config voicemail.number): reachable from any phone. */
export const RESERVED_NUMBERS_DEFAULT: readonly string[] = ['8000'];

export function checkNotReserved(field: string, number: string, reserved: readonly string[]): void {
  if (reserved.includes(number)) throw conflict(field, `${number} is the voicemail number`);
}

/** A menu's links: every menu it names exists (or is itself), and no loop without a key pressed. */
export function checkMenuLinks(m: IvrMenuFields, menus: ReadonlyMap<string, IvrMenuFields>): void {
  for (const { where, action } of menuActions(m)) {
    if (action.type === 'menu' && action.target !== m.number && !menus.has(action.target)) {
      throw new StoreError('not-found', fieldOf(where), `${fieldOf(where)}: no IVR menu ${action.target}`);
    }
  }
  const loop = findMenuLoop(m, menus);
  if (loop) {
    throw new StoreError('invalid', loop.field, `${loop.field}: menus ${loop.path} would loop without the caller pressing a key; use repeat, or a key`);
  }
}

/** "option 1" -> "options.1", "onTimeout" as is: the field a problem is reported on. */
function fieldOf(where: string): string {
  return where.startsWith('option ') ? `options.${where.slice(7)}` : where;
}

/** Refuses to remove a menu another menu sends callers to. */
export function checkMenuUnused(number: string, menus: Iterable<IvrMenuFields>): void {
  for (const other of menus) {
    if (other.number === number) continue;
    for (const { where, action } of menuActions(other)) {
      if (action.type === 'menu' && action.target === number) {
        throw conflict('number', `IVR menu ${other.number} (${where}) sends callers to menu ${number}`);
      }
    }
  }
}

/** Refuses to remove an audio file a menu greets with or held parties hear. */
export function checkAudioUnused(name: string, greetedBy: readonly string[], moh: string | null): void {
  if (greetedBy.length > 0) throw conflict('name', `${name} is the greeting of IVR menu ${greetedBy.join(', ')}`);
  if (moh === name) throw conflict('name', `${name} is the music on hold (moh.file); choose another or reset it first`);
}

export function menuNotFound(number: string): StoreError {
  return new StoreError('not-found', 'number', `no IVR menu ${String(number)}`);
}
