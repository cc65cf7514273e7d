import { sqliteEngine } from './engines.ts';
import { adminSuite } from './suites/admin.ts';

adminSuite(sqliteEngine);
