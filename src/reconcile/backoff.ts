// Capped exponential backoff: initial, 2×initial, 4×initial … up to max; reset after a success.
export class Backoff {
  private failures = 0;

  constructor(
    private readonly initialMs: number,
    private readonly maxMs: number,
  ) {
    if (initialMs <= 0 || maxMs < initialMs) throw new Error(`backoff: need 0 < initialMs (${initialMs}) <= maxMs (${maxMs})`);
  }

  /** Record a failure and return how long to wait before the next attempt. */
  next(): number {
    this.failures += 1;
    // 2^exponent grows past maxMs long before it overflows; clamp the exponent anyway.
    return Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.failures - 1, 30));
  }

  reset(): void {
    this.failures = 0;
  }

  get consecutiveFailures(): number {
    return this.failures;
  }
}
