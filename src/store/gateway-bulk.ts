// Switching many gateway lines on or off at once (CLI `gateway enable|disable`,
// API POST /api/gateway/lines/bulk): every name is checked before anything is
// written, so a typo changes nothing.
import type { LineView } from '../model/gateway.ts';
import { StoreError } from './errors.ts';
import type { Store } from './types.ts';

/** @throws StoreError not-found (field extensions) naming the extensions without a line */
export async function setLinesDisabled(store: Store, which: readonly string[] | 'all', disabled: boolean): Promise<LineView[]> {
  const lines = await store.gateway.listLines();
  const have = new Set(lines.map((l) => l.extension));
  const names = which === 'all' ? [...have] : [...new Set(which)];
  const missing = names.filter((e) => !have.has(e));
  if (missing.length > 0) throw new StoreError('not-found', 'extensions', `extensions: no gateway line for ${missing.join(', ')}`);
  const out: LineView[] = [];
  for (const ext of names) out.push(await store.gateway.updateLine(ext, { disabled }));
  return out;
}
