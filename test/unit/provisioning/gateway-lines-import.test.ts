// Reading a users file into gateway lines (B-16, Appendix A #14) on a real
// SQLite store: record numbers around bad rows, kept and missing passwords, a
// trusted server's lines without one, and a dry run that keeps nothing.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { importGatewayLines } from '../../../src/provisioning/gateway-lines-import.ts';
import { GatewayUsersError, gatewayUsersToCsv, gatewayUsersToJson } from '../../../src/provisioning/gateway-users.ts';
import { gatewayUsersFromStore } from '../../../src/provisioning/gateway-users-source.ts';
import type { SqliteStore } from '../../../src/store/index.ts';
import { tempStores } from '../store/helpers.ts';

let t: ReturnType<typeof tempStores>;
let store: SqliteStore;
beforeEach(async () => {
  t = tempStores();
  store = t.open();
  for (const ext of ['1001', '1002', '1003']) await store.users.add({ extension: ext, password: 'p', name: `User ${ext}` });
  await store.gateway.setLine({ extension: '1001', upstreamUser: 'old', password: 'Stored-1' });
});
afterEach(() => t.cleanup());

const FILE = [
  'extension;username;authPassword;ipei;disabled',
  '1001;41510;;05003 0733588;no',
  '1002;41511;;bad;no',
  '',
  '1002;41512;;;no',
  '1003;41513;New-3;;yes',
].join('\r\n');

describe('importGatewayLines', () => {
  it('numbers rows by CSV record (header 1, empty lines skipped), keeps a stored password, disables a new line without one', async () => {
    const r = await importGatewayLines(store, FILE);
    expect(r).toMatchObject({ dryRun: false, added: 2, updated: 1, errors: 1 });
    expect(r.rows.map((x) => [x.row, x.extension, x.action, x.passwordKept ?? false, x.needsPassword ?? false])).toEqual([
      [2, '1001', 'updated', true, false], [3, '41511', 'error', false, false], [4, '1002', 'added', false, true], [5, '1003', 'added', false, false],
    ]);
    expect(r.rows[1]!.error).toContain('IPEI');
    const lines = await store.gateway.linesWithSecrets();
    expect(lines.map((l) => [l.extension, l.upstreamUser, l.password, l.ipei, l.disabled])).toEqual([
      ['1001', '41510', 'Stored-1', '05003 0733588', false], ['1002', '41512', '', null, true], ['1003', '41513', 'New-3', null, true],
    ]);
  });

  it('leaves a trusted server\'s new lines enabled without a password (D-06: no digest credentials)', async () => {
    await store.gateway.updateSettings({ trustedServer: true });
    const r = await importGatewayLines(store, FILE);
    expect(r.rows.find((x) => x.extension === '1002')).toEqual({ row: 4, extension: '1002', action: 'added' });
    expect((await store.gateway.getLine('1002'))!.disabled).toBe(false);
  });

  it('dry run: the same report, nothing kept; an unusable file is refused whole', async () => {
    const dry = await importGatewayLines(store, FILE, { dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, added: 2, updated: 1, errors: 1 });
    expect((await store.gateway.listLines()).map((l) => [l.extension, l.upstreamUser])).toEqual([['1001', 'old']]);
    await expect(importGatewayLines(store, 'colour\r\nred')).rejects.toThrow(GatewayUsersError);
  });

  it('round trip: callForward is the user\'s unconditional forward; export, clear, import gives the same file (CSV and JSON)', async () => {
    await store.users.update('1001', { forwardUnconditional: '+4930123' });
    await store.gateway.setLine({ extension: '1002', upstreamUser: '41511', password: 'Stored-2', ipei: '05003 0733588', standbyText: 'Ward 3' });
    for (const [write, name] of [[gatewayUsersToCsv, 'csv'], [gatewayUsersToJson, 'json']] as const) {
      const before = write(await gatewayUsersFromStore(store), true);
      expect(before, name).toContain('+4930123');
      for (const l of await store.gateway.listLines()) await store.gateway.removeLine(l.extension);
      await store.users.update('1001', { forwardUnconditional: null });
      const r = await importGatewayLines(store, before);
      expect(r, name).toMatchObject({ errors: 0, warnings: [] });
      expect(write(await gatewayUsersFromStore(store), true), name).toBe(before);
      expect((await store.users.getByExtension('1001'))!.forwardUnconditional).toBe('+4930123');
    }
  });

  it('an empty callForward clears the forward; a file without the column leaves it', async () => {
    await store.users.update('1001', { forwardUnconditional: '2000' });
    await importGatewayLines(store, 'extension,username\r\n1001,41510');
    expect((await store.users.getByExtension('1001'))!.forwardUnconditional).toBe('2000');
    await importGatewayLines(store, 'extension,username,callForward\r\n1001,41510,');
    expect((await store.users.getByExtension('1001'))!.forwardUnconditional).toBeNull();
    const dry = await importGatewayLines(store, 'extension,username,callForward\r\n1001,41510,3000', { dryRun: true });
    expect(dry.errors).toBe(0);
    expect((await store.users.getByExtension('1001'))!.forwardUnconditional).toBeNull();
  });

  it('dectToDect and adminRights, which Switchboard does not hold, draw one warning per column naming the records', async () => {
    const file = [
      'extension,username,dectToDect,adminRights',
      '1001,41510,yes,yes', '1002,41511,yes,no', '1003,41513,no,no',
    ].join('\r\n');
    const r = await importGatewayLines(store, file);
    expect(r.errors).toBe(0);
    expect(r.warnings).toHaveLength(2);
    expect(r.warnings[0]).toMatch(/^dectToDect is set for 2 record\(s\) \(1001, 1002\) and was not imported: /);
    expect(r.warnings[1]).toMatch(/^adminRights is set for 1 record\(s\) \(1001\) and was not imported: /);
    expect((await importGatewayLines(store, 'extension,username,dectToDect\r\n1003,41513,no')).warnings).toEqual([]);
  });
});
