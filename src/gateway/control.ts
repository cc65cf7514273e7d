// `switchboard gateway status|reregister` (issue 15, B-32) answered from the
// lines manager of this process: over the control socket of a lone server,
// over IPC on a cluster's worker 1 (the supervisor relays).
import type { GatewayStatus } from '../model/gateway.ts';
import type { GatewayLinesManager } from './lines.ts';

/** Synchronous here (the lines are in this process); a ControlGateway. */
export function gatewayControl(lines: GatewayLinesManager): { status(): GatewayStatus; reregister(extensions: readonly string[] | undefined): number } {
  return {
    status: () => lines.status(),
    reregister: (list) => {
      // Extensions without a line are not counted as asked.
      const known = list?.filter((e) => lines.isGatewayUser(e));
      lines.reregister(known);
      return known?.length ?? lines.tally().total;
    },
  };
}
