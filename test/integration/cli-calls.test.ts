// The call-related commands as scripts use them: real CLI processes on a real
// data directory (user set, trunk, did, calls).
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { openStore, type CdrInput } from '../../src/store/index.ts';
import { tempDataDir } from './lib/server.ts';

const BIN = new URL('../../bin/switchboard.mjs', import.meta.url).pathname;
/** Per test: a dozen CLI processes at about a second of start-up CPU each, on a loaded CI machine. */
const SLOW = 120_000;

interface Run { code: number | null; stdout: string; stderr: string }

/** One CLI process; asynchronous so independent cases run side by side. */
function cli(...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 25_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Each CLI process spends about a second of CPU starting up: a few at a time, not all at once. */
async function cliAll(argLists: string[][], parallel = 3): Promise<Run[]> {
  const runs: Run[] = new Array(argLists.length);
  let next = 0;
  const worker = async () => {
    while (next < argLists.length) {
      const i = next++;
      runs[i] = await cli(...argLists[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, argLists.length) }, worker));
  return runs;
}

/** Every case fails with exit 2 and one line on stderr that names `mention`. */
async function expectRefused(cases: [string[], string][]): Promise<void> {
  const runs = await cliAll(cases.map(([args]) => args));
  runs.forEach((r, i) => {
    const [args, mention] = cases[i]!;
    expect({ args, code: r.code, stdout: r.stdout }).toEqual({ args, code: 2, stdout: '' });
    const lines = r.stderr.trim().split('\n');
    expect({ args, lines: lines.length }).toEqual({ args, lines: 1 });
    expect(lines[0]).toContain(mention);
  });
}

describe('user set', { timeout: SLOW }, () => {
  const dir = tempDataDir();
  const d = ['--data-dir', dir];

  it('changes call settings, resets them with "default", and refuses bad values naming the option', async () => {
    expect((await cli('user', 'add', '--ext', '1001', '--password', 'Str0ng-Desk-Pw', ...d)).code).toBe(0);
    const set = await cli('user', 'set', '--ext', '1001', '--call-waiting', 'off', '--codecs', 'pcma,G722', '--max-calls', '3',
      '--no-answer-timeout', '25', '--outbound', 'on', '--name', 'Ward 4', '--enabled', 'off', ...d);
    expect(set).toMatchObject({ code: 0, stdout: 'updated 1001\n', stderr: '' });
    let [u] = JSON.parse((await cli('user', 'list', '--json', ...d)).stdout) as Record<string, unknown>[];
    expect(u).toMatchObject({
      extension: '1001', callWaiting: false, codecs: ['PCMA', 'G722'], maxCalls: 3, noAnswerTimeoutSec: 25,
      outboundCalls: true, name: 'Ward 4', enabled: false,
    });

    const reset = await cli('user', 'set', '--ext', '1001', '--codecs', 'default', '--max-calls', 'default',
      '--no-answer-timeout', 'default', '--outbound', 'off', '--name', 'ward4', '--password', 'New-Desk-Pw-9', ...d);
    expect(reset.code).toBe(0);
    [u] = JSON.parse((await cli('user', 'list', '--json', ...d)).stdout) as Record<string, unknown>[];
    expect(u).toMatchObject({ codecs: null, maxCalls: null, noAnswerTimeoutSec: null, outboundCalls: false, name: 'ward4', callWaiting: false });
    const store = openStore(dir);
    try {
      expect((await store.users.getByExtension('1001'))!.password).toBe('New-Desk-Pw-9');
    } finally {
      await store.close();
    }

    await expectRefused([
      [['user', 'set', '--ext', '1001', '--call-waiting', 'maybe', ...d], '--call-waiting'],
      [['user', 'set', '--ext', '1001', '--codecs', 'opus', ...d], '--codecs'],
      [['user', 'set', '--ext', '1001', '--codecs', 'PCMU,pcmu', ...d], '--codecs'],
      [['user', 'set', '--ext', '1001', '--max-calls', '0', ...d], '--max-calls'],
      [['user', 'set', '--ext', '1001', '--no-answer-timeout', '4', ...d], '--no-answer-timeout'],
      [['user', 'set', '--ext', '1001', '--outbound', 'yes', ...d], '--outbound'],
      [['user', 'set', '--ext', '1001', '--password', '', ...d], '--password'],
      [['user', 'set', '--ext', '1001', ...d], 'at least one'],
      [['user', 'set', '--ext', '4040', '--max-calls', '2', ...d], '4040'],
    ]);
    [u] = JSON.parse((await cli('user', 'list', '--json', ...d)).stdout) as Record<string, unknown>[];
    expect(u).toMatchObject({ codecs: null, maxCalls: null, outboundCalls: false, enabled: false });
  });
});

describe('trunk and did', { timeout: SLOW }, () => {
  const dir = tempDataDir();
  const d = ['--data-dir', dir];

  it('adds, lists (without credentials) and removes trunks', async () => {
    const add = await cli('trunk', 'add', '--name', 'pstn', '--host', '192.0.2.50', '--port', '5080', '--transport', 'udp',
      '--register-user', 'acct42', '--register-password', 'TrunkSecret-9', '--prefix', '9', '--strip', '1', '--add-prefix', '+49', ...d);
    expect(add).toMatchObject({ code: 0, stdout: 'added trunk pstn\n' });
    const tls = await cli('trunk', 'add', '--name', 'itsp', '--host', 'sip.example.com', '--transport', 'tls',
      '--outbound-proxy', 'proxy.example.com:5071', ...d);
    expect(tls.code).toBe(0);

    const json = await cli('trunk', 'list', '--json', ...d);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([
      { name: 'itsp', host: 'sip.example.com', port: 5061, transport: 'tls', register: false, outboundProxy: 'proxy.example.com:5071', prefix: '', strip: 0, addPrefix: '', fallbackTrunk: null, probeIntervalSec: null, enabled: true },
      { name: 'pstn', host: '192.0.2.50', port: 5080, transport: 'udp', register: true, outboundProxy: null, prefix: '9', strip: 1, addPrefix: '+49', fallbackTrunk: null, probeIntervalSec: null, enabled: true },
    ]);
    const text = await cli('trunk', 'list', ...d);
    const lines = text.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^pstn\t192\.0\.2\.50:5080\/udp\t.*prefix=9.*strip=1.*register=yes/);
    expect(lines[0]).toMatch(/^itsp\t.*register=no/);
    for (const out of [json.stdout, text.stdout]) {
      expect(out).not.toContain('TrunkSecret-9');
      expect(out).not.toContain('acct42');
    }

    // A fallback: set, shown, refused when it names no trunk, cleared with 'none'.
    expect(await cli('trunk', 'set', '--name', 'pstn', '--fallback', 'itsp', ...d)).toMatchObject({ code: 0, stdout: 'trunk pstn: fallback itsp, probe default\n' });
    expect((await cli('trunk', 'list', ...d)).stdout).toMatch(/^pstn\t.*fallback=itsp\tprobe=default/m);
    // Its own probe period, or none for a peer that ignores OPTIONS; the fallback stays.
    expect(await cli('trunk', 'set', '--name', 'pstn', '--probe-interval', 'off', ...d)).toMatchObject({ code: 0, stdout: 'trunk pstn: fallback itsp, probe off\n' });
    expect(await cli('trunk', 'set', '--name', 'pstn', '--probe-interval', '10', ...d)).toMatchObject({ code: 0, stdout: 'trunk pstn: fallback itsp, probe 10s\n' });
    expect((await cli('trunk', 'set', '--name', 'pstn', '--probe-interval', '2', ...d)).code).toBe(2);
    expect(await cli('trunk', 'set', '--name', 'pstn', '--probe-interval', 'default', ...d)).toMatchObject({ code: 0, stdout: 'trunk pstn: fallback itsp, probe default\n' });
    const missing = await cli('trunk', 'set', '--name', 'pstn', '--fallback', 'nosuch', ...d);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--fallback');
    expect(await cli('trunk', 'set', '--name', 'pstn', '--fallback', 'none', ...d)).toMatchObject({ code: 0, stdout: 'trunk pstn: fallback none, probe default\n' });

    expect(await cli('trunk', 'remove', '--name', 'itsp', ...d)).toMatchObject({ code: 0, stdout: 'removed trunk itsp\n' });
    expect(JSON.parse((await cli('trunk', 'list', '--json', ...d)).stdout).map((t: { name: string }) => t.name)).toEqual(['pstn']);
  });

  it('refuses bad trunk input with exit 2 and one line naming the option', async () => {
    await cli('trunk', 'add', '--name', 'taken', '--host', 'h.example', '--prefix', '7', ...d);
    const add = (...a: string[]) => ['trunk', 'add', ...a, ...d];
    await expectRefused([
      [add('--name', 'bad name', '--host', 'h'), '--name'],
      [add('--name', 'x', '--host', 'bad host'), '--host'],
      [add('--name', 'x', '--host', 'h', '--port', '70000'), '--port'],
      [add('--name', 'x', '--host', 'h', '--transport', 'sctp'), '--transport'],
      [add('--name', 'x', '--host', 'h', '--register-user', 'u'), '--register-password'],
      [add('--name', 'x', '--host', 'h', '--outbound-proxy', 'nohost'), '--outbound-proxy'],
      [add('--name', 'x', '--host', 'h', '--prefix', '9a'), '--prefix'],
      [add('--name', 'x', '--host', 'h', '--strip', '33'), '--strip'],
      [add('--name', 'x', '--host', 'h', '--add-prefix', '*1'), '--add-prefix'],
      [add('--name', 'taken', '--host', 'h', '--prefix', '6'), 'taken'],
      [add('--name', 'x', '--host', 'h', '--prefix', '7'), 'prefix 7'],
      [add('--host', 'h'), '--name'],
      [['trunk', 'remove', '--name', 'nope', ...d], 'nope'],
    ]);
  });

  it('adds, lists and removes DIDs; refuses unknown extensions and bad numbers', async () => {
    expect((await cli('user', 'add', '--ext', '2001', '--password', 'Str0ng-Desk-Pw', ...d)).code).toBe(0);
    expect(await cli('did', 'add', '--number', '+4930555', '--ext', '2001', ...d)).toMatchObject({ code: 0, stdout: 'added DID +4930555 -> 2001\n' });
    expect((await cli('did', 'add', '--number', '555', '--ext', '2001', ...d)).code).toBe(0);
    expect(JSON.parse((await cli('did', 'list', '--json', ...d)).stdout)).toEqual([
      { number: '555', extension: '2001' }, { number: '+4930555', extension: '2001' },
    ]);
    expect((await cli('did', 'list', ...d)).stdout).toBe('555\t2001\n+4930555\t2001\n');
    await expectRefused([
      [['did', 'add', '--number', '777', '--ext', '9999', ...d], '--ext'],
      [['did', 'add', '--number', '12ab', '--ext', '2001', ...d], '--number'],
      [['did', 'add', '--number', '555', '--ext', '2001', ...d], '555'],
      [['did', 'remove', '--number', '000', ...d], '000'],
    ]);
    expect(await cli('did', 'remove', '--number', '555', ...d)).toMatchObject({ code: 0, stdout: 'removed DID 555\n' });
    expect(JSON.parse((await cli('did', 'list', '--json', ...d)).stdout)).toEqual([{ number: '+4930555', extension: '2001' }]);
  });
});

