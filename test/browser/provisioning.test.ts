// The Provisioning pages in Debian's chromium against a real server with its
// provisioning server on: a device added through the form for an existing
// user, its file fetched by the real curl with the device's digest
// credentials (verified against the server's root CA), the last fetch shown
// on the page, credentials reset and shown once, the SPEC §6.2 TV-05 rules
// converted, the gateway users file downloaded (passwords only when ticked,
// audited), and provisioning at a glance on System status. Screenshots of
// every page at desktop and phone size in test/browser/artifacts/.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, tempDataDir, type TestServer } from '../integration/lib/server.ts';
import { curl } from '../integration/provisioning/lib.ts';
import { launch, pageTools, shot, unlabelledControls, type Browser } from './lib/browser.ts';

const PASSWORD = 'Provisioning-Pages-9';
const DESKTOP = { width: 1280, height: 860 };
const PHONE = { width: 390, height: 844 };
const MAC = '0004f2004179';
const LINE_PASSWORD = 'Board-4101-sip-secret';
const TV05 = JSON.stringify([
  { Name: 'Lisbon 5 digit 2', Pattern: '^((8047[0-9])|(8063[0-9]))$', Translation: '+3512131$1', IsInternalExtension: true },
  { Name: 'Four digit', Pattern: '^(\\d{4})$', Translation: '+1555$1', IsInternalExtension: false },
], null, 2);

let ts: TestServer;
let browser: Browser;
let page: Page;
let base: string;
let caFile: string;
const problems: string[] = [];
const tools = pageTools(() => page);
const tab = (label: string, title: string) => tools.tab('Provisioning', 'Provisioning pages', label, title);

async function shots(name: string): Promise<void> {
  await page.setViewportSize(DESKTOP);
  await shot(page, `provisioning-${name}-desktop`);
  await page.setViewportSize(PHONE);
  await shot(page, `provisioning-${name}-phone`);
  await page.setViewportSize(DESKTOP);
}

/** The credentials panel shown after adding or resetting. */
async function shownSecrets(): Promise<{ user: string; password: string; tokenUrl: string }> {
  const panel = page.locator(`[data-secrets="${MAC}"]`);
  await panel.waitFor();
  const text = (k: string) => panel.locator(`[data-secret="${k}"]`).innerText();
  return { user: await text('user'), password: await text('password'), tokenUrl: await text('token-url') };
}

const fetchFile = (user: string, password: string) =>
  curl('--cacert', caFile, '--digest', '-u', `${user}:${password}`, `${base}/avayab179.xml`);

