import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Directory } from '../../../../src/pbx/directory/directory.ts';
import { decodeUser, encodeUser } from '../../../../src/pbx/directory/user-codec.ts';
import { ha1 } from '../../../../src/sip/digest.ts';
import { silentLogger } from '../../../../src/lib/log.ts';
import type { Store } from '../../../../src/store/index.ts';
import { tempStores } from '../../store/helpers.ts';

let stores: ReturnType<typeof tempStores>;
beforeEach(() => {
  stores = tempStores();
});
afterEach(() => stores.cleanup());

async function started(store: Store): Promise<Directory> {
  const d = new Directory(store.users, silentLogger);
  // A long interval: the tests poll by hand.
  await d.start(60_000);
  return d;
}

describe('user codec', () => {
  it('round-trips a user with defaults, and one with every setting changed', async () => {
    const store = stores.open();
    const plain = await store.users.add({ extension: '100', password: 'secret' });
    const busy = await store.users.add({
      extension: '0101', password: 'pässwörd ☎', name: 'Zoë Ünal 😀', authUser: 'zoe', voicemailCode: '1234',
      callWaiting: false, codecs: ['G722', 'PCMA'], maxCalls: 2, noAnswerTimeoutSec: 30, outboundCalls: true,
      media: { transport: 'tls' }, forwardBusy: '200', dnd: true, dndExceptions: ['300'], pickupGroup: 'sales',
    });
    for (const u of [plain, busy]) expect(decodeUser(u.extension, encodeUser(u))).toEqual(u);
    // Defaults cost nothing: the record of a plain user is short.
    expect(encodeUser(plain).length).toBeLessThan(60);
    expect(Object.isFrozen(decodeUser('100', encodeUser(plain)))).toBe(true);
  });

  it('keeps a field it does not know of', () => {
    const u = { ...decodeUser('7', encodeUser(decodeUser('7', '[1,"",0,"p",null,1,0,0]'))), futureSetting: false };
    expect(decodeUser('7', encodeUser(u as never))).toEqual(u);
  });
});

describe('Directory', () => {
  it('finds users by extension and by auth user, numeric or not, and only by the auth user they have', async () => {
    const store = stores.open();
    await store.users.add({ extension: '100', password: 'a' });
    await store.users.add({ extension: '0100', password: 'b' });
    await store.users.add({ extension: 'alice', password: 'c', authUser: '555' });
    await store.users.add({ extension: '1073741824', password: 'd' });
    const d = await started(store);
    expect(d.size).toBe(4);
    expect(d.byExtension('100')?.password).toBe('a');
    expect(d.byExtension('0100')?.password).toBe('b');
    expect(d.byExtension('1073741824')?.password).toBe('d');
    expect(d.byExtension('101')).toBeUndefined();
    expect(d.byAuthUser('555')?.extension).toBe('alice');
    // alice's extension is not her digest username.
    expect(d.byAuthUser('alice')).toBeUndefined();
    expect(d.byAuthUser('100')?.extension).toBe('100');
    expect(d.byExtension('100')).toEqual(await store.users.getByExtension('100'));
    d.stop();
  });

  it('follows changes: an auth user moving to another user, a password change, a removal', async () => {
    const store = stores.open();
    await store.users.add({ extension: '200', password: 'old', authUser: '100' });
    const d = await started(store);
    const changed: string[] = [];
    d.onUserChanged = (ext, u) => void changed.push(`${ext}:${u ? 'here' : 'gone'}`);
    const realm = 'example.com';
    expect(d.ha1('100', realm, 'MD5')).toBe(ha1('100', realm, 'old', 'MD5'));
    await store.users.update('200', { authUser: 'x200', password: 'new' });
    await store.users.add({ extension: '100', password: 'mine' });
    await d.poll();
    expect(d.byAuthUser('100')?.extension).toBe('100');
    expect(d.ha1('100', realm, 'MD5')).toBe(ha1('100', realm, 'mine', 'MD5'));
    expect(d.ha1('x200', realm, 'SHA-256')).toBe(ha1('x200', realm, 'new', 'SHA-256'));
    await store.users.update('100', { enabled: false });
    await store.users.remove('200');
    await d.poll();
    expect(d.ha1('100', realm, 'MD5')).toBeUndefined();
    expect(d.byExtension('100')?.enabled).toBe(false);
    expect(d.byExtension('200')).toBeUndefined();
    expect(d.byAuthUser('x200')).toBeUndefined();
    expect(changed).toEqual(['200:here', '100:here', '100:here', '200:gone']);
    d.stop();
  });

  it('reloads page by page when the change log was trimmed past it, serving the old users meanwhile', async () => {
    let turns = 0;
    const store = stores.open({ changeLogKeep: 10 });
    await store.users.importCsv(['extension,password,authUser', ...Array.from({ length: 2500 }, (_, i) => `${5000 + i},pw${i},${i === 7 ? 'auth7' : 5000 + i}`)].join('\n'));
    // The turn of the event loop each page was read in.
    const pageTurns: number[] = [];
    const users = new Proxy(store.users, {
      get: (target, prop, receiver) => prop === 'afterId'
        ? (id: number, limit: number) => (pageTurns.push(turns), target.afterId(id, limit))
        : Reflect.get(target, prop, receiver),
    });
    const d = new Directory(users, silentLogger);
    await d.start(60_000);
    expect(d.size).toBe(2500);
    const realm = 'example.com';
    // Another process makes more changes than the log keeps: the directory cannot follow them one by one.
    const other = stores.open({ changeLogKeep: 10 });
    for (let i = 0; i < 20; i++) await other.users.update(String(5000 + i), { password: `changed${i}` });
    await other.users.remove('5100');
    await other.users.add({ extension: '9999', password: 'new' });
    let served = true;
    let counting = true;
    const count = (): void => {
      if (!counting) return;
      turns++;
      // Between two pages the old users still answer.
      served &&= d.byExtension('5100') !== undefined;
      setImmediate(count);
    };
    setImmediate(count);
    await d.poll();
    counting = false;
    // Three pages (1,000 users each), the event loop turning between them.
    expect(pageTurns).toHaveLength(3);
    expect(pageTurns[1]!).toBeGreaterThan(pageTurns[0]!);
    expect(pageTurns[2]!).toBeGreaterThan(pageTurns[1]!);
    expect(served).toBe(true);
    expect(d.size).toBe(2500);
    expect(d.byExtension('5100')).toBeUndefined();
    expect(d.byExtension('9999')?.password).toBe('new');
    expect(d.ha1('5003', realm, 'MD5')).toBe(ha1('5003', realm, 'changed3', 'MD5'));
    expect(d.byAuthUser('auth7')?.extension).toBe('5007');
    d.stop();
  });

  it('answers right for more users than its caches hold', async () => {
    const store = stores.open();
    await store.users.importCsv(['extension,name,password', ...Array.from({ length: 5000 }, (_, i) => `${1000 + i},U${i},p${i}`)].join('\n'));
    const d = await started(store);
    for (let i = 0; i < 5000; i += 7) {
      const ext = String(1000 + i);
      expect(d.byExtension(ext)?.name).toBe(`U${i}`);
      expect(d.ha1(ext, 'r', 'MD5')).toBe(ha1(ext, 'r', `p${i}`, 'MD5'));
    }
    d.stop();
  });
});
