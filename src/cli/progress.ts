/**
 * A one-line progress display on a TTY (stderr); silent otherwise (logs stay machine-readable).
 * `format` writes a count (bytes, say). `startAt`: where this process began (a resumed run starts past 0; rate and ETA count only what it did).
 */
export function progressLine(label: string, total: number, startAt = 0, format: (n: number) => string = String): (done: number, extra?: string) => void {
  const tty = process.stderr.isTTY;
  const started = Date.now();
  return (done, extra) => {
    if (!tty) return;
    const elapsed = (Date.now() - started) / 1000;
    const rate = (done - startAt) / Math.max(elapsed, 1e-3);
    const eta = rate > 0 ? (total - done) / rate : 0;
    const width = 24;
    const filled = Math.round((width * done) / Math.max(total, 1));
    process.stderr.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${format(done)}/${format(total)} ${format === String ? rate.toFixed(2) : format(rate)}/s ETA ${eta.toFixed(0)}s ${extra ?? ''}   `);
    if (done >= total) process.stderr.write('\n');
  };
}

/** A byte count for people: 1.5 GB, 320 kB (decimal units, as the Hub shows sizes). */
export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${Math.round(v)} B` : `${v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`;
}
