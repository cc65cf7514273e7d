import { sqliteEngine } from './engines.ts';
import { userImportSuite } from './suites/user-import.ts';

userImportSuite(sqliteEngine);
