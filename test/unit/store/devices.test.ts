import { sqliteEngine } from './engines.ts';
import { devicesSuite } from './suites/devices.ts';

devicesSuite(sqliteEngine);
