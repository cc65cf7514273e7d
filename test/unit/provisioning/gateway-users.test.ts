// The handset gateway's users file (§5.8, B-16, Appendix A #14): golden
// CSV/JSON with and without passwords, round trips, the formula guard, and
// what an import does with stripped passwords.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  gatewayUserOf, gatewayUsersToCsv, gatewayUsersToJson, GatewayUsersError, MAX_GATEWAY_USERS, parseGatewayUsers,
  withStoredPasswords, type GatewayUser, type GatewayUserSource,
} from '../../../src/provisioning/gateway-users.ts';
import { expectGolden } from './golden.ts';

const SOURCES: GatewayUserSource[] = [
  { extension: '1001', name: 'Ward 3 nurse', authUser: '1001', password: 'Secret-1001-pw', enabled: true, forwardUnconditional: null },
  { extension: '1002', name: '', authUser: 'desk1002', password: '=1+2;"quoted"', enabled: false, forwardUnconditional: '2000' },
  { extension: 'jim.kander', name: '@Jim, "the" Kander', authUser: 'jim.kander', password: 'p, w', enabled: true, forwardUnconditional: '+4930123' },
];
const USERS = SOURCES.map((s) => gatewayUserOf(s, 'example.com'));
const stripped = (u: GatewayUser): GatewayUser => ({ ...u, authPassword: null });

