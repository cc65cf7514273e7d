import { sqliteEngine } from './engines.ts';
import { gatewaySuite } from './suites/gateway.ts';

gatewaySuite(sqliteEngine);
