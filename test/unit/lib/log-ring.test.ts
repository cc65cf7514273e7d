import { describe, expect, it } from 'vitest';
import { redact } from '../../../src/api/context.ts';
import { LogRing } from '../../../src/lib/log-ring.ts';
import { silentLogger } from '../../../src/lib/log.ts';

describe('LogRing', () => {
  it('keeps the last warnings and errors only, oldest first, bounded', () => {
    let t = 0;
    const ring = new LogRing(redact, () => ++t, 3);
    const seen: string[] = [];
    const log = ring.tee({ ...silentLogger, info: (_o, m) => void seen.push(m ?? ''), warn: (_o, m) => void seen.push(m ?? '') });
    log.info({}, 'info is not kept');
    for (let i = 1; i <= 5; i++) (i % 2 ? log.warn : log.error)({ i }, `line ${i}`);
    expect(ring.list().map((l) => [l.level, l.msg, l.fields])).toEqual([
      ['warn', 'line 3', '{"i":3}'], ['error', 'line 4', '{"i":4}'], ['warn', 'line 5', '{"i":5}'],
    ]);
    expect(seen).toContain('info is not kept'); // the inner logger still gets everything
  });

  it('never keeps a secret, keeps an error its message, and cuts long fields', () => {
    const ring = new LogRing(redact);
    ring.push('error', { user: '2001', password: 'Hunter-2-secret', trunk: { registerPassword: 'x-secret-y' }, err: Object.assign(new Error('boom'), { code: 'EIO' }) }, 'failed');
    ring.push('warn', { blob: 'a'.repeat(5000) }, 'long');
    const [first, second] = ring.list();
    expect(first!.fields).not.toMatch(/Hunter-2-secret|x-secret-y/);
    expect(JSON.parse(first!.fields)).toMatchObject({ user: '2001', password: '***', err: { message: 'boom', code: 'EIO' } });
    expect(second!.fields.length).toBeLessThanOrEqual(601);
  });
});
