// The store's repository suites (test/unit/store/suites/) against a real
// PostgreSQL: Debian's cluster over /var/run/postgresql (.ci/run starts it and
// creates the role). Each test gets a database of its own, copied from a
// template migrated once; a server that cannot be reached fails every test.
import { afterAll } from 'vitest';
import { postgresEngine } from '../unit/store/engines.ts';
import { adminSuite } from '../unit/store/suites/admin.ts';
import { appDataSuite } from '../unit/store/suites/app-data.ts';
import { auditTrimSuite } from '../unit/store/suites/audit-trim.ts';
import { cdrsSuite } from '../unit/store/suites/cdrs.ts';
import { devicesSuite } from '../unit/store/suites/devices.ts';
import { gatewaySuite } from '../unit/store/suites/gateway.ts';
import { registrationsSuite } from '../unit/store/suites/registrations.ts';
import { userChangesSuite } from '../unit/store/suites/user-changes.ts';
import { huntGroupsSuite } from '../unit/store/suites/hunt-groups.ts';
import { shortCodesSuite } from '../unit/store/suites/short-codes.ts';
import { trunksSuite } from '../unit/store/suites/trunks.ts';
import { userCallsSuite } from '../unit/store/suites/user-calls.ts';
import { userFeaturesSuite } from '../unit/store/suites/user-features.ts';
import { userImportSuite } from '../unit/store/suites/user-import.ts';
import { usersSuite } from '../unit/store/suites/users.ts';
import { voicemailSuite } from '../unit/store/suites/voicemail.ts';

const engine = postgresEngine();
afterAll(() => engine.dropTemplate());

usersSuite(engine);
userImportSuite(engine);
userFeaturesSuite(engine);
userCallsSuite(engine);
trunksSuite(engine);
huntGroupsSuite(engine);
shortCodesSuite(engine);
userChangesSuite(engine);
registrationsSuite(engine);
cdrsSuite(engine);
adminSuite(engine);
auditTrimSuite(engine);
voicemailSuite(engine);
appDataSuite(engine);
devicesSuite(engine);
gatewaySuite(engine);
