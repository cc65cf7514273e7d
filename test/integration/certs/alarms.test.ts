// Certificate alarms (issue 14 item 5) on manual time: an identity's expiry
// raises an alarm at 30, 7 and 1 day(s) and when expired, found by the daily
// check on the server's timers; a renewed identity clears it at the reload;
// a clock before a certificate's start is a clock problem at start (EC-12).
import { afterAll, describe, expect, it } from 'vitest';
import os from 'node:os';
import { startTestServer, tempDataDir } from '../lib/server.ts';
import type { TestServer } from '../lib/server.ts';
import { cli } from '../lib/cli.ts';
import { waitUntil } from '../../lib/wait.ts';
import { ensureCertificates } from '../../../src/security/certs.ts';
import { issueIdentity } from '../../../src/security/identity-store.ts';

const DAY = 86_400_000;
const servers: TestServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop();
});

/** A data directory whose main identity is the administrator's, valid `days` from `from`. */
async function dataDirWithIdentity(days: number, from = new Date()): Promise<string> {
  const dataDir = tempDataDir();
  await ensureCertificates(dataDir, { hostName: os.hostname(), ipAddresses: ['127.0.0.1'], sipDomain: 'test.local' });
  await issueIdentity(dataDir, 'main', { commonName: 'alarm.test.local', san: { dns: ['localhost'], ips: ['127.0.0.1'], uris: ['sip:test.local'] }, days, now: from });
  return dataDir;
}

const severityOf = (ts: TestServer, id: string) => ts.server.alarms.get(id)?.severity;

describe('certificate alarms', () => {
  it('expiry at 30, 7 and 1 day(s) and expired, by the daily check; cleared once a new identity applies', async () => {
    const ts = await startTestServer({ dataDir: await dataDirWithIdentity(31), manualTime: true });
    servers.push(ts);
    const id = 'certificate-expiry:main';
    expect(severityOf(ts, id)).toBeUndefined();
    const after = async (days: number, severity: string) => {
      await ts.advance(days * DAY);
      expect(await waitUntil(() => severityOf(ts, id) === severity, 5000, 20), `${severity} after ${days} more day(s): ${JSON.stringify(ts.server.alarms.list())}`).toBe(true);
    };
    await after(1.5, 'warning'); // 29.5 days left
    await after(23, 'minor'); // 6.5 days left
    await after(6, 'major'); // half a day left
    expect(ts.server.alarms.get(id)?.text).toMatch(/main identity expires within a day/);
    await after(1, 'critical'); // expired
    // The administrator issues a new one: the reload's check clears the alarm.
    const r = await cli('cert', 'issue', '--days', '400', '--san', 'DNS:localhost,IP:127.0.0.1', '--data-dir', ts.dataDir);
    expect(r.code, r.stderr).toBe(0);
    expect(await waitUntil(() => severityOf(ts, id) === undefined, 5000, 20)).toBe(true);
  });

  it('a clock before the identity\'s start is reported as a clock problem at start (EC-12)', async () => {
    // Issued "tomorrow": to this server's clock, which reads today, it is not valid yet.
    const ts = await startTestServer({ dataDir: await dataDirWithIdentity(90, new Date(Date.now() + 2 * DAY)), manualTime: true });
    servers.push(ts);
    const alarm = ts.server.alarms.get('certificate-clock:main');
    expect(alarm?.severity).toBe('major');
    expect(alarm?.text).toMatch(/clock/i);
  });
});