describe('gateway users file', () => {
  it('is written from Switchboard users: fields it does not hold stay empty', () => {
    expect(gatewayUserOf(SOURCES[1]!)).toEqual({
      ipei: '', accessCode: '', standbyText: '1002', username: '1002', domain: '', displayName: '', authUser: 'desk1002',
      authPassword: '=1+2;"quoted"', callForward: '2000', disabled: true, dectToDect: false, adminRights: false, extension: '1002',
    });
    expect(gatewayUserOf(SOURCES[0]!).standbyText).toBe('Ward 3 nurse');
  });

  it("is written from the user's gateway line when it has one: the upstream account and the handset fields", () => {
    const line = {
      upstreamUser: '41510', upstreamDomain: '', authUser: 'auth41510', password: 'Up-Secret', displayName: '',
      ipei: '05003 0733588', accessCode: '1234', standbyText: '', disabled: true,
    };
    expect(gatewayUserOf(SOURCES[0]!, 'example.com', line)).toEqual({
      ipei: '05003 0733588', accessCode: '1234', standbyText: 'Ward 3 nurse', username: '41510', domain: 'example.com',
      displayName: 'Ward 3 nurse', authUser: 'auth41510', authPassword: 'Up-Secret', callForward: '', disabled: true,
      dectToDect: false, adminRights: false, extension: '1001',
    });
    const own = gatewayUserOf(SOURCES[0]!, '', { ...line, upstreamDomain: 'pbx.example.com', password: '', standbyText: 'Lobby', displayName: 'Desk' });
    expect(own).toMatchObject({ domain: 'pbx.example.com', authPassword: null, standbyText: 'Lobby', displayName: 'Desk' });
  });

  it('refuses an unguarded formula cell on reading, in free text too; a guarded one is text', () => {
    const r = parseGatewayUsers([
      'username,displayName,standbyText,extension',
      "1001,'=1+2,x,",
      '1002,=1+2,x,',
      '1003,x,+cmd,',
      '1004,@SUM(A1),x,',
      '1005,-2,x,',
    ].join('\r\n'));
    expect(r.users.map((u) => [u.username, u.displayName])).toEqual([['1001', '=1+2']]);
    expect(r.errors.map((e) => [e.row, e.message.replace(/ \(.*/, '')])).toEqual([
      [3, 'displayName: a spreadsheet formula is not allowed'], [4, 'standbyText: a spreadsheet formula is not allowed'],
      [5, 'displayName: a spreadsheet formula is not allowed'], [6, 'displayName: a spreadsheet formula is not allowed'],
    ]);
  });

  it('CSV without passwords (the default): golden, no password anywhere', () => {
    const csv = gatewayUsersToCsv(USERS, false);
    expectGolden('gateway-users/users.csv', csv);
    expect(csv).not.toContain('authPassword');
    for (const s of SOURCES) expect(csv).not.toContain(s.password);
  });

  it('CSV with passwords: golden, formula cells guarded', () => {
    const csv = gatewayUsersToCsv(USERS, true);
    expectGolden('gateway-users/users-with-passwords.csv', csv);
    expect(csv).toContain("'=1+2");
    expect(csv).toContain("'@Jim");
  });

  it('JSON without and with passwords: golden', () => {
    const json = gatewayUsersToJson(USERS, false);
    expectGolden('gateway-users/users.json', json);
    expect(json).not.toContain('authPassword');
    expectGolden('gateway-users/users-with-passwords.json', gatewayUsersToJson(USERS, true));
  });

  it('round-trips: with passwords as written, without them as stripped records', () => {
    for (const write of [gatewayUsersToCsv, gatewayUsersToJson]) {
      expect(parseGatewayUsers(write(USERS, true))).toEqual({ users: USERS, errors: [] });
      expect(parseGatewayUsers(write(USERS, false))).toEqual({ users: USERS.map(stripped), errors: [] });
    }
  });

  it('round-trips any valid record through CSV and JSON (property)', () => {
    const text = (max: number) => fc.string({ maxLength: max }).filter((s) => !/[\x00-\x1f\x7f]/.test(s) && s.trim() === s);
    const ext = fc.stringMatching(/^[1-9][0-9]{0,5}$/);
    const user = fc.record({
      ipei: fc.oneof(fc.constant(''), fc.stringMatching(/^\d{5} \d{7}$/)),
      accessCode: fc.stringMatching(/^\d{0,8}$/),
      standbyText: text(20),
      username: ext,
      domain: fc.constantFrom('', 'example.com', '10.64.102.90'),
      displayName: text(20),
      authUser: fc.oneof(fc.constant(''), fc.stringMatching(/^[a-z0-9.]{1,12}$/)),
      authPassword: fc.oneof(fc.constant(null), text(20).filter((s) => s !== '')),
      callForward: fc.oneof(fc.constant(''), ext),
      disabled: fc.boolean(),
      dectToDect: fc.boolean(),
      adminRights: fc.boolean(),
      extension: fc.constant(''),
    });
    fc.assert(fc.property(fc.uniqueArray(user, { selector: (u) => u.username, maxLength: 5 }), (users) => {
      for (const write of [gatewayUsersToCsv, gatewayUsersToJson]) {
        expect(parseGatewayUsers(write(users, true))).toEqual({ users, errors: [] });
      }
    }), { numRuns: 200 });
  });

  it('reads IPEIs with or without the space, semicolon files, and reports bad rows by number', () => {
    const csv = [
      'username;ipei;accessCode;disabled',
      '1001;050030733588;1234;no',
      '=cmd|x;05003 0733588;;',
      '1003;0500;;',
      '1004;;12a;',
      '1005;;;maybe',
      '1001;;;',
    ].join('\r\n');
    const r = parseGatewayUsers(csv);
    expect(r.users.map((u) => [u.username, u.ipei, u.accessCode, u.disabled])).toEqual([['1001', '05003 0733588', '1234', false]]);
    expect(r.errors.map((e) => [e.row, e.username])).toEqual([[3, '=cmd|x'], [4, '1003'], [5, '1004'], [6, '1005'], [7, '1001']]);
    expect(r.errors[0]!.message).toContain('username');
    expect(r.errors[1]!.message).toContain('IPEI');
    expect(r.errors[3]!.message).toContain('disabled: must be true or false');
    expect(r.errors[4]!.message).toContain('appears twice');
  });

  it('takes a hand-written JSON list: left-out fields empty, an empty password and a left-out callForward as not given', () => {
    const r = parseGatewayUsers('[{"username": "1001", "authPassword": ""}, {"username": "1002", "dectToDect": true}, 7]');
    expect(r.users).toEqual([
      { ipei: '', accessCode: '', standbyText: '', username: '1001', domain: '', displayName: '', authUser: '', authPassword: null, callForward: null, disabled: false, dectToDect: false, adminRights: false, extension: '' },
      { ipei: '', accessCode: '', standbyText: '', username: '1002', domain: '', displayName: '', authUser: '', authPassword: null, callForward: null, disabled: false, dectToDect: true, adminRights: false, extension: '' },
    ]);
    expect(r.errors.map((e) => e.row)).toEqual([3]);
  });

  it('refuses unusable files as a whole', () => {
    expect(() => parseGatewayUsers('')).toThrow(GatewayUsersError);
    expect(() => parseGatewayUsers('ipei,colour\r\n1,2')).toThrow('unknown column "colour"');
    expect(() => parseGatewayUsers('ipei,displayName\r\n,x')).toThrow('must name the column username');
    expect(() => parseGatewayUsers('{"users": 3}')).toThrow('"users" list');
    expect(() => parseGatewayUsers('{"users": [')).toThrow('not a JSON file');
    const many = ['username', ...Array.from({ length: MAX_GATEWAY_USERS + 1 }, (_, i) => String(1000 + i))].join('\n');
    expect(() => parseGatewayUsers(many)).toThrow(`at most ${MAX_GATEWAY_USERS}`);
  });

  it('import of a stripped file keeps stored passwords; new users without one start disabled and are reported (Appendix A #14)', () => {
    const file = parseGatewayUsers(gatewayUsersToCsv([...USERS, gatewayUserOf({ ...SOURCES[0]!, extension: '1009' })], false));
    const stored = new Map([['1001', 'Stored-1001'], ['1002', 'Stored-1002']]);
    const plan = withStoredPasswords(file.users, (u) => stored.get(u));
    expect(plan.kept).toEqual(['1001', '1002']);
    expect(plan.needPassword).toEqual(['jim.kander', '1009']);
    expect(plan.users.map((u) => [u.username, u.authPassword, u.disabled])).toEqual([
      ['1001', 'Stored-1001', false], ['1002', 'Stored-1002', true], ['jim.kander', null, true], ['1009', null, true],
    ]);
    const full = withStoredPasswords(parseGatewayUsers(gatewayUsersToJson(USERS, true)).users, (u) => stored.get(u));
    expect(full).toEqual({ users: USERS, kept: [], needPassword: [] });
  });
});
