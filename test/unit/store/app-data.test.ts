import { sqliteEngine } from './engines.ts';
import { appDataSuite } from './suites/app-data.ts';

appDataSuite(sqliteEngine);
