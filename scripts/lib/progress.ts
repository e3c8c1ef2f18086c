// A one-line progress bar on stderr, shown only when stderr is a terminal (quiet when piped or in CI).

export class Progress {
  private readonly enabled: boolean;
  private lastDraw = 0;
  private done = 0;

  constructor(
    private readonly label: string,
    private readonly total: number,
    enabled = process.stderr.isTTY === true,
  ) {
    this.enabled = enabled && total > 0;
  }

  /** Adds `n` units; redraws at most every 100 ms. */
  tick(n = 1): void {
    this.done += n;
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.lastDraw < 100 && this.done < this.total) return;
    this.lastDraw = now;
    const frac = Math.min(1, this.done / this.total);
    const width = 30;
    const full = Math.round(frac * width);
    process.stderr.write(`\r${this.label} [${'#'.repeat(full)}${'.'.repeat(width - full)}] ${(frac * 100).toFixed(0)}% ${this.done}/${this.total}`);
  }

  stop(): void {
    if (this.enabled) process.stderr.write('\n');
  }
}
