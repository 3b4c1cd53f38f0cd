/**
 * Prometheus metrics of the HTTP API, in the text exposition format (written here: a handful of
 * counters, one histogram and gauges do not need a client library).
 */

const BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labels(l: Record<string, string>): string {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

class Counter {
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(l: Record<string, string> = {}, by = 1): void {
    const key = labels(l);
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const [k, v] of this.values) lines.push(`${this.name}${k} ${v}`);
    return lines.join('\n');
  }
}

class Histogram {
  private readonly series = new Map<string, { counts: number[]; sum: number; count: number; labels: Record<string, string> }>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  observe(l: Record<string, string>, v: number): void {
    const key = labels(l);
    let s = this.series.get(key);
    if (!s) {
      s = { counts: BUCKETS.map(() => 0), sum: 0, count: 0, labels: l };
      this.series.set(key, s);
    }
    BUCKETS.forEach((b, i) => {
      if (v <= b) s!.counts[i]++;
    });
    s.sum += v;
    s.count++;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const s of this.series.values()) {
      BUCKETS.forEach((b, i) => lines.push(`${this.name}_bucket${labels({ ...s.labels, le: String(b) })} ${s.counts[i]}`));
      lines.push(`${this.name}_bucket${labels({ ...s.labels, le: '+Inf' })} ${s.count}`);
      lines.push(`${this.name}_sum${labels(s.labels)} ${s.sum}`);
      lines.push(`${this.name}_count${labels(s.labels)} ${s.count}`);
    }
    return lines.join('\n');
  }
}

/** The server's metrics. Gauges are read at scrape time from `gauges`. */
export class Metrics {
  readonly requests = new Counter('doc_anon_http_requests_total', 'HTTP requests by route, method and status.');
  readonly latency = new Histogram('doc_anon_http_request_duration_seconds', 'HTTP request latency in seconds, by route.');
  readonly regions = new Counter('doc_anon_regions_total', 'Regions replaced, by source (detected or supplied) and entity type.');
  readonly errors = new Counter('doc_anon_errors_total', 'Failed requests by error code.');
  readonly pages = new Counter('doc_anon_pages_total', 'Pages anonymized, by input kind (image or pdf).');
  readonly detected = new Counter('doc_anon_detected_regions_total', 'Regions found by POST /v1/detect, by entity type.');
  readonly refused = new Counter('doc_anon_refused_total', 'Requests refused or cut before their work: queue_full, client_cap (too many in flight from one address), slow_body (body under the minimum rate).');
  readonly aborted = new Counter('doc_anon_aborted_total', 'Requests whose client went away before the answer, by route.');

  constructor(private readonly gauges: () => Record<string, { help: string; value: number }>) {}

  /** The exposition text. */
  render(): string {
    const parts = [this.requests, this.latency, this.regions, this.errors, this.pages, this.detected, this.refused, this.aborted].map((m) => m.render());
    for (const [name, g] of Object.entries(this.gauges())) parts.push(`# HELP ${name} ${g.help}\n# TYPE ${name} gauge\n${name} ${g.value}`);
    return `${parts.join('\n')}\n`;
  }
}
