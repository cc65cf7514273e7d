// Polls a condition on real time, bounded: for what a server does on its own
// (a line registering, a packet arriving) where no clock of ours drives it.

/**
 * Resolves once check() holds; throws naming `what` after `ms` of real time
 * (a function when the name should say the state at that moment).
 */
export async function until(check: () => boolean, what: string | (() => string), ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
