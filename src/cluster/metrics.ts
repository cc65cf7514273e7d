// The metrics of a cluster, served by the worker that runs the management
// server: every worker's own samples, each labelled with its worker number.
// Nothing is summed here: a ratio or a per-process figure summed over
// workers would be wrong, and Prometheus sums by label where a sum is meant.
import { AggregatorRegistry } from 'prom-client';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';

export type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

/** `metrics` with label worker="<worker>" on every sample. */
export function labelWorker(metrics: MetricsJson, worker: number): MetricsJson {
  const w = String(worker);
  return metrics.map((m) => ({ ...m, values: m.values.map((v) => ({ ...v, labels: { ...v.labels, worker: w } })) }));
}

/** One Prometheus text exposition of every worker's (labelled) samples. */
export async function renderCluster(parts: readonly MetricsJson[]): Promise<string> {
  return AggregatorRegistry.aggregate(parts as MetricsJson[]).metrics();
}
