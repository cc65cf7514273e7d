// The Lockouts section of System Status in Debian's chromium against a real
// server: a SIP pair ban made by five wrong digest answers from another
// loopback address shows up, and the security administrator lifts it there.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../integration/lib/server.ts';
import { TestClient } from '../integration/lib/sip-client.ts';
import { launch, pageTools, type Browser } from './lib/browser.ts';

const ATTACKER = '127.0.0.70';
let ts: TestServer;
let browser: Browser;
let page: Page;
const problems: string[] = [];
const { firstLogin } = pageTools(() => page);

beforeAll(async () => {
  ts = await startTestServer({ http: true, config: { sip: { domain: 'test.local' } } });
  await ts.server.store.users.add({ extension: '2301', password: 'pw-2301-real' });
  await ts.server.directory.poll();
  browser = await launch({ caPem: ts.server.certificates.caCertPem });
  page = await browser.context.newPage();
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
});

afterAll(async () => {
  await browser?.close();
  await ts?.stop();
});

describe('lockouts in System Status', () => {
  it('lists a SIP ban and lifts it with its Lift button', async () => {
    const c = await new TestClient('udp', ts.host, ts.sipPort, {}, 0, ATTACKER).open();
    try {
      for (let i = 0; i < 5; i++) expect((await c.register('2301', `wrong-${i}`)).status).toBe(401);
      expect((await c.register('2301', 'pw-2301-real')).status).toBe(403);

      await firstLogin(ts.server.http!.url, ts.server.takeInitialAdminPassword()!, 'Lockout-Browser-Pass-7');

      const ban = page.locator('section[aria-labelledby="bans-h"] tr[data-ban="sip:pair"]');
      await ban.waitFor();
      expect(await ban.innerText()).toContain(`2301 from ${ATTACKER}`);
      await ban.getByRole('button', { name: `Lift sip pair lockout of 2301 from ${ATTACKER}` }).click();
      await page.getByRole('status').filter({ hasText: `Lifted: SIP 2301 from ${ATTACKER}.` }).waitFor();
      await page.locator('section[aria-labelledby="bans-h"]', { hasText: 'No lockouts in force.' }).waitFor();
      expect(ts.server.guard.activeBans()).toEqual([]);
      expect((await c.register('2301', 'pw-2301-real')).status).toBe(200);
      expect(problems).toEqual([]);
    } finally {
      c.close();
    }
  });
});
