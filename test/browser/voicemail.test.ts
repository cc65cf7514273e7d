// Voicemail in Debian's chromium against a real server: messages deposited
// through the store are listed with their mailbox's lamp, play in the page
// (the <audio> element loads the WAV with the session cookie and knows its
// length), are marked saved and deleted; a greeting is uploaded, played and
// removed; the user form switches the mailbox and the MWI mode; the
// extension detail and the status list show message waiting.
// Screenshots (desktop and phone) land in test/browser/artifacts/.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../integration/lib/server.ts';
import { ApiClient } from '../integration/api/client.ts';
import { writeWav } from '../../src/media/wav.ts';
import { tone } from '../../src/media/tones.ts';
import { launch, pageTools, shot, unlabelledControls, type Browser } from './lib/browser.ts';

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

let ts: TestServer;
let browser: Browser;
let page: Page;
let url: string;
const problems: string[] = [];
const { nav, heading, firstLogin } = pageTools(() => page);
const ids: string[] = [];
const ADMIN_PW = 'Mailboxes-Lamps-58z';

/** A WAV of `ms` of a 440 Hz tone, as the deposit application stores it (8 kHz µ-law). */
const message = (ms: number) => writeWav(tone({ freqs: [440] }, ms));

beforeAll(async () => {
  ts = await startTestServer({ http: true });
  url = ts.server.http!.url;
  await ts.server.store.users.add({ extension: '2201', password: 'pw-2201-Ward', name: 'Ward Desk' });
  await ts.server.store.users.add({ extension: '2202', password: 'pw-2202-Lab', name: 'Lab' });
  await ts.server.directory.poll();
  const vm = ts.server.store.voicemail;
  const now = Date.now();
  ids.push((await vm.deposit('2201', { caller: '2202', callerName: 'Lab', receivedAt: now - 3_600_000, durationMs: 1500 }, message(1500))).id);
  ids.push((await vm.deposit('2201', { caller: '+4930123456', callerName: '', receivedAt: now - 60_000, durationMs: 2000 }, message(2000))).id);
  browser = await launch({ caPem: ts.server.certificates.caCertPem, viewport: DESKTOP });
  page = await browser.context.newPage();
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    // The 401 before the login and the 400 of the refused greeting are logged by chromium as failed loads; nothing else may be.
    if (m.type() === 'error' && !/status of 40[01] /.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  await firstLogin(url, ts.server.takeInitialAdminPassword()!, ADMIN_PW);
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await ts?.stop();
});

/** Both sizes of the page as it is now; on a phone nothing may be wider than the screen. */
async function shots(name: string): Promise<void> {
  await page.setViewportSize(DESKTOP);
  await shot(page, `${name}-desktop`);
  await page.setViewportSize(PHONE);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow, `${name} is ${overflow}px wider than a phone screen`).toBeLessThanOrEqual(1);
  await shot(page, `${name}-phone`);
  await page.setViewportSize(DESKTOP);
}

/** The player of a message: once its metadata loaded, the length it found in the WAV. */
async function loadedSeconds(selector: string): Promise<number> {
  const audio = page.locator(selector);
  await audio.waitFor();
  await page.waitForFunction((sel) => (document.querySelector(sel) as HTMLAudioElement | null)?.readyState! >= 1, selector, { timeout: 15_000 });
  return audio.evaluate((a) => (a as HTMLAudioElement).duration);
}

