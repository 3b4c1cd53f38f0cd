/**
 * A one-line progress display on a TTY (stderr); silent otherwise (logs stay machine-readable).
 * `startAt`: where this process began (a resumed run starts past 0; rate and ETA count only what it did).
 */
export function progressLine(label: string, total: number, startAt = 0): (done: number, extra?: string) => void {
  const tty = process.stderr.isTTY;
  const started = Date.now();
  return (done, extra) => {
    if (!tty) return;
    const elapsed = (Date.now() - started) / 1000;
    const rate = (done - startAt) / Math.max(elapsed, 1e-3);
    const eta = rate > 0 ? (total - done) / rate : 0;
    const width = 24;
    const filled = Math.round((width * done) / Math.max(total, 1));
    process.stderr.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${rate.toFixed(2)}/s ETA ${eta.toFixed(0)}s ${extra ?? ''}   `);
    if (done >= total) process.stderr.write('\n');
  };
}
