import { sqliteEngine } from './engines.ts';
import { trunksSuite } from './suites/trunks.ts';

trunksSuite(sqliteEngine);
