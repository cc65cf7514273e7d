// The revision counters the schema's triggers bump (migrations.ts).
import type { PgDb } from './db.ts';

export async function revisionOf(db: PgDb, name: 'trunks' | 'hunt_groups' | 'short_codes' | 'ivr_menus' | 'conference_rooms' | 'audio_files'): Promise<number> {
  return (await db.get<{ revision: number }>('SELECT revision FROM revisions WHERE name = ?', [name]))?.revision ?? 0;
}
