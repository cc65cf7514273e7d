// The Certificates page in Debian's chromium against a real server (issue 14
// item 6): an identity issued with an extra name is applied at once and
// listed, a trusted CA imported from a file appears with its downloads, and
// choosing a client family the identity does not suit shows its warning.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../integration/lib/server.ts';
import { makeIdentity } from '../integration/certs/material.ts';
import { launch, pageTools, shot, unlabelledControls, type Browser } from './lib/browser.ts';

let ts: TestServer;
let browser: Browser;
let page: Page;
const problems: string[] = [];
const tools = pageTools(() => page);

beforeAll(async () => {
  ts = await startTestServer({ http: true });
  browser = await launch({ caPem: ts.server.certificates.caCertPem, viewport: { width: 1280, height: 900 } });
  page = await browser.context.newPage();
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console: ${m.text()}`);
  });
  await tools.firstLogin(ts.server.http!.url, ts.server.takeInitialAdminPassword()!, 'Cert-Page-Pass-8');
  await tools.tab('System', 'System pages', 'Certificates', 'Certificates');
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await ts?.stop();
});

describe('Certificates page', () => {
  it('issues an identity with an extra name: applied at once and listed', async () => {
    const names = page.locator('#issue-san');
    // The proposed names arrive from the server.
    await expect.poll(() => names.inputValue(), { timeout: 10_000 }).toContain('URI:sip:test.local');
    await names.fill(`${await names.inputValue()}\nDNS:extra.browser.test`);
    await page.locator('#issue-days').fill('800');
    await page.getByRole('button', { name: 'Issue and apply' }).click();
    await page.locator('[data-note]', { hasText: 'Issued the main identity' }).waitFor();
    expect(await page.locator('[data-note]').innerText()).toContain('Applied at once');
    const identity = page.locator('[data-cert="identity"]');
    await identity.locator('li', { hasText: 'DNS:extra.browser.test' }).waitFor();
    expect(await identity.innerText()).toContain(ts.server.certificates.fingerprintSha256);
    expect(await identity.innerText()).toContain('issued from the internal CA');
  });

  it('imports a trusted CA from a file', async () => {
    const other = await makeIdentity();
    const file = join(ts.dataDir, 'browser-upstream.pem');
    writeFileSync(file, other.caPem);
    await page.locator('#trust-file').setInputFiles(file);
    await page.locator('#trust-label').fill('Upstream carrier');
    await page.getByRole('button', { name: 'Trust', exact: true }).click();
    const row = page.locator('tr[data-trusted="Upstream carrier"]');
    await row.waitFor();
    expect(await row.getByRole('link', { name: 'DER' }).getAttribute('href')).toMatch(/\/export\?format=der$/);
  });

  it('shows the warning of a client family the identity does not suit', async () => {
    const e129 = page.locator('li[data-family="avaya-e129"]');
    await e129.locator('input[type="checkbox"]').check();
    await page.getByRole('button', { name: 'Save families' }).click();
    await e129.locator('.field-error').first().waitFor();
    expect(await e129.locator('.field-error').first().innerText()).toMatch(/E129/);
    await page.locator('[data-section="warnings"]').waitFor();
    expect(await unlabelledControls(page)).toEqual([]);
    await shot(page, 'certificates-page');
    // At phone width nothing is wider than the screen.
    await page.setViewportSize({ width: 390, height: 844 });
    await shot(page, 'certificates-page-phone');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect(problems).toEqual([]);
  });
});
