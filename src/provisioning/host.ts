// A host name or an IPv4/IPv6 address that provisioning writes into a device
// or gateway file (an NTP server, a SIP domain): the model's one host rule
// (parseHost), so nothing else can get into the file.
import { z } from 'zod';
import { parseHost } from '../model/trunk.ts';

const RULE = 'must be a host name or an IP address';

export const hostSchema = z.string().refine((s) => parseHost(s) !== null, RULE).overwrite((s) => parseHost(s) ?? s);
