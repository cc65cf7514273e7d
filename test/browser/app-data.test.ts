// The IVR menu, conference room and audio pages in Debian's chromium against
// a real server: a WAV uploaded and chosen as music on hold; a menu built key
// by key that greets with it, refused beside the number when that is a
// user's; a room with a PIN that the page never shows again; a file in use
// refused for removal with the reason. Screenshots land in test/browser/artifacts/.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../integration/lib/server.ts';
import { wavFile } from '../lib/wav-file.ts';
import { launch, pageTools, shot, unlabelledControls, type Browser } from './lib/browser.ts';

let ts: TestServer;
let browser: Browser;
let page: Page;
const problems: string[] = [];
const { tab, firstLogin } = pageTools(() => page);
const MEDIA = 'Media server: voicemail, IVR menus, conference rooms, audio';
const media = (label: string) => tab(MEDIA, 'Media server pages', label, label);

beforeAll(async () => {
  ts = await startTestServer({ http: true });
  await ts.server.store.users.add({ extension: '2101', password: 'pw-2101-Desk', name: 'Reception' });
  browser = await launch({ caPem: ts.server.certificates.caCertPem });
  page = await browser.context.newPage();
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    // The 400 and 409s this test provokes on purpose, and the 401 before the login, are logged by chromium as failed loads; nothing else may be.
    if (m.type() === 'error' && !/status of 40[019] /.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  await firstLogin(ts.server.http!.url, ts.server.takeInitialAdminPassword()!, 'Menus-Rooms-Audio-37q');
});

afterAll(async () => {
  await browser?.close();
  await ts?.stop();
});

describe('IVR menus, conference rooms and audio in the web UI', () => {
  it('uploads a greeting and hold music, and chooses the music on hold', async () => {
    await media('Audio & music on hold');
    await page.getByText('No audio files.').waitFor();
    await page.getByLabel('WAV file').setInputFiles({ name: 'welcome.wav', mimeType: 'audio/wav', buffer: Buffer.from(wavFile(new Uint8Array(8000))) });
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.locator('tr[data-audio="welcome"]').waitFor();
    expect(await page.locator('tr[data-audio="welcome"]').innerText()).toMatch(/welcome\s+prompt\s+1\.0 s/);

    await page.getByLabel('WAV file').setInputFiles({ name: 'notes.wav', mimeType: 'audio/wav', buffer: Buffer.from('not a sound file') });
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.getByRole('alert').filter({ hasText: 'not a WAV file (no RIFF/WAVE header)' }).first().waitFor();

    await page.getByLabel('WAV file').setInputFiles({ name: 'Hold Music.wav', mimeType: 'audio/wav', buffer: Buffer.from(wavFile(new Uint8Array(16000))) });
    await page.getByLabel('Use').selectOption('moh');
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.locator('tr[data-audio="Hold-Music"]').waitFor();
    await page.getByLabel('Play', { exact: true }).selectOption('Hold-Music');
    await page.getByRole('button', { name: 'Save music on hold' }).click();
    await page.getByRole('status').filter({ hasText: 'Music on hold: Hold-Music.' }).waitFor();
    expect(await ts.server.store.audioFiles.moh()).toBe('Hold-Music');
    expect(await unlabelledControls(page)).toEqual([]);
    await shot(page, '61-audio');
  });

  it('builds a menu key by key, refuses a user\'s number beside the field, and lists it', async () => {
    await media('IVR menus');
    await page.getByRole('link', { name: 'Add IVR menu' }).click();
    await page.getByRole('heading', { name: 'Add IVR menu' }).waitFor();
    await page.getByLabel('Number', { exact: true }).fill('2101');
    await page.getByLabel('Name', { exact: true }).fill('Main');
    await page.getByLabel('Greeting').selectOption('welcome');
    await page.getByLabel('Key 1', { exact: true }).selectOption('extension');
    await page.getByLabel('Key 1: number').fill('2101');
    await page.getByLabel('Key #', { exact: true }).selectOption('hangup');
    expect(await unlabelledControls(page)).toEqual([]);
    await page.getByRole('button', { name: 'Add menu' }).click();
    const error = page.locator('#ivr-number-error');
    await error.waitFor();
    expect(await error.innerText()).toContain('2101 is the extension of a user');

    await page.getByLabel('Number', { exact: true }).fill('8100');
    await page.getByRole('button', { name: 'Add menu' }).click();
    await page.getByRole('status').filter({ hasText: 'IVR menu 8100 saved.' }).waitFor();
    expect(await page.locator('tr[data-menu="8100"]').innerText()).toMatch(/Main\s+welcome[\s\S]*1 Ring extension 2101[\s\S]*# Hang up/);
    expect(await ts.server.store.ivrMenus.get('8100')).toMatchObject({
      greeting: 'welcome', options: { 1: { type: 'extension', target: '2101' }, '#': { type: 'hangup' } }, onTimeout: { type: 'repeat' },
    });
    await shot(page, '62-ivr-menus');

    // The editor shows the stored menu.
    await page.getByRole('link', { name: 'Menu 8100' }).click();
    await page.getByRole('heading', { name: 'IVR menu 8100 — Main' }).waitFor();
    expect(await page.getByLabel('Key 1: number').inputValue()).toBe('2101');
    await page.getByRole('link', { name: 'Cancel' }).click();
  });

  it('adds a room with a PIN it never shows again', async () => {
    await media('Conference rooms');
    await page.getByRole('link', { name: 'Add room' }).click();
    await page.getByLabel('Number', { exact: true }).fill('8200');
    await page.getByLabel('Name', { exact: true }).fill('Board');
    await page.getByLabel('PIN', { exact: true }).fill('4711');
    await page.getByLabel('Participants at most').fill('20');
    await page.getByRole('button', { name: 'Add room' }).click();
    await page.getByRole('status').filter({ hasText: 'Conference room 8200 saved.' }).waitFor();
    expect(await page.locator('tr[data-room="8200"]').innerText()).toMatch(/8200\s+Board\s+set\s+20\s+on/);
    expect(await ts.server.store.conferenceRooms.get('8200')).toMatchObject({ pin: '4711', maxParticipants: 20 });
    await page.getByRole('link', { name: 'Room 8200' }).click();
    expect(await page.getByLabel('New PIN').inputValue()).toBe('');
    expect(await page.content()).not.toContain('4711');
  });

  it('refuses to remove a file in use, saying who uses it', async () => {
    await media('Audio & music on hold');
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Remove audio file welcome' }).click();
    await page.getByRole('alert').filter({ hasText: 'welcome is the greeting of IVR menu 8100' }).waitFor();
    expect(await ts.server.store.audioFiles.get('welcome')).toBeDefined();
    expect(problems).toEqual([]);
  });
});
