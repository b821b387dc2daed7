// Wires the domain services together: factory functions, no container.
import { DAY_MS, type Clock } from './clock.ts';
import { loadConfig, type Config, type ErasureSettings, type WebhookSettings } from './config.ts';
import type { Logger } from './logger.ts';
import { CommandExecutor } from './events/executor.ts';
import { IdempotencyStore } from './events/idempotency.ts';
import { EventLog } from './events/log.ts';
import type { Store } from './store/store.ts';
import { createOrganisationService } from './modules/organisations/organisation.service.ts';
import { createRateService } from './modules/rates/rate.service.ts';
import { createCaseSealing } from './modules/cases/case.sealing.ts';
import { createCaseKeys } from './crypto/case-keys.ts';
import { createCaseService } from './modules/cases/case.service.ts';
import { createConsentService } from './modules/cases/case.consent.ts';
import { listEntryChange } from './modules/cases/case.list-entry.ts';
import { createCaseStore } from './modules/cases/case.store.ts';
import { caseReplayCheck } from './modules/cases/case.replay.ts';
import { createPlanService } from './modules/plans/plan.service.ts';
import { feedMarkersOf } from './auth/policy.ts';
import { createAuditService } from './modules/audit/audit.service.ts';
import { FeedHub } from './modules/feed/feed.hub.ts';
import { FeedSegments } from './modules/feed/segments.ts';
import { createFeedService } from './modules/feed/feed.service.ts';
import { createStatisticsService } from './modules/statistics/statistics.service.ts';
import { createExtractService, type ExtractSettings } from './modules/extracts/extract.service.ts';
import { createWebhookDelivery } from './modules/webhooks/webhook.delivery.ts';
import { createWebhookService } from './modules/webhooks/webhook.service.ts';
import type { Sealer } from './crypto/sealed.ts';
import { JobRunner, type Job } from './jobs/leases.ts';
import { SYSTEM } from './store/tenant.ts';
import { SYSTEM_PRINCIPAL } from './auth/principal.ts';
import { loadCalendars, type Calendars } from './modules/deadlines/calendar.ts';
import { createSpendingWindowService } from './modules/cases/spending-window.ts';
import { createDeadlinePlanner } from './modules/deadlines/deadline.rules.ts';
import { createDeadlineService } from './modules/deadlines/deadline.service.ts';
import { createWorkListService } from './modules/worklist/worklist.service.ts';
import { createPlanCosting } from './modules/plans/plan.costing.ts';
import { createEvidenceService } from './modules/evidence/evidence.service.ts';
import { createFinalReportService } from './modules/final-report/final-report.service.ts';
import { createMonitoringService } from './modules/monitoring/monitoring.service.ts';
import { loadSurveyDefinition, type SurveyDefinition } from './modules/monitoring/survey.ts';
import { createProgressService } from './modules/progress/progress.service.ts';
import { createShipmentService } from './modules/shipments/shipment.service.ts';
import { createReturnLegService } from './modules/return-leg/return-leg.service.ts';
import { createTeamService } from './modules/teams/team.service.ts';
import { createEligibilityService } from './modules/eligibility/eligibility.service.ts';
import { createDepartureClaims } from './modules/eligibility/departure-claims.ts';
import { CASE_ERASED, createErasureService } from './modules/erasure/erasure.service.ts';
import { createSubjectAccess } from './modules/erasure/subject-access.ts';

/** What the services take from the configuration (without one, its defaults: config.ts). */
export type ServiceSettings = {
  /** Development mode (ERIN_DEV_MODE, `--dev`): loopback webhook receivers. */
  developmentMode: boolean;
  feedPollIntervalMs: number;
  feedBlockSize: number;
  webhooks: WebhookSettings;
  statsMinCell: number;
  statsBudget: { limit: number; periodMs: number };
  extracts: ExtractSettings;
  erasure: ErasureSettings;
};

export function settingsFrom(config: Config): ServiceSettings {
  return {
    developmentMode: config.devMode,
    feedPollIntervalMs: config.feedPollIntervalMs,
    feedBlockSize: config.feedBlockSize,
    webhooks: config.webhooks,
    statsMinCell: config.statsMinCell,
    statsBudget: config.statsBudget,
    extracts: config.extracts,
    erasure: config.erasure,
  };
}

export type ServiceDeps = {
  store: Store;
  clock: Clock;
  logger: Logger;
  sealer: Sealer;
  settings?: ServiceSettings;
  /** Evidence upload limit in bytes (ERIN_UPLOAD_LIMIT; 10 MiB by default). */
  uploadLimitBytes?: number;
  /** Working weeks per country (config/calendars.yaml by default). */
  calendars?: Calendars;
  /** The sustainability survey (config/sustainability-survey.yaml by default). */
  survey?: SurveyDefinition;
};