describe('voicemail in the web UI', () => {
  it('lists the mailbox with its lamp, and plays a message in the page', async () => {
    await nav('Voicemail', 'Voicemail');
    const row = page.locator('tr[data-mailbox="2201"]');
    await row.waitFor();
    expect(await row.innerText()).toMatch(/2201\s+Ward Desk\s+2 new messages\s+2\s+0/);
    expect(await unlabelledControls(page)).toEqual([]);
    await shots('71-voicemail');

    await row.getByRole('link', { name: '2201' }).click();
    await heading('Mailbox 2201 — Ward Desk');
    const first = `tr[data-message="${ids[0]}"]`;
    await page.locator(first).waitFor();
    expect(await page.locator(first).innerText()).toMatch(/Lab \(2202\)\s+0:01\s+New/);
    // Newest first.
    expect(await page.locator('tr[data-message]').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.message))).toEqual([ids[1], ids[0]]);
    // The browser fetched the recording with the session and decoded its header: 1.5 s of audio.
    expect(await loadedSeconds(`${first} audio`)).toBeCloseTo(1.5, 1);
    const fetched = await page.evaluate(async (src) => {
      const r = await fetch(src);
      return { status: r.status, type: r.headers.get('content-type'), bytes: (await r.arrayBuffer()).byteLength };
    }, `/api/users/2201/voicemail/${ids[0]}.wav`);
    expect(fetched).toEqual({ status: 200, type: 'audio/wav', bytes: (await ts.server.store.voicemail.audio('2201', ids[0]!))!.length });
    // It plays: the element's clock moves.
    await page.locator(`${first} audio`).evaluate((a) => { const el = a as HTMLAudioElement; el.muted = true; return el.play(); });
    await page.waitForFunction((sel) => (document.querySelector(sel) as HTMLAudioElement).currentTime > 0.2, `${first} audio`, { timeout: 15_000 });
    expect(await unlabelledControls(page)).toEqual([]);
    await shots('72-mailbox');
  });

  it('marks a message saved, and deletes one after asking', async () => {
    await page.getByRole('button', { name: 'Mark the message from Lab (2202) saved' }).click();
    await page.getByRole('status').filter({ hasText: 'Message from Lab (2202) marked saved.' }).waitFor();
    expect((await ts.server.store.voicemail.get('2201', ids[0]!))?.folder).toBe('saved');
    expect(await page.locator(`tr[data-message="${ids[0]}"]`).getAttribute('data-folder')).toBe('saved');
    expect(await ts.server.store.voicemail.counts('2201')).toEqual({ new: 1, saved: 1 });

    // Dismissed: nothing happens.
    page.once('dialog', (d) => void d.dismiss());
    await page.getByRole('button', { name: 'Delete the message from +4930123456' }).click();
    expect(await ts.server.store.voicemail.get('2201', ids[1]!)).toBeDefined();
    let asked = '';
    page.once('dialog', (d) => { asked = d.message(); void d.accept(); });
    await page.getByRole('button', { name: 'Delete the message from +4930123456' }).click();
    await page.getByRole('status').filter({ hasText: 'Message from +4930123456 deleted.' }).waitFor();
    expect(asked).toContain('cannot be undone');
    expect(await ts.server.store.voicemail.get('2201', ids[1]!)).toBeUndefined();
    expect(await page.locator('tr[data-message]').count()).toBe(1);
  });

  it('uploads a greeting, plays it, and removes it', async () => {
    expect(await page.locator('[data-greeting]').getAttribute('data-greeting')).toBe('default');
    await page.getByLabel('Upload a WAV file').setInputFiles({ name: 'greeting.wav', mimeType: 'audio/wav', buffer: message(2500) });
    await page.getByRole('button', { name: 'Upload greeting' }).click();
    await page.getByRole('status').filter({ hasText: 'Greeting uploaded' }).waitFor();
    expect(await page.locator('[data-greeting]').getAttribute('data-greeting')).toBe('own');
    expect(await ts.server.store.voicemail.greeting('2201')).toBeDefined();
    expect(await loadedSeconds('audio[aria-label="Play the greeting"]')).toBeCloseTo(2.5, 1);

    // Not a WAV: the server's reason, nothing stored in its place.
    await page.getByLabel('Replace with a WAV file').setInputFiles({ name: 'notes.wav', mimeType: 'audio/wav', buffer: Buffer.from('not a sound file') });
    await page.getByRole('button', { name: 'Upload greeting' }).click();
    await page.getByRole('alert').filter({ hasText: 'not a WAV file' }).waitFor();
    await shots('73-mailbox-greeting');

    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Remove greeting' }).click();
    await page.getByRole('status').filter({ hasText: 'Greeting removed' }).waitFor();
    expect(await ts.server.store.voicemail.greeting('2201')).toBeUndefined();
    expect(await page.locator('[data-greeting]').getAttribute('data-greeting')).toBe('default');
  });

  it("the user form switches the mailbox and the MWI mode, and sets the code without showing it", async () => {
    await page.goto(`${url}/#/users/2202`);
    await heading('User 2202 — Lab');
    expect(await page.getByLabel('Mailbox on').isChecked()).toBe(true);
    await page.getByLabel('Mailbox on').uncheck();
    await page.getByLabel('Message waiting lamp').selectOption('unsolicited');
    await page.getByLabel('Voicemail code').fill('4711');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    expect(await ts.server.store.users.getByExtension('2202')).toMatchObject({ voicemail: false, mwi: 'unsolicited', voicemailCode: '4711' });
    expect(await page.getByLabel('New voicemail code').inputValue()).toBe('');
    expect(await page.content()).not.toContain('4711');
    await page.getByRole('group', { name: 'Voicemail' }).scrollIntoViewIfNeeded();
    await shots('74-user-voicemail');
  });

  it('the extension detail and the status list show message waiting', async () => {
    await ts.server.store.voicemail.deposit('2201', { caller: '2202', callerName: 'Lab', receivedAt: Date.now(), durationMs: 1000 }, message(1000));
    await page.goto(`${url}/#/users/2201/detail`);
    await heading('Extension 2201 — Ward Desk');
    const facts = page.locator('dl.facts');
    await facts.waitFor();
    expect(await facts.innerText()).toMatch(/Message waiting\s+On\s+Number of new messages\s+1 new message \(1 saved · mailbox\)/);
    await shots('75-extension-detail-mwi');

    await page.goto(`${url}/#/status`);
    await heading('System status');
    const cell = page.locator('tr[data-extension="2201"] td[data-label="Messages"]');
    await cell.locator('[data-messages="1"]').waitFor({ timeout: 15_000 });
    expect(await page.locator('tr[data-extension="2202"] td[data-label="Messages"]').innerText()).toBe('—');
    await page.getByText('No conference in progress.').waitFor();
    await page.locator('#conf-h').scrollIntoViewIfNeeded();
    await shots('76-status-conferences');
    expect(problems).toEqual([]);
  });

  it('an operator sees the mailbox and its counts, but no player and no buttons (recordings are personal)', async () => {
    const admin = new ApiClient(url, ts.server.certificates.caCertPem);
    expect((await admin.login('admin', ADMIN_PW)).status).toBe(200);
    expect((await admin.post('/api/admins', { name: 'vm-ops', roles: ['operator'], password: 'Temp-Pass-123-first' })).status).toBe(201);
    await new ApiClient(url, ts.server.certificates.caCertPem).loginChanging('vm-ops', 'Temp-Pass-123-first', 'Ops-Final-Pass-456');
    await page.getByRole('button', { name: 'Log out' }).click();
    await heading('Log in');
    await page.getByLabel('Name').fill('vm-ops');
    await page.getByLabel('Password').fill('Ops-Final-Pass-456');
    await page.getByRole('button', { name: 'Log in' }).click();
    await heading('System status');
    await page.goto(`${url}/#/voicemail/2201`);
    await heading('Mailbox 2201 — Ward Desk');
    await page.locator('tr[data-message]').first().waitFor();
    expect(await page.locator('tr[data-message]').count()).toBe(2);
    await page.getByText('Your role can see the messages but neither hear nor change them.').waitFor();
    // No <audio> asks for a recording the operator may not have (each would be a 403).
    expect(await page.locator('audio').count()).toBe(0);
    expect(await page.getByRole('button', { name: /Delete|Mark|Upload|Remove/ }).count()).toBe(0);
    expect(problems).toEqual([]);
  });
});
