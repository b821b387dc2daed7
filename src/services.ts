// Wires the domain services together: factory functions, no container.
import type { Clock } from './clock.ts';
import type { Logger } from './logger.ts';
import { CommandExecutor } from './events/executor.ts';
import { IdempotencyStore } from './events/idempotency.ts';
import { EventLog } from './events/log.ts';
import type { Store } from './store/store.ts';
import { createOrganisationService } from './modules/organisations/organisation.service.ts';
import { createRateService } from './modules/rates/rate.service.ts';
import { createCaseService } from './modules/cases/case.service.ts';
import type { Sealer } from './crypto/sealed.ts';

export type ServiceDeps = {
  store: Store;
  clock: Clock;
  logger: Logger;
  sealer: Sealer;
};

export function createServices(deps: ServiceDeps) {
  const { store, clock, logger, sealer } = deps;
  const log = new EventLog(store);
  log.now = () => clock.now();
  const idempotency = new IdempotencyStore(store);
  const executor = new CommandExecutor(log, idempotency, logger.child({ module: 'executor' }));
  const organisations = createOrganisationService({ store, executor, clock });
  const rates = createRateService({ store, executor, clock });
  const cases = createCaseService({ store, executor, clock, sealer, organisations, rates });
  return { store, clock, sealer, log, idempotency, executor, organisations, rates, cases };
}

export type Services = ReturnType<typeof createServices>;
