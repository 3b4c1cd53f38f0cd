/** GET /metrics: Prometheus text format (behind the token when one is set). */
import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../metrics';

export function metricsRoute(app: FastifyInstance, deps: { metrics: Metrics; authorize: (header: string | undefined) => void }): void {
  app.get('/metrics', async (req, reply) => {
    deps.authorize(req.headers.authorization);
    reply.header('content-type', 'text/plain; version=0.0.4; charset=utf-8');
    return deps.metrics.render();
  });
}
