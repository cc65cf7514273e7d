// The family's rules for a device, which the store cannot know: options the
// family's generator accepts and no more lines than the family carries. The
// CLI and the API check a device here before the store writes it.
import type { DeviceFamily } from '../model/device.ts';
import { StoreError } from '../store/errors.ts';
import { generatorFor } from './families/index.ts';

/** @throws StoreError invalid (field options or extensions) */
export function checkDeviceForFamily(d: { family: DeviceFamily; extensions: readonly string[]; options: Record<string, unknown> }): void {
  const g = generatorFor(d.family);
  if (!g) return; // a family without a generator yet: the device is kept, its files are refused (409) until one exists
  if (d.extensions.length > g.maxLines) {
    throw new StoreError('invalid', 'extensions', `extensions: ${g.title} carries at most ${g.maxLines} line(s), not ${d.extensions.length}`);
  }
  const r = g.options.safeParse(d.options);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const path = ['options', ...issue.path.map(String)].join('.');
    throw new StoreError('invalid', 'options', `${path}: ${issue.message}`);
  }
}