describe('calls', { timeout: SLOW }, () => {
  const dir = tempDataDir();
  const d = ['--data-dir', dir];
  const T0 = Date.UTC(2025, 0, 2, 9, 0, 0);
  const base = {
    callerName: '', trunk: null, answeredAt: null, codec: null, legs: [], direction: 'internal', status: 200,
  } as const;
  const records: CdrInput[] = [
    { ...base, callRef: 'a', caller: '1001', callerExtension: '1001', callee: '1002', calleeExtension: '1002', startedAt: T0, answeredAt: T0 + 2000, endedAt: T0 + 62_000, disposition: 'answered', codec: 'PCMU', legs: [{ target: 'sip:1002@192.0.2.7', status: 200, callId: 'l1' }] },
    { ...base, callRef: 'b', caller: '1002', callerExtension: '1002', callee: '1001', calleeExtension: '1001', startedAt: T0 + 100_000, endedAt: T0 + 130_000, disposition: 'no-answer', status: 480 },
    { ...base, callRef: 'c', direction: 'outbound', caller: '1001', callerExtension: '1001', callee: '9030123', calleeExtension: null, trunk: 'pstn', startedAt: T0 + 200_000, endedAt: T0 + 201_000, disposition: 'busy', status: 486 },
    { ...base, callRef: 'd', direction: 'inbound', caller: '+4930999', callerExtension: null, callee: '+4930555', calleeExtension: '1001', trunk: 'pstn', startedAt: T0 + 300_000, answeredAt: T0 + 305_000, endedAt: T0 + 310_400, disposition: 'answered', codec: 'G722' },
  ];

  it('lists call records newest first, filtered by extension and kind, as lines or JSON', async () => {
    const store = openStore(dir);
    for (const r of records) store.cdrs.enqueue(r);
    await store.close();

    const all = await cli('calls', ...d);
    expect(all.code).toBe(0);
    expect(all.stdout.trim().split('\n')).toEqual([
      `${new Date(T0 + 300_000).toISOString()}\tinbound\t+4930999 -> +4930555\tanswered\t5s\tG722\t200 OK`,
      `${new Date(T0 + 200_000).toISOString()}\toutbound\t1001 -> 9030123\tbusy\t0s\t-\t486 Busy Here`,
      `${new Date(T0 + 100_000).toISOString()}\tinternal\t1002 -> 1001\tno-answer\t0s\t-\t480 Temporarily Unavailable`,
      `${new Date(T0).toISOString()}\tinternal\t1001 -> 1002\tanswered\t60s\tPCMU\t200 OK`,
    ]);

    const refs = async (...args: string[]) => {
      const r = await cli('calls', '--json', ...args, ...d);
      expect(r.code).toBe(0);
      return (JSON.parse(r.stdout) as { callRef: string }[]).map((c) => c.callRef);
    };
    const placed = await refs('--ext', '1001', '--kind', 'placed');
    const received = await refs('--ext', '1001', '--kind', 'received');
    const missed = await refs('--ext', '1001', '--kind', 'missed');
    const of1002 = await refs('--ext', '1002');
    const limited = await refs('--limit', '2');
    expect(placed).toEqual(['c', 'a']);
    expect(received).toEqual(['d']);
    expect(missed).toEqual(['b']);
    expect(of1002).toEqual(['b', 'a']);
    expect(limited).toEqual(['d', 'c']);

    const json = JSON.parse((await cli('calls', '--json', '--limit', '1', ...d)).stdout) as Record<string, unknown>[];
    expect(json).toEqual([expect.objectContaining({
      time: new Date(T0 + 300_000).toISOString(), direction: 'inbound', caller: '+4930999', callee: '+4930555',
      disposition: 'answered', durationSec: 5, codec: 'G722', trunk: 'pstn', calleeExtension: '1001',
    })]);
  });

  it('calls list takes the filters of the API and writes CSV with formula cells guarded', async () => {
    const store = openStore(dir);
    store.cdrs.enqueue({
      ...base, callRef: 'e', direction: 'outbound', caller: '1003', callerName: '=HYPERLINK("http://x")', callerExtension: '1003',
      callee: '9049', calleeExtension: null, startedAt: T0 + 400_000, endedAt: T0 + 400_000, disposition: 'rejected', status: 403,
      reason: 'Outbound Calls Not Permitted',
    });
    await store.close();
    const refs = async (...args: string[]) => {
      const r = await cli('calls', 'list', '--json', ...args, ...d);
      expect(r.code).toBe(0);
      return (JSON.parse(r.stdout) as { callRef: string }[]).map((c) => c.callRef);
    };
    expect(await refs('--status', '403')).toEqual(['e']);
    expect(await refs('--disposition', 'rejected')).toEqual(['e']);
    expect(await refs('--direction', 'outbound')).toEqual(['e', 'c']);
    expect(await refs('--trunk', 'pstn')).toEqual(['d', 'c']);
    expect(await refs('--since', new Date(T0 + 200_000).toISOString(), '--until', String(T0 + 300_000))).toEqual(['c']);
    expect(await refs('--search', '9030')).toEqual(['c']);
    expect(await refs('--ext', '1001', '--disposition', 'answered')).toEqual(['d', 'a']);

    const csv = await cli('calls', 'list', '--csv', '--status', '403', ...d);
    expect(csv.code).toBe(0);
    const lines = csv.stdout.replace(/^\ufeff/, '').trim().split('\r\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^id,startedAt,direction,caller,callerName,callee/);
    expect(lines[1]).toContain(`"'=HYPERLINK(""http://x"")"`);
    expect(lines[1]).toContain('403 Forbidden — Outbound Calls Not Permitted');
    const every = await cli('calls', 'list', '--csv', ...d);
    expect(every.stdout.trim().split('\r\n')).toHaveLength(6);

    await expectRefused([
      [['calls', 'list', '--status', 'abc', ...d], '--status'],
      [['calls', 'list', '--since', 'yesterday', ...d], '--since'],
      [['calls', 'list', '--direction', 'sideways', ...d], '--direction'],
      [['calls', 'list', '--json', '--csv', ...d], '--csv'],
    ]);
  });

  it('prints an empty list for an empty store and refuses bad options', async () => {
    const empty = tempDataDir();
    expect(await cli('calls', '--data-dir', empty)).toMatchObject({ code: 0, stdout: '' });
    expect(await cli('calls', '--json', '--data-dir', empty)).toMatchObject({ code: 0, stdout: '[]\n' });
    await expectRefused([
      [['calls', '--kind', 'lost', ...d], '--kind'],
      [['calls', '--limit', '0', ...d], '--limit'],
      [['calls', '--limit', 'ten', ...d], '--limit'],
    ]);
  });
});
