// Which signalling transports a device may use (SPEC, §4.5):
// a user set to TLS-only must register and call over TLS; with Strict SIPS on,
// every device outside the local networks must use TLS, while local devices
// keep UDP/TCP. "Local" is a configured list of networks (SPEC leaves open how
// local and remote are told apart; Appendix A suggests address ranges).
import { BlockList, isIP } from 'node:net';

export const DEFAULT_LOCAL_NETWORKS = ['127.0.0.0/8', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16', '::1/128', 'fc00::/7', 'fe80::/10'];

/** "ADDRESS/BITS" → parts, or undefined when it is not a valid CIDR block. */
export function parseCidr(s: string): { address: string; bits: number; family: 'ipv4' | 'ipv6' } | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const address = s.slice(0, slash);
  const fam = isIP(address);
  const bits = Number(s.slice(slash + 1));
  if (fam === 0 || !Number.isInteger(bits) || bits < 0 || bits > (fam === 4 ? 32 : 128)) return undefined;
  return { address, bits, family: fam === 4 ? 'ipv4' : 'ipv6' };
}

export class TransportPolicy {
  private readonly local = new BlockList();

  constructor(
    private readonly strictSips: boolean,
    localNetworks: readonly string[] = DEFAULT_LOCAL_NETWORKS,
  ) {
    for (const n of localNetworks) {
      const c = parseCidr(n);
      if (!c) throw new RangeError(`not a network in CIDR form: ${JSON.stringify(n)}`);
      this.local.addSubnet(c.address, c.bits, c.family);
    }
  }

  isLocal(address: string): boolean {
    const fam = isIP(address);
    if (fam === 0) return false;
    // IPv4-mapped IPv6 (dual-stack sockets) is judged as the IPv4 address it carries.
    if (fam === 6 && address.toLowerCase().startsWith('::ffff:') && isIP(address.slice(7)) === 4) return this.local.check(address.slice(7), 'ipv4');
    return this.local.check(address, fam === 4 ? 'ipv4' : 'ipv6');
  }

  /**
   * Why a request from `source` over `transport` is refused, or undefined
   * when it is allowed. `userTls`: the user's own setting asks for TLS.
   */
  refusal(transport: string, source: string, userTls: boolean): string | undefined {
    if (transport === 'tls') return undefined;
    if (userTls) return 'TLS Required';
    if (this.strictSips && !this.isLocal(source)) return 'Strict SIPS: Use TLS';
    return undefined;
  }
}
