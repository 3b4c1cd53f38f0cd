/** GET /healthz: liveness (the process serves requests), the queue and who holds it, without auth. */
import type { FastifyInstance } from 'fastify';
import type { Admission } from '../admission';
import type { ServerLimits } from '../options';
import type { BoundedQueue } from '../queue';

export function healthRoute(app: FastifyInstance, deps: { queue: BoundedQueue; engine: string; admission: Admission; limits: ServerLimits }): void {
  const { queue, admission, limits } = deps;
  app.get('/healthz', async () => ({
    status: 'ok',
    engine: deps.engine,
    queue: {
      running: queue.running,
      waiting: queue.depth,
      // Admitted requests whose bodies are still arriving: they hold places of the capacity too.
      arriving: queue.arriving,
      lingering: queue.lingering,
      capacity: queue.concurrency + queue.maxQueue,
    },
    clients: { active: admission.clients, busiest: admission.busiestClient, perClient: limits.perClient },
    bodies: { minBytesPerSecond: limits.minBodyBytesPerSecond, windowMs: limits.bodyRateWindowMs },
    refused: { ...admission.counts },
  }));
}
