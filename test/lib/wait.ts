export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls until pred() holds or timeoutMs passes; true when it held. Bounded in time by construction. */
export async function waitUntil(pred: () => boolean | Promise<boolean>, timeoutMs = 10_000, stepMs = 10): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > end) return false;
    await sleep(stepMs);
  }
  return true;
}