beforeAll(async () => {
  ts = await startTestServer({ http: true, provisioning: true });
  await ts.server.store.users.add({ extension: '4101', password: LINE_PASSWORD, name: 'Board room' });
  await ts.server.store.users.add({ extension: '4102', password: 'Ward-4102-sip-secret', name: 'Ward 4' });
  await ts.server.directory.poll();
  base = `https://127.0.0.1:${ts.server.provisioning!.https.port}`;
  caFile = join(tempDataDir(), 'ca.pem');
  await writeFile(caFile, ts.server.certificates.caCertPem);
  browser = await launch({ caPem: ts.server.certificates.caCertPem, viewport: DESKTOP });
  page = await browser.context.newPage();
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console: ${m.text()}`);
  });
  await tools.firstLogin(ts.server.http!.url, ts.server.takeInitialAdminPassword()!, PASSWORD);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await ts?.stop();
});

describe('Provisioning pages', () => {
  let firstPassword = '';

  it('adds a device for an existing user through the form and shows its credentials once', async () => {
    await tab('Devices', 'Devices');
    await page.getByText('No devices yet.').waitFor();
    await page.getByRole('link', { name: 'Add device' }).click();
    await page.getByRole('heading', { name: 'Add device' }).waitFor();
    await page.getByLabel('MAC address').fill('00:04:F2:00:41:79');
    await page.locator('#d-family').selectOption('avaya-b179');
    // The family's hint: its models and how many lines it carries.
    expect(await page.locator('#d-model-hint').innerText()).toContain('B179');
    expect(await page.locator('#d-family-hint').innerText()).toBe('Gets avayab179.xml, avaya-<mac>.xml. Up to 1 line.');
    await page.getByLabel('Model').fill('B179');
    await page.getByLabel('Lines (extensions)').fill('4101');
    await page.getByLabel('Label').fill('Board room table');
    expect(await unlabelledControls(page)).toEqual([]);
    await shots('device-form');
    await page.getByRole('button', { name: 'Add device' }).click();

    const s = await shownSecrets();
    expect(s.user).toBe(MAC);
    expect(s.password.length).toBeGreaterThanOrEqual(16);
    expect(s.tokenUrl).toMatch(new RegExp(`^${base.replace(/[.]/g, '\\.')}/d/[A-Za-z0-9_-]+/$`));
    firstPassword = s.password;
    const row = page.locator(`tr[data-device="${MAC}"]`);
    const text = await row.innerText();
    expect(text).toContain('00:04:f2:00:41:79');
    expect(text).toContain('avaya-b179');
    expect(text).toContain('4101');
    expect(text).toContain('Board room table');
    expect(text).toContain('Never');
    expect((await ts.server.store.devices.get(MAC))?.extensions).toEqual(['4101']);
    await shots('devices-added');
  });

  it('refuses more lines than the family carries, beside the field', async () => {
    await page.locator(`tr[data-device="${MAC}"]`).getByRole('link', { name: 'Edit 00:04:f2:00:41:79' }).click();
    await page.getByRole('heading', { name: 'Device 00:04:f2:00:41:79' }).waitFor();
    await page.getByLabel('Lines (extensions)').fill('4101, 4102');
    await page.getByRole('button', { name: 'Save device' }).click();
    await page.locator('#d-extensions-error').waitFor();
    expect(await page.locator('#d-extensions-error').innerText()).toContain('at most 1 line');
    expect((await ts.server.store.devices.get(MAC))?.extensions).toEqual(['4101']);
    await page.getByRole('link', { name: 'Cancel' }).click();
    await page.locator(`tr[data-device="${MAC}"]`).waitFor();
  });

  it("takes a family's options as rows, offering the values it knows, and filters the list", async () => {
    await page.getByRole('link', { name: 'Add device' }).click();
    await page.getByLabel('MAC address').fill('00-04-f2-00-84-41');
    await page.locator('#d-family').selectOption('spectralink-84');
    await page.getByLabel('Model').fill('8441');
    await page.getByLabel('Lines (extensions)').fill('4102');
    await page.getByRole('button', { name: 'Add option' }).click();
    await page.getByLabel('Option 1 name').fill('layout');
    // A known option with a few values gets a list of them.
    await page.getByLabel('Option 1 value').selectOption('group');
    expect(await unlabelledControls(page)).toEqual([]);
    await shots('device-form-options');
    await page.getByRole('button', { name: 'Add device' }).click();
    await page.locator('[data-secrets="0004f2008441"]').waitFor();
    expect((await ts.server.store.devices.get('0004f2008441'))?.options).toEqual({ layout: 'group' });

    await page.locator('#device-family').selectOption('spectralink-84');
    await page.locator('[data-count]').filter({ hasText: '1 of 2 devices' }).waitFor();
    expect(await page.locator('tr[data-device]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-device')))).toEqual(['0004f2008441']);
    await page.locator('#device-family').selectOption('all');
    await page.getByLabel('Search').fill('4101');
    expect(await page.locator('tr[data-device]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-device')))).toEqual([MAC]);
    await page.getByLabel('Search').fill('');
  });

  it('shows the last fetch after the real curl fetches the file with the device credentials', async () => {
    const r = await fetchFile(MAC, firstPassword);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(200);
    expect(r.body).toContain('<user>4101</user>');
    expect(r.body).toContain(LINE_PASSWORD);
    await ts.server.provisioning!.flush();
    // Leaving the tab and coming back reads the list again.
    await tab('Requests', 'Provisioning requests');
    await tab('Devices', 'Devices');
    const fetch = page.locator(`tr[data-device="${MAC}"] td[data-label="Last fetch"]`);
    await fetch.filter({ hasText: '200 served' }).waitFor();
    expect(await fetch.innerText()).toContain('/avayab179.xml');
    expect(await fetch.locator('.badge-ok').count()).toBe(1);
  });

  it("lists the files the device gets and where to point it", async () => {
    await page.getByRole('link', { name: 'Files of 00:04:f2:00:41:79' }).click();
    await page.getByRole('heading', { name: 'Files of 00:04:f2:00:41:79' }).waitFor();
    await page.locator('tr[data-file="avayab179.xml"]').waitFor();
    expect(await page.locator('tr[data-file="avayab179.xml"]').innerText()).toContain('SIP passwords');
    expect(await page.locator('[data-url]').innerText()).toBe(`${base}/`);
    await shots('device-files');
    await page.getByRole('link', { name: 'Back to the devices' }).click();
    await page.locator(`tr[data-device="${MAC}"]`).waitFor();
  });

  it('resets the credentials: the new ones are shown once and only they open the file', async () => {
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'New credentials for 00:04:f2:00:41:79' }).click();
    await page.getByText('New provisioning credentials for 00:04:f2:00:41:79.').waitFor();
    const s = await shownSecrets();
    expect(s.password).not.toBe(firstPassword);
    expect((await fetchFile(MAC, firstPassword)).status).toBe(401);
    expect((await fetchFile(MAC, s.password)).status).toBe(200);
    const byToken = await curl('--cacert', caFile, `${s.tokenUrl}avayab179.xml`);
    expect(byToken.status).toBe(200);
    // Once: after leaving the page they are not shown again, nor anywhere in it.
    await tab('Dial plan', 'Dial plan');
    await tab('Devices', 'Devices');
    await page.locator(`tr[data-device="${MAC}"]`).waitFor();
    expect(await page.locator('[data-secrets]').count()).toBe(0);
    expect(await page.content()).not.toContain(s.password);
  });

  it('shows the recent requests newest first, refusals and unknown devices included', async () => {
    expect((await curl('--cacert', caFile, '--digest', '-u', '0004f2ffffff:nope', `${base}/avayab179.xml`)).status).toBe(401);
    await tab('Requests', 'Provisioning requests');
    const rows = page.locator('tbody tr');
    await rows.first().filter({ hasText: '401' }).waitFor();
    const first = await rows.first().innerText();
    expect(first).toContain('127.0.0.1');
    expect(first).toContain('/avayab179.xml');
    expect(await page.locator(`tr[data-request="${MAC}"]`).count()).toBeGreaterThanOrEqual(3);
    expect(first).toContain('refused: unknown device');
    // The wrong password after the reset and the unknown device are refusals; digest challenges are not.
    expect(await page.locator('tr.error-row').count()).toBe(2);
    expect(await page.locator('tbody tr', { hasText: 'challenged' }).count()).toBeGreaterThanOrEqual(3);
    expect(await page.locator('tr.error-row', { hasText: 'challenged' }).count()).toBe(0);
    await shots('requests');
  });

  it('converts the TV-05 rules to the digit map', async () => {
    await tab('Dial plan', 'Dial plan');
    await page.getByLabel('Rules').fill(TV05);
    await page.getByLabel('Emergency dial string').fill('112');
    await page.getByRole('button', { name: 'Convert' }).click();
    await page.locator('[data-digitmap]').waitFor();
    expect(await page.locator('[data-digitmap]').innerText()).toBe('8047x|8063x|xxxx|112');
    expect(await page.locator('[data-original]').innerText()).toBe('^((8047[0-9])|(8063[0-9]))$@+3512131$1@1|^(\\d{4})$@+1555$1@0');
    expect(await page.locator('tr[data-translation="xxxx"]').innerText()).toContain('+1555$1');
    expect(await unlabelledControls(page)).toEqual([]);
    await shots('dialplan');
    // A rule that cannot be read is named beside the field.
    await page.getByLabel('Rules').fill('[{"Pattern":"^1$","Translation":"1"}]');
    await page.getByRole('button', { name: 'Convert' }).click();
    await page.locator('#dp-rules-error').filter({ hasText: 'rule 1: IsInternalExtension must be True or False' }).waitFor();
  });

  it('downloads the gateway users file, with passwords only when ticked, audited', async () => {
    await tab('Gateway users', 'Gateway users');
    let dlName = async () => '';
    const download = async () => {
      const [dl] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: /^Download / }).click()]);
      dlName = async () => dl.suggestedFilename();
      return readFile((await dl.path())!, 'utf8');
    };
    const plain = await download();
    expect(plain.split('\r\n')[0]).toBe('ipei,accessCode,standbyText,username,domain,displayName,authUser,callForward,disabled,dectToDect,adminRights,extension');
    expect(plain).toContain('Board room');
    expect(plain).not.toContain(LINE_PASSWORD);
    expect(await ts.server.store.admin.audit.list({ target: 'gateway-users' })).toEqual([]);
    await page.getByLabel('Include the SIP passwords').check();
    await page.locator('#gw-format').selectOption('json');
    await page.getByLabel('Extensions').fill('4101');
    await shots('gateway-users');
    const secret = JSON.parse(await download()) as { passwords: boolean; users: { username: string; authPassword: string }[] };
    expect(secret.passwords).toBe(true);
    expect(secret.users).toEqual([expect.objectContaining({ username: '4101', authPassword: LINE_PASSWORD })]);
    expect(await dlName()).toBe('gateway-users.json');
    const audit = await ts.server.store.admin.audit.list({ target: 'gateway-users' });
    expect(audit[0]).toMatchObject({ actor: 'admin', action: 'GET /api/provisioning/gateway-users (with passwords)' });
    // An extension that is no user: the refusal is shown, nothing is saved.
    await page.getByLabel('Extensions').fill('4101, 4999');
    await page.getByRole('button', { name: 'Download JSON' }).click();
    await page.getByRole('alert').filter({ hasText: 'no user 4999' }).waitFor();
  });

  it('shows provisioning at a glance on System status, linking to the devices', async () => {
    await tools.nav('Status', 'System status');
    const glance = page.locator('[data-provisioning]');
    await glance.waitFor();
    // The unknown MAC's 401 is not a device; the board room phone's last request was served, the handset has not asked yet.
    expect(await glance.innerText()).toMatch(/2\s+devices\s+1\s+fetched in the last day\s+0\s+failing/);
    await shots('status');
    await glance.getByRole('link', { name: 'Devices' }).click();
    await tools.heading('Devices');
    expect(problems).toEqual([]);
  });

  it('removes a device after asking, keeping its user', async () => {
    await tab('Devices', 'Devices');
    const row = page.locator('tr[data-device="0004f2008441"]');
    await row.waitFor();
    let asked = '';
    page.once('dialog', (d) => { asked = d.message(); void d.dismiss(); });
    await page.getByRole('button', { name: 'Remove 00:04:f2:00:84:41' }).click();
    expect(asked).toBe('Remove device 00:04:f2:00:84:41? Its users stay.');
    expect(await ts.server.store.devices.get('0004f2008441')).toMatchObject({ mac: '0004f2008441' });
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Remove 00:04:f2:00:84:41' }).click();
    await page.getByText('Device 00:04:f2:00:84:41 removed.').waitFor();
    await row.waitFor({ state: 'detached' });
    expect(await ts.server.store.devices.get('0004f2008441')).toBeUndefined();
    expect(await ts.server.store.users.getByExtension('4102')).toBeTruthy();
    expect(problems).toEqual([]);
  });
});
