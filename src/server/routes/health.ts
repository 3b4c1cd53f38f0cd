/** GET /healthz: liveness (the process serves requests) and the queue state, without auth. */
import type { FastifyInstance } from 'fastify';
import type { BoundedQueue } from '../queue';

export function healthRoute(app: FastifyInstance, deps: { queue: BoundedQueue; engine: string }): void {
  app.get('/healthz', async () => ({
    status: 'ok',
    engine: deps.engine,
    queue: { running: deps.queue.running, waiting: deps.queue.depth, capacity: deps.queue.concurrency + deps.queue.maxQueue },
  }));
}
