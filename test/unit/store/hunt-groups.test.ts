import { sqliteEngine } from './engines.ts';
import { huntGroupsSuite } from './suites/hunt-groups.ts';

huntGroupsSuite(sqliteEngine);
