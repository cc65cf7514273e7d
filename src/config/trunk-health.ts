// Settings of the trunks' OPTIONS probing (src/pbx/trunks/trunk-health.ts):
// how often each trunk is asked, how fast again once a probe went
// unanswered, and how many unanswered probes make it down.
import { z } from 'zod';

export const trunkHealthConfigSchema = z.object({
  /** Probe every trunk (registering or not) with OPTIONS; off: no probes, no trunk-down alarms, calls always tried. */
  enabled: z.boolean().default(true),
  /** Seconds between probes of a trunk that answers. */
  intervalSec: z.number().int().min(5).max(3_600).default(30),
  /**
   * Seconds between probes once one went unanswered and while the trunk is
   * down; also how long a probe may take to be answered before it counts as
   * missed (it covers the UDP retransmissions at T1, 2*T1, 4*T1...).
   */
  retrySec: z.number().int().min(1).max(300).default(5),
  /** Unanswered probes in a row that make a trunk down: known down at most intervalSec + downAfter * retrySec after the far end stopped (45 s by default). */
  downAfter: z.number().int().min(1).max(20).default(3),
});

export type TrunkHealthConfig = z.output<typeof trunkHealthConfigSchema>;
