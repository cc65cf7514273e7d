// A registered test phone whose flow (UDP source port, or TCP connection)
// the kernel gave to a chosen worker of a cluster: the worker that answered
// a REGISTER names itself in the To tag of its 200. Phones landing
// elsewhere unregister and go.
import { expect } from 'vitest';
import type { SwitchboardHandle } from '../../interop/harness.ts';
import { TestPhone } from '../lib/phone.ts';
import type { PhoneOptions } from '../lib/phone.ts';
import { tagOf } from '../../../src/sip/name-addr.ts';
import { ownerOfId } from '../../../src/sip/owner.ts';

export async function phoneOnWorker(sb: SwitchboardHandle, worker: number, o: Omit<PhoneOptions, 'server'>): Promise<TestPhone> {
  const transport = o.transport ?? 'udp';
  for (let attempt = 0; attempt < 24; attempt++) {
    const phone = await TestPhone.start({ ...o, server: { host: sb.host, port: transport === 'udp' ? sb.udpPort : sb.tcpPort, domain: sb.domain } });
    const ok = await phone.register(300);
    expect(ok.status).toBe(200);
    if (ownerOfId(tagOf(ok.to)) === worker) return phone;
    expect((await phone.register(0)).status).toBe(200);
    await phone.stop();
  }
  throw new Error(`no ${transport} flow landed on worker ${worker} in 24 tries`);
}
