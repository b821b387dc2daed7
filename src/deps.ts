// What the service factories are given, each under one name with one type: a factory names
// the part it takes (`deps: Needs<'store' | 'cases'>`) and services.ts wires it.
import type { Clock } from './clock.ts';
import type { CaseKeys } from './crypto/case-keys.ts';
import type { Sealer } from './crypto/sealed.ts';
import type { CommandExecutor } from './events/executor.ts';
import type { EventLog } from './events/log.ts';
import type { Logger } from './logger.ts';
import type { AuditService } from './modules/audit/audit.service.ts';
import type { CaseSealing } from './modules/cases/case.sealing.ts';
import type { CaseStore } from './modules/cases/case.store.ts';
import type { DeadlineService } from './modules/deadlines/deadline.service.ts';
import type { EvidenceService } from './modules/evidence/evidence.service.ts';
import type { FeedService } from './modules/feed/feed.service.ts';
import type { MonitoringService } from './modules/monitoring/monitoring.service.ts';
import type { OrganisationService } from './modules/organisations/organisation.service.ts';
import type { PlanService } from './modules/plans/plan.service.ts';
import type { ProgressService } from './modules/progress/progress.service.ts';
import type { RateService } from './modules/rates/rate.service.ts';
import type { ShipmentService } from './modules/shipments/shipment.service.ts';
import type { WebhookService } from './modules/webhooks/webhook.service.ts';
import type { Store } from './store/store.ts';

export type Dependencies = {
  store: Store;
  executor: CommandExecutor;
  log: EventLog;
  clock: Clock;
  sealer: Sealer;
  logger: Logger;
  /** The case kernel (src/modules/cases/case.store.ts); the case service is another dependency. */
  cases: CaseStore;
  sealing: CaseSealing;
  keys: CaseKeys;
  organisations: OrganisationService;
  rates: RateService;
  plans: PlanService;
  evidence: EvidenceService;
  progress: ProgressService;
  shipments: ShipmentService;
  monitoring: MonitoringService;
  deadlines: DeadlineService;
  audit: AuditService;
  feed: FeedService;
  webhooks: WebhookService;
};

export type Needs<K extends keyof Dependencies> = Pick<Dependencies, K>;
