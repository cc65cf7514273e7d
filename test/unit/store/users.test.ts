import { sqliteEngine } from './engines.ts';
import { usersSuite } from './suites/users.ts';

usersSuite(sqliteEngine);