export function createServices(deps: ServiceDeps) {
  const { store, clock, logger, sealer } = deps;
  const settings = deps.settings ?? settingsFrom(loadConfig({}));
  const log = new EventLog(store);
  log.now = () => clock.now();
  // Every case's list entry is written with it (what lists filter and sort on).
  log.derive('cases', listEntryChange);
  const idempotency = new IdempotencyStore(store);
  const executor = new CommandExecutor(log, idempotency, sealer, logger.child({ module: 'executor' }), caseReplayCheck(store));
  const organisations = createOrganisationService({ store, executor, clock });
  const rates = createRateService({ store, executor, clock });
  const planDeadlines = createDeadlinePlanner({
    programme: (code) => organisations.programme(code),
    calendars: deps.calendars ?? loadCalendars(),
  });
  const caseKeys = createCaseKeys({ store, sealer, clock, cacheMs: settings.erasure.caseKeyCacheMs });
  const caseStore = createCaseStore({
    store,
    executor,
    clock,
    planDeadlines,
    departures: (before, after, now) => departures.forWrite(before, after, now),
    keyDestroyed: (id) => caseKeys.destroyed(id),
    versionPast: async (id, version) => {
      const past = await log.eventsPast('case', id, version);
      if (past.length > 0) await log.reconcile(past);
      return past.at(-1)?.version;
    },
  });
  const sealing = createCaseSealing(caseKeys, clock);
  const eligibility = createEligibilityService({ store, sealer, cases: caseStore });
  // The five-year rule when a departure is recorded: a claim on the person's list of departures
  // (the case store asks it on every write that records one, through the closure above).
  const departures = createDepartureClaims({
    store,
    programme: (code) => organisations.programme(code),
    eventAt: async (caseId, version) => (await log.findVersion('case', caseId, version)) !== null,
    caseById: (id) => caseStore.load(SYSTEM, id),
    eligibility,
  });
  const cases = createCaseService({ cases: caseStore, sealing, executor, clock, organisations, eligibility, departures });
  const consent = createConsentService({ cases: caseStore, clock, programme: (code) => organisations.programme(code) });
  const returnLeg = createReturnLegService({
    cases: caseStore,
    organisations,
    sealing,
    entitlementAfterMove: cases.entitlementAfterMove,
  });
  const teams = createTeamService({ cases: caseStore, organisations });
  const plans = createPlanService({ store, cases: caseStore, rates, sealing });
  const spendingWindow = createSpendingWindowService({ cases: caseStore });
  const evidence = createEvidenceService({
    store,
    executor,
    clock,
    sealing,
    cases: caseStore,
    uploadLimitBytes: deps.uploadLimitBytes ?? 10 * 1024 * 1024,
  });
  const progress = createProgressService({ store, cases: caseStore, plans, rates, evidence, sealing });
  const shipments = createShipmentService({ store, cases: caseStore, plans, evidence });
  const monitoring = createMonitoringService({
    store,
    cases: caseStore,
    sealing,
    survey: deps.survey ?? loadSurveyDefinition(),
  });
  const finalReports = createFinalReportService({ store, cases: caseStore, plans, progress, shipments, monitoring });
  const deadlines = createDeadlineService({ cases: caseStore, clock, executor, log });
  const workList = createWorkListService({ cases, plans, deadlines, clock });
  const planCosting = createPlanCosting({ cases, rates, clock, sealing });
  const segments = new FeedSegments(store, settings.feedBlockSize, feedMarkersOf);
  const hub = new FeedHub(log, segments, logger.child({ module: 'feed' }), { intervalMs: settings.feedPollIntervalMs });
  const feed = createFeedService({ cases, hub, clock });
  const audit = createAuditService({ log, executor, cases });
  const webhooks = createWebhookService({
    store,
    executor,
    log,
    clock,
    sealer,
    settings: settings.webhooks,
    developmentMode: settings.developmentMode,
  });
  const webhookDelivery = createWebhookDelivery({
    store,
    log,
    clock,
    logger: logger.child({ module: 'webhooks' }),
    feed,
    organisations,
    webhooks,
    settings: settings.webhooks,
  });
  const statistics = createStatisticsService({
    store,
    cases: caseStore,
    plans,
    organisations,
    clock,
    audit,
    threshold: settings.statsMinCell,
    budget: settings.statsBudget,
  });
  const extracts = createExtractService({
    store,
    executor,
    log,
    clock,
    sealer,
    keys: caseKeys,
    cases: caseStore,
    plans,
    organisations,
    settings: settings.extracts,
  });
  const erasure = createErasureService({
    cases: caseStore,
    keys: caseKeys,
    clock,
    retentionYears: settings.erasure.retentionYears,
    // An erased case's row leaves every built extract file at once, not when the file expires.
    // Statistics releases stay: the erased case is still counted (see statistics/releases.ts).
    onErased: (c) => extracts.withdrawFilesOf(c._id, c.memberState),
  });
  const subjectAccess = createSubjectAccess({ store, executor, log, cases: caseStore, sealing, evidence, clock });
  // Subscribers on this gateway hear of its own writes at once (the others poll the log),
  // and list pages find the cases (and plans) it wrote at their new versions without a read.
  executor.onCommit = (event) => {
    hub.observe([event]);
    caseStore.versions.observe(event);
    organisations.observe(event);
  };
  // Another gateway's erasure: this one forgets the case's key as soon as its follower reads
  // the event (every gateway follows the log through its webhook job), not when its cache expires.
  hub.onEvent((event) => {
    if (event.type === CASE_ERASED) caseKeys.evict(event.aggregateId);
    organisations.observe(event);
    // Every gateway's writes: lists choose their pages from the entries (caught up with the
    // log's head before each page) and find the cases at the versions the entries name.
    caseStore.listIndex.observe(event);
    caseStore.versions.observe(event);
  });
  caseStore.listIndex.follow({
    catchUp: () => hub.catchUp(),
    recent: async () => {
      const head = await hub.position();
      return hub.read(null, Math.max(0, head - settings.feedBlockSize), head, settings.feedBlockSize);
    },
  });
  const jobs = new JobRunner(store, clock, logger.child({ module: 'jobs' }));
  return {
    store,
    clock,
    logger,
    sealer,
    settings,
    log,
    idempotency,
    executor,
    jobs,
    organisations,
    rates,
    caseStore,
    caseKeys,
    sealing,
    cases,
    consent,
    eligibility,
    returnLeg,
    teams,
    spendingWindow,
    plans,
    hub,
    feed,
    audit,
    webhooks,
    webhookDelivery,
    statistics,
    extracts,
    erasure,
    subjectAccess,
    evidence,
    progress,
    shipments,
    monitoring,
    finalReports,
    deadlines,
    workList,
    planCosting,
  };
}

