import { sqliteEngine } from './engines.ts';
import { shortCodesSuite } from './suites/short-codes.ts';

shortCodesSuite(sqliteEngine);
