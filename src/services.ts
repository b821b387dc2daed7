// Wires the domain services together: factory functions, no container.
import type { Clock } from './clock.ts';
import type { Logger } from './logger.ts';
import { CommandExecutor } from './events/executor.ts';
import { IdempotencyStore } from './events/idempotency.ts';
import { EventLog } from './events/log.ts';
import type { Store } from './store/store.ts';
import { createOrganisationService } from './modules/organisations/organisation.service.ts';

export type ServiceDeps = {
  store: Store;
  clock: Clock;
  logger: Logger;
};

export function createServices(deps: ServiceDeps) {
  const { store, clock, logger } = deps;
  const log = new EventLog(store);
  log.now = () => clock.now();
  const idempotency = new IdempotencyStore(store);
  const executor = new CommandExecutor(log, idempotency, logger.child({ module: 'executor' }));
  const organisations = createOrganisationService({ store, executor, clock });
  return { store, clock, log, idempotency, executor, organisations };
}

export type Services = ReturnType<typeof createServices>;
