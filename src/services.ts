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
import { JobRunner, type Job } from './jobs/leases.ts';
import { SYSTEM_PRINCIPAL } from './auth/principal.ts';

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
  const jobs = new JobRunner(store, clock, logger.child({ module: 'jobs' }));
  return { store, clock, logger, sealer, log, idempotency, executor, jobs, organisations, rates, cases };
}

export type Services = ReturnType<typeof createServices>;

/** The background jobs every gateway runs; leases make each run happen on one instance. */
export function backgroundJobs(services: Services): Job[] {
  return [
    { name: 'referral-expiry', everyMs: 60_000, run: () => services.cases.expireReferrals(SYSTEM_PRINCIPAL) },
    {
      name: 'housekeeping',
      everyMs: 3_600_000,
      run: async () => {
        await services.idempotency.purgeOlderThan(new Date(services.clock.now().getTime() - 7 * 86_400_000));
        await services.jobs.purge();
      },
    },
  ];
}
