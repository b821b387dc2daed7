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
import { loadCalendars, type Calendars } from './modules/deadlines/calendar.ts';
import { createDeadlinePlanner } from './modules/deadlines/deadline.rules.ts';
import { createDeadlineService } from './modules/deadlines/deadline.service.ts';
import { createEvidenceService } from './modules/evidence/evidence.service.ts';
import { createFinalReportService } from './modules/final-report/final-report.service.ts';
import { createMonitoringService } from './modules/monitoring/monitoring.service.ts';
import { loadSurveyDefinition, type SurveyDefinition } from './modules/monitoring/survey.ts';
import { createProgressService } from './modules/progress/progress.service.ts';
import { createShipmentService } from './modules/shipments/shipment.service.ts';

export type ServiceDeps = {
  store: Store;
  clock: Clock;
  logger: Logger;
  sealer: Sealer;
  /** Evidence upload limit in bytes (ERIN_UPLOAD_LIMIT; 10 MiB by default). */
  uploadLimitBytes?: number;
  /** Working weeks per country (config/calendars.yaml by default). */
  calendars?: Calendars;
  /** The sustainability survey (config/sustainability-survey.yaml by default). */
  survey?: SurveyDefinition;
};

export function createServices(deps: ServiceDeps) {
  const { store, clock, logger, sealer } = deps;
  const log = new EventLog(store);
  log.now = () => clock.now();
  const idempotency = new IdempotencyStore(store);
  const executor = new CommandExecutor(log, idempotency, logger.child({ module: 'executor' }));
  const organisations = createOrganisationService({ store, executor, clock });
  const rates = createRateService({ store, executor, clock });
  const planDeadlines = createDeadlinePlanner({
    programme: (code) => organisations.programme(code),
    calendars: deps.calendars ?? loadCalendars(),
  });
  const cases = createCaseService({ store, executor, clock, sealer, organisations, rates, planDeadlines });
  const evidence = createEvidenceService({
    store,
    executor,
    clock,
    sealer,
    cases,
    uploadLimitBytes: deps.uploadLimitBytes ?? 10 * 1024 * 1024,
  });
  const progress = createProgressService({ store, cases, rates, evidence });
  const shipments = createShipmentService({ store, cases, evidence });
  const monitoring = createMonitoringService({ store, cases, sealer, survey: deps.survey ?? loadSurveyDefinition() });
  const finalReports = createFinalReportService({ store, cases, progress, shipments, monitoring });
  const deadlines = createDeadlineService({ store, clock, executor, log });
  const jobs = new JobRunner(store, clock, logger.child({ module: 'jobs' }));
  return {
    store,
    clock,
    sealer,
    log,
    idempotency,
    executor,
    jobs,
    organisations,
    rates,
    cases,
    evidence,
    progress,
    shipments,
    monitoring,
    finalReports,
    deadlines,
  };
}

export type Services = ReturnType<typeof createServices>;

/** The background jobs every gateway runs; leases make each run happen on one instance. */
export function backgroundJobs(services: Services): Job[] {
  return [
    { name: 'referral-expiry', everyMs: 60_000, run: () => services.cases.expireReferrals(SYSTEM_PRINCIPAL) },
    { name: 'missed-deadlines', everyMs: 3_600_000, run: () => services.deadlines.recordMissed(SYSTEM_PRINCIPAL) },
    {
      name: 'housekeeping',
      everyMs: 3_600_000,
      run: async () => {
        await services.idempotency.purgeOlderThan(new Date(services.clock.now().getTime() - 7 * 86_400_000));
        await services.jobs.purge();
        await services.evidence.purgeAbandonedChunks();
      },
    },
  ];
}
