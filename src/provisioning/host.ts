// A host name or an IPv4/IPv6 address that provisioning writes into a device
// or gateway file (an NTP server, a SIP domain): letters, digits, dots,
// hyphens and colons only, so nothing else can get into the file.
import { z } from 'zod';

const HOST_RE = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9-]{1,63})*|\[?[0-9A-Fa-f:.]{2,45}\]?)$/;

export const hostSchema = z.string().max(253).regex(HOST_RE, 'must be a host name or an IP address');
