// Keyed one-shot timers for trade expiry and notify retries. Keys make re-arming idempotent (a trade has
// at most one expiry timer, a notification at most one pending retry). Timers are unref'd so an in-process
// sandbox never keeps a test runner alive, and delays beyond setTimeout's 24.8-day limit are re-armed in
// steps instead of overflowing (which would fire immediately).

const MAX_DELAY_MS = 2_147_483_647;

export class Timers {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  /** Runs `fn` at epoch ms `at` (now if in the past), replacing any timer with the same key. */
  at(key: string, at: number, fn: () => void): void {
    this.cancel(key);
    const delay = Math.max(0, at - Date.now());
    const step = Math.min(delay, MAX_DELAY_MS);
    const t = setTimeout(() => {
      this.timers.delete(key);
      if (Date.now() < at) this.at(key, at, fn);
      else fn();
    }, step);
    t.unref();
    this.timers.set(key, t);
  }

  cancel(key: string): void {
    const t = this.timers.get(key);
    if (t) {
      clearTimeout(t);
      this.timers.delete(key);
    }
  }

  cancelAll(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
