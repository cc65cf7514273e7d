// Mailboxes on SQLite (the same suite runs on PostgreSQL in test/interop/store-postgres.test.ts).
import { sqliteEngine } from './engines.ts';
import { voicemailSuite } from './suites/voicemail.ts';

voicemailSuite(sqliteEngine);
