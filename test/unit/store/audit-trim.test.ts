// The config's audit limit; trimming itself is in suites/audit-trim.ts (both engines).
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/schema.ts';
import { sqliteEngine } from './engines.ts';
import { auditTrimSuite } from './suites/audit-trim.ts';

auditTrimSuite(sqliteEngine);

describe('audit log limit', () => {
  it('takes its limit from http.auditMaxEntries, 100,000 by default', () => {
    expect(configSchema.parse({}).http.auditMaxEntries).toBe(100_000);
    expect(configSchema.parse({ http: { auditMaxEntries: 500 } }).http.auditMaxEntries).toBe(500);
    const tooFew = configSchema.safeParse({ http: { auditMaxEntries: 5 } });
    expect(tooFew.success).toBe(false);
    expect(tooFew.error!.issues[0]!.path).toEqual(['http', 'auditMaxEntries']);
  });
});
