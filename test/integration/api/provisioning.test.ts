// /api/provisioning on a real server: the families the device form offers,
// the URL phones are pointed at (the provisioning server's own port), the
// counts System status shows, the Lync dial plan tool (SPEC §6.2 TV-05) and the handset gateway's users file,
// whose passwords only an administrator gets, audited.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEVICE_FAMILIES } from '../../../src/model/device.ts';
import { accountWith, startWithApi, type ApiClient, type ApiTestServer } from './client.ts';

const TV01 = { name: 'Lisbon 5 digit 2', pattern: '^((8047[0-9])|(8063[0-9]))$', translation: '+3512131$1', isInternalExtension: true };
const TV05 = [TV01, { name: 'Four digit', pattern: '^(\\d{4})$', translation: '+1555$1', isInternalExtension: false }];

describe('/api/provisioning', () => {
  let s: ApiTestServer;
  let operator: ApiClient;

  beforeAll(async () => {
    s = await startWithApi({}, { provisioning: true });
    await s.ts.server.store.users.add({ extension: '3101', password: 'Gw-3101-secret-pw', name: 'Ward 3 handset' });
    await s.ts.server.store.users.add({ extension: '3102', password: 'Gw-3102-secret-pw' });
    operator = await accountWith(s, 'prov-operator', ['operator']);
  });
  afterAll(() => s?.ts.stop());

  it('lists every family with its title, models, lines and options, and where phones are pointed', async () => {
    const r = await operator.get('/api/provisioning');
    expect(r.status, r.text).toBe(200);
    expect(r.json.running).toBe(true);
    expect(r.json.url).toBe(`https://127.0.0.1:${s.ts.server.provisioning!.https.port}/`);
    expect(r.json.httpUrl).toBeNull();
    expect(r.json.families.map((f: { family: string }) => f.family).sort()).toEqual([...DEVICE_FAMILIES].sort());
    const spectralink = r.json.families.find((f: { family: string }) => f.family === 'spectralink-84');
    expect(spectralink.title).toContain('Spectralink');
    expect(spectralink.models).toContain('8441');
    expect(spectralink.maxLines).toBe(1);
    expect(spectralink.options).toContainEqual({ name: 'layout', values: ['flat', 'group', 'user-profiles'], default: 'flat' });
    expect(spectralink.options).toContainEqual({ name: 'lyncIm', values: ['true', 'false'] });
    const yealink = r.json.families.find((f: { family: string }) => f.family === 'yealink-dect');
    expect(yealink.maxLines).toBeGreaterThan(1);
    expect(yealink.options).toEqual([{ name: 'ntp' }]);
  });

  it('counts devices, those that asked in the last day and those failing, for System status', async () => {
    const empty = await operator.get('/api/provisioning/summary');
    expect(empty.json).toEqual({ devices: 0, fetchedLastDay: 0, failing: 0 });
    const { devices } = s.ts.server.store;
    await devices.add({ mac: '0004f2003101', family: 'avaya-b179', extensions: ['3101'] });
    await devices.add({ mac: '0004f2003102', family: 'avaya-b179', extensions: ['3102'] });
    await devices.add({ mac: '0004f2003103', family: 'avaya-b179', extensions: ['3101'] });
    const now = Date.now();
    await devices.recordFetches(new Map([
      ['0004f2003101', { at: now - 1000, file: '/avayab179.xml', status: 200, result: 'served', source: '127.0.0.1' }],
      ['0004f2003102', { at: now - 2 * 86_400_000, file: '/avayab179.xml', status: 401, result: 'refused: wrong password', source: '127.0.0.1' }],
    ]));
    const r = await operator.get('/api/provisioning/summary');
    expect(r.status, r.text).toBe(200);
    expect(r.json).toEqual({ devices: 3, fetchedLastDay: 1, failing: 1 });
    for (const mac of ['0004f2003101', '0004f2003102', '0004f2003103']) await devices.remove(mac);
  });

  it('converts the TV-05 rules, as JSON or as Export-Csv text, to the digit map', async () => {
    const json = await operator.post('/api/provisioning/digitmap', { rules: JSON.stringify(TV05) });
    expect(json.status, json.text).toBe(200);
    expect(json.json.originalDigitMap).toBe('^((8047[0-9])|(8063[0-9]))$@+3512131$1@1|^(\\d{4})$@+1555$1@0');
    expect(json.json.digitMap).toBe('8047x|8063x|xxxx');
    expect(json.json.translations.map((t: { internal: boolean }) => t.internal)).toEqual([true, true, false]);
    expect(json.json.errors).toEqual([]);
    const csv = [
      '#TYPE Microsoft.Rtc.Management.WritableConfig.Policy.Voice.NormalizationRule',
      '"Identity","Priority","Pattern","Translation","Name","IsInternalExtension"',
      '"Global/Four","1","^(\\d{4})$","+1555$1","Four digit","False"',
      '"Global/Lisbon","0","^((8047[0-9])|(8063[0-9]))$","+3512131$1","Lisbon 5 digit 2","True"',
    ].join('\r\n');
    const fromCsv = await operator.post('/api/provisioning/digitmap', { rules: csv, emergencyDialString: '112' });
    expect(fromCsv.status, fromCsv.text).toBe(200);
    expect(fromCsv.json.digitMap).toBe('8047x|8063x|xxxx|112');
  });

  it('names what it cannot convert, and what it cannot read', async () => {
    const plus = await operator.post('/api/provisioning/digitmap', {
      rules: JSON.stringify([{ name: 'plus', pattern: '^\\+(\\d*)$', translation: '+$1', isInternalExtension: false }]),
    });
    expect(plus.status).toBe(200);
    expect(plus.json.digitMap).toBe('');
    expect(plus.json.errors).toHaveLength(1);
    expect(plus.json.errors[0]).toContain('DIALPLANERROR');
    const bad = await operator.post('/api/provisioning/digitmap', { rules: '[{"pattern":"^1$","translation":"1"}]' });
    expect(bad.status).toBe(400);
    expect(bad.json.issues).toEqual([{ path: 'rules', in: 'body', message: 'rule 1: IsInternalExtension must be True or False' }]);
    const huge = await operator.post('/api/provisioning/digitmap', { rules: 'x'.repeat(300 * 1024) });
    expect(huge.status).toBe(413);
  });

  it('writes the gateway users file without passwords unless an administrator asks, and audits that', async () => {
    const plain = await operator.get('/api/provisioning/gateway-users?format=csv');
    expect(plain.status, plain.text).toBe(200);
    expect(plain.headers['content-type']).toMatch(/^text\/csv/);
    expect(plain.headers['content-disposition']).toBe('attachment; filename="gateway-users.csv"');
    expect(plain.text.split('\r\n')[0]).toBe('ipei,accessCode,standbyText,username,domain,displayName,authUser,callForward,disabled,dectToDect,adminRights,extension');
    expect(plain.text).toContain('Ward 3 handset');
    expect(plain.text).not.toContain('Gw-3101-secret-pw');

    const refused = await operator.get('/api/provisioning/gateway-users?passwords=true');
    expect(refused.status).toBe(403);

    const secret = await s.admin.get('/api/provisioning/gateway-users?format=json&passwords=true&ext=3101&domain=dect.example.org');
    expect(secret.status, secret.text).toBe(200);
    expect(secret.json.passwords).toBe(true);
    expect(secret.json.users).toEqual([expect.objectContaining({ username: '3101', authPassword: 'Gw-3101-secret-pw', domain: 'dect.example.org' })]);
    const audit = await s.admin.get('/api/audit?target=gateway-users');
    expect(audit.json.items[0]).toMatchObject({ actor: 'admin', action: 'GET /api/provisioning/gateway-users (with passwords)', after: { exported: 1, withPasswords: true } });
    expect(JSON.stringify(audit.json)).not.toContain('Gw-3101-secret-pw');

    const missing = await s.admin.get('/api/provisioning/gateway-users?ext=3101,3999');
    expect(missing.status).toBe(400);
    expect(missing.json.message).toContain('no user 3999');
  });
});