export type Services = ReturnType<typeof createServices>;

/** The background jobs every gateway runs; leases make each run happen on one instance. */
export function backgroundJobs(services: Services): Job[] {
  return [
    { name: 'referral-expiry', everyMs: 60_000, run: () => services.cases.expireReferrals(SYSTEM_PRINCIPAL) },
    // Every instance: deliveries and attempts are claimed one by one (see webhook.delivery.ts).
    { name: 'webhooks', everyMs: services.settings.webhooks.intervalMs, lease: false, run: () => services.webhookDelivery.run() },
    // Erases cases closed longer ago than the retention period (ERIN_RETENTION_YEARS).
    { name: 'retention', everyMs: 3_600_000, run: () => services.erasure.eraseExpired(SYSTEM_PRINCIPAL) },
    { name: 'consent-expiry', everyMs: 3_600_000, run: () => services.consent.expire(SYSTEM_PRINCIPAL) },
    { name: 'missed-deadlines', everyMs: 3_600_000, run: () => services.deadlines.recordMissed(SYSTEM_PRINCIPAL) },
    // The month's statistics release, taken within a minute of the month's start (docs/statistics.md).
    { name: 'statistics-release', everyMs: 60_000, run: () => services.statistics.takeRelease() },
    {
      name: 'housekeeping',
      everyMs: 3_600_000,
      run: async () => {
        const now = services.clock.now().getTime();
        await services.idempotency.purgeOlderThan(new Date(now - 7 * DAY_MS));
        await services.jobs.purge();
        await services.webhookDelivery.purge(new Date(now - DAY_MS), new Date(now - 30 * DAY_MS));
        await services.evidence.purgeAbandonedChunks();
        await services.statistics.purgeBudgetClaims();
        await services.statistics.purgeUnclaimedSnapshots();
        await services.extracts.purge();
      },
    },
  ];
}

/**
 * What a gateway does to the store before it serves, in order: finishes the projections of the
 * newest events, runs the case store's one-time migrations (each a no-op once its marker is set),
 * then finishes the projections of every event appended meanwhile. A migration writes projected
 * documents (cases, list entries) only at the version it read, but that conditional write is a
 * read and then a write on the embedded store: a case another gateway wrote in between could be
 * written back to the version before. Its event is in the log, so the last step writes it again.
 */
export async function prepareStore(services: Services, logger: Logger): Promise<void> {
  await services.log.reconcileRecent();
  const head = await services.log.lastSeq();
  const entries = await services.caseStore.backfillEntries();
  if (entries > 0) logger.info({ entries }, 'list entries written or completed for cases stored before they had them');
  const completed = await services.caseStore.backfillRecordIds();
  if (completed > 0) logger.info({ cases: completed }, 'record ids kept for cases stored before cases kept them');
  const listed = await services.caseStore.backfillFileLists();
  if (listed > 0) logger.info({ cases: listed }, 'lists of files made for cases stored before cases had them');
  if (entries + completed > 0) {
    const repaired = await services.log.reconcileAfter(head);
    if (repaired > 0) logger.warn({ repaired }, 'documents written over by a migration written again from the log');
  }
}
