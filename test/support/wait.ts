// Polling helper for eventually-consistent assertions (queues, notifies, sweeps).

/**
 * How long a test waits for a condition before it fails, unless it says otherwise: generous, because
 * the machine running the suite may be loaded many times over. It only bounds a wait that has already
 * gone wrong (a condition that holds ends the wait at once), so no test passes or fails by it alone.
 */
export const CONDITION_CEILING_MS = 120_000;

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
}

/** Resolves with the first truthy value of `probe`; rejects with `what` and the last value on timeout. */
export async function waitFor<T>(what: string, probe: () => Promise<T> | T, opts: WaitOptions = {}): Promise<NonNullable<T>> {
  const deadline = Date.now() + (opts.timeoutMs ?? CONDITION_CEILING_MS);
  let last: T | undefined;
  let lastError: unknown;
  for (;;) {
    try {
      last = await probe();
      if (last) return last as NonNullable<T>;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      const detail = lastError ? ` (last error: ${(lastError as Error).message})` : ` (last value: ${JSON.stringify(last)})`;
      throw new Error(`timed out after ${opts.timeoutMs ?? CONDITION_CEILING_MS} ms waiting for ${what}${detail}`);
    }
    await sleep(opts.intervalMs ?? 50);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
