// grpc.health.v1.Health: load balancers and readiness probes ask whether the frontend serves.
import type { Engine } from '../engine';
import type { Handlers } from './types';

export function healthHandlers(engine: Engine): Handlers {
  return {
    Check: async () => ({ status: engine.isStopped ? 'NOT_SERVING' : 'SERVING' }),
  };
}
