// The paging rule every list query shares: limit 1..1000 (default 100),
// offset from 0 (default 0), fractions truncated, nonsense replaced by the default.
export function pageOf(q: { limit?: number; offset?: number }): { limit: number; offset: number } {
  const int = (v: number | undefined, dflt: number) => (Number.isFinite(v) ? Math.trunc(v!) : dflt);
  return { limit: Math.min(Math.max(int(q.limit, 100), 1), 1000), offset: Math.max(int(q.offset, 0), 0) };
}
