// One device's files: its lines read from the users store, the site, the
// request facts, handed to the family's generator. The server, the CLI
// (`provision render`) and the API all render through here.
import type { DeviceView } from '../model/device.ts';
import type { UserRepository } from '../store/types.ts';
import { generatorFor } from './families/index.ts';
import { ProvisioningRefusal, type LineAccount, type ProvisioningSite, type RenderResult, type RequestFacts } from './types.ts';

export async function deviceLines(users: Pick<UserRepository, 'getByExtension'>, device: DeviceView): Promise<LineAccount[]> {
  const lines: LineAccount[] = [];
  for (const ext of device.extensions) {
    const u = await users.getByExtension(ext);
    // The store keeps lines to existing users; a user removed between the two reads is a line less, not a crash.
    if (u) lines.push({ extension: u.extension, authUser: u.authUser, password: u.password, displayName: u.name || u.extension });
  }
  return lines;
}

/** @throws ProvisioningRefusal (the generator's, or no generator for the family yet) */
export async function renderDevice(
  users: Pick<UserRepository, 'getByExtension'>, site: ProvisioningSite, device: DeviceView, request?: RequestFacts,
): Promise<RenderResult> {
  const generator = generatorFor(device.family);
  if (!generator) throw new ProvisioningRefusal(`no generator for the family ${device.family} in this version`);
  const lines = await deviceLines(users, device);
  return generator.render({
    site,
    device: { mac: device.mac, family: device.family, model: device.model, options: device.options },
    lines,
    ...(request ? { request } : {}),
  });
}
