// Case teams, part of the tenant policy: what a member state's unit (municipality, agency,
// NGO, implementing organisation) may see of a case and do on it, by its role on the case's
// team. ONE table below decides both, field by field and action by action; the GraphQL
// layer applies it to every field of Case and ReturnSupport (src/graphql/case-fields.ts),
// the services to every write, and every other way a unit learns of a case — the feed,
// subscriptions and webhooks (feed.service.ts present), overdue, the work list, the audit
// trail — asks it through the field each event or record is about (caseFieldOfEvent).
// A field, action or event the table does not list is refused, so one added later is
// closed to units until someone decides who needs it.
// The member state and the partner are not team members: their rules live in policy.ts.
import type { AgencyType, OrganisationKind, Principal } from './principal.ts';
import { isMemberStateUnit, SYSTEM_PRINCIPAL } from './principal.ts';

export const TEAM_ROLES = [
  /** Leads the team (the municipality, or the state's return service): invites and removes units. */
  'LEAD',
  'MUNICIPALITY',
  /** The implementing organisation (IOM in the Netherlands): the return leg. */
  'RETURN_SUPPORT',
  'IMMIGRATION_SERVICE',
  'POLICE',
  'RETURN_SERVICE',
  'RECEPTION',
  /** An NGO: counselling. */
  'CIVIL_SOCIETY',
] as const;
export type TeamRole = (typeof TEAM_ROLES)[number];

/** What a unit may do on a case (`returnStep.<KIND>` for each step of the return leg). */
export type TeamAction =
  | 'team.manage'
  | 'returnStep.COUNSELLING'
  | 'returnStep.TRAVEL_DOCUMENT'
  | 'returnStep.TICKET'
  | 'returnStep.DEPARTURE'
  | 'returnStep.TRANSIT'
  | 'returnStep.ARRIVAL'
  | 'returnStep.FIRST_PERIOD_CONTRIBUTION'
  | 'returnStep.INDIVIDUAL_GUIDANCE';

/** Every field a team member sees: who and what the case is, where it stands, who works on it. */
const BASICS = [
  'id',
  'reference',
  'version',
  'status',
  'memberState',
  'originCountry',
  'returnType',
  'implementingOrganisation',
  'units',
  'team',
  'myTeamRoles',
  'allowedActions',
  'createdAt',
  'updatedAt',
] as const;
const DEPARTURE = ['plannedDepartureDate', 'plannedArrivalDate', 'arrivedOn', 'closedAt', 'closureReason'] as const;

/** Under which programme, of which nationality, with which application for residence. */
const STATUS_OF_STAY = ['programme', 'nationality', 'residenceApplication'] as const;

/** The return leg's steps up to and through the departure. */
const STEPS_TO_DEPARTURE = [
  'returnStep.COUNSELLING',
  'returnStep.TRAVEL_DOCUMENT',
  'returnStep.TICKET',
  'returnStep.DEPARTURE',
  'returnStep.TRANSIT',
] as const satisfies readonly TeamAction[];

type Grant = {
  /** Case fields (`returnSupport.<field>` for the parts of the return leg); `*`: every field. */
  fields: readonly string[];
  actions: readonly TeamAction[];
};

/**
 * THE TABLE: role × field/action. Special categories (needsAssessment, vulnerability, the
 * entitlement's amounts and lines, individual guidance) go with the `vulnerability` field.
 */
export const TEAM_GRANTS: Record<TeamRole, Grant> = {
  // The lead coordinates the team: it sees the whole case and manages the team.
  LEAD: { fields: ['*'], actions: ['team.manage'] },
  // "De gemeente heeft de regie": the municipality sees all of its cases and counsels.
  MUNICIPALITY: { fields: ['*'], actions: ['returnStep.COUNSELLING'] },
  RETURN_SUPPORT: {
    fields: [
      ...BASICS,
      ...DEPARTURE,
      'partner',
      'programme',
      'registeredAfterReturn',
      'household',
      'needsAssessment',
      'vulnerability',
      'consent',
      'entitlement',
      'nationality',
      'residenceApplication',
      'eligibility',
      'referredAt',
      'respondedAt',
      'allowedTransitions',
      'deadlines',
      'returnSupport',
      'returnSupport.*',
      'arrivalHandover',
    ],
    actions: [
      ...STEPS_TO_DEPARTURE,
      'returnStep.ARRIVAL',
      'returnStep.FIRST_PERIOD_CONTRIBUTION',
      'returnStep.INDIVIDUAL_GUIDANCE',
    ],
  },
  // The immigration service: residence and identity, the travel document, whether the person left.
  IMMIGRATION_SERVICE: {
    fields: [
      ...BASICS,
      ...DEPARTURE,
      ...STATUS_OF_STAY,
      'eligibility',
      'household',
      'returnSupport',
      'returnSupport.travelDocument',
      'returnSupport.departure',
    ],
    actions: [],
  },
  // The police: departure status and dates, nothing about needs, vulnerability or money.
  POLICE: {
    fields: [
      ...BASICS,
      ...DEPARTURE,
      'returnSupport',
      'returnSupport.ticket',
      'returnSupport.departure',
      'returnSupport.transit',
    ],
    actions: [],
  },
  // The return service (DT&V): the journey up to departure.
  RETURN_SERVICE: {
    fields: [
      ...BASICS,
      ...DEPARTURE,
      ...STATUS_OF_STAY,
      'household',
      'returnSupport',
      'returnSupport.counselling',
      'returnSupport.travelDocument',
      'returnSupport.ticket',
      'returnSupport.departure',
      'returnSupport.transit',
    ],
    actions: STEPS_TO_DEPARTURE,
  },
  // The reception agency (COA): who is housed and until when.
  RECEPTION: {
    fields: [...BASICS, ...DEPARTURE, 'household', 'returnSupport', 'returnSupport.departure'],
    actions: [],
  },
  // An NGO records counselling; it sees no entitlement, needs or vulnerability.
  CIVIL_SOCIETY: {
    fields: [...BASICS, 'plannedDepartureDate', 'household', 'returnSupport', 'returnSupport.counselling'],
    actions: ['returnStep.COUNSELLING'],
  },
};

/** The role a unit has on every team it joins, from what it is. */
export function memberRoleFor(unit: { kind: OrganisationKind; agency?: AgencyType | null }): TeamRole | null {
  switch (unit.kind) {
    case 'MUNICIPALITY':
      return 'MUNICIPALITY';
    case 'AGENCY':
      return unit.agency ?? null;
    case 'NGO':
      return 'CIVIL_SOCIETY';
    case 'IMPLEMENTING_ORGANISATION':
      return 'RETURN_SUPPORT';
    case 'MEMBER_STATE':
    case 'PARTNER':
    case 'EXPERTS_GROUP':
    case 'NETWORK':
    case 'RESEARCH_BODY':
      return null;
  }
}

/** Who may lead a case's team: a municipality or the state's return service (else the state itself). */
export function mayLead(unit: { kind: OrganisationKind; agency?: AgencyType | null }): boolean {
  return unit.kind === 'MUNICIPALITY' || (unit.kind === 'AGENCY' && unit.agency === 'RETURN_SERVICE');
}

export type TeamMember = { unit: string; role: TeamRole; since: Date };
export type CaseTeam = { lead: string | null; members: TeamMember[] };
export type TeamFacts = { team?: CaseTeam | null; implementingOrganisation?: string | null };

/** A unit's roles on a case: its member role, LEAD when it leads, RETURN_SUPPORT as the implementing organisation. */
export function teamRolesOf(principal: Principal, c: TeamFacts): TeamRole[] {
  const code = principal.organisation.code;
  const roles = new Set<TeamRole>();
  const member = c.team?.members.find((m) => m.unit === code);
  if (member) roles.add(member.role);
  if (c.team?.lead === code) roles.add('LEAD');
  if (c.implementingOrganisation === code) roles.add('RETURN_SUPPORT');
  return [...roles];
}

/**
 * The case's records — its plan, the plan's carrying out and its files — are never a unit's:
 * they carry no `units`, so a unit's scope holds none of them (policy.ts caseScope). No role
 * may be granted them, `*` included, so every path (the case, the feed, subscriptions,
 * webhooks) refuses them alike instead of one answering null and another the event's copy.
 */
export const CASE_RECORDS = [
  'plan',
  'planInForce',
  'plans',
  'spendingWindow',
  'progress',
  'budget',
  'evidence',
  'shipments',
  'monitoring',
  'finalReport',
] as const;

/** Whether a role may see a field of a case (`returnSupport.ticket` for a part of the return leg). */
export function roleSeesField(role: TeamRole, field: string): boolean {
  if ((CASE_RECORDS as readonly string[]).includes(field)) return false;
  const { fields } = TEAM_GRANTS[role];
  if (fields.includes('*') || fields.includes(field)) return true;
  const dot = field.indexOf('.');
  return dot > 0 && fields.includes(`${field.slice(0, dot)}.*`);
}

/**
 * What a partner is not told of a case: which of the member state's units work on it, and the
 * steps of the return leg (who counselled the person, got the travel document, booked the
 * journey) but the departure and the arrival, which it prepares for. The partner works in the
 * country of origin, outside the EU; that the police or the immigration service is on a
 * returnee's case is not its business (data minimisation) and could put the person at risk
 * there. The implementing organisation, which hands the person over to the partner, stays
 * named. `team` and `units` are gated for every caller, in both schemas (src/graphql/schema.ts;
 * `returnSupport` is null for a partner); the changes these fields are about, and their
 * makers, are withheld from the partner wherever it hears of a change (mayKnowCaseEvent,
 * mayKnowCaseActor).
 */
export const HIDDEN_FROM_PARTNERS: readonly string[] = [
  'team',
  'units',
  'returnSupport.counselling',
  'returnSupport.travelDocument',
  'returnSupport.ticket',
  'returnSupport.transit',
  'returnSupport.firstPeriodContribution',
  'returnSupport.guidance',
];

/**
 * Whether the fields of a case are gated one by one for this principal: only a member state's
 * unit's are (beyond HIDDEN_FROM_PARTNERS, gated for everyone). Everyone else sees every other
 * field of a case it can read, so its queries may run without the per-field gate
 * (src/graphql/executor.ts) — this is the one place that decides it.
 */
export function caseFieldsGated(principal: Principal | null): boolean {
  return !principal || isMemberStateUnit(principal.organisation.kind);
}

const isPartner = (principal: Principal) => principal.organisation.kind === 'PARTNER';

/**
 * Whether the principal may see a field of a case it can read: for a member state's unit what
 * its roles on the team grant; for a partner all but HIDDEN_FROM_PARTNERS; for anyone else
 * everything (their own rules decide whether they read the case).
 */
export function maySeeCaseField(principal: Principal, c: TeamFacts, field: string): boolean {
  if (isPartner(principal)) return !HIDDEN_FROM_PARTNERS.includes(field);
  if (!caseFieldsGated(principal)) return true;
  return teamRolesOf(principal, c).some((role) => roleSeesField(role, field));
}

/** Whether the principal may take a team action on a case it can read (a unit by its roles; others by their permissions). */
export function mayTakeTeamAction(principal: Principal, c: TeamFacts, action: TeamAction): boolean {
  if (!isMemberStateUnit(principal.organisation.kind)) return true;
  return teamRolesOf(principal, c).some((role) => TEAM_GRANTS[role].actions.includes(action));
}

/** The units a case lists (its scope for units): the implementing organisation and the team's members. */
export function unitsOnCase(c: TeamFacts): string[] {
  return [
    ...new Set([
      ...(c.implementingOrganisation ? [c.implementingOrganisation] : []),
      ...(c.team?.members ?? []).map((m) => m.unit),
    ]),
  ];
}

/** Whether the principal may record some step of a case's return leg (a unit: by its roles on the team). */
export function recordsReturnSteps(principal: Principal, c: TeamFacts): boolean {
  if (!isMemberStateUnit(principal.organisation.kind)) return true;
  return teamRolesOf(principal, c).some((role) => TEAM_GRANTS[role].actions.some((a) => a.startsWith('returnStep.')));
}

// ---- events: what a unit is told of a change on a case -----------------------------------

/** The part of the return leg each step is recorded in (the `returnSupport.<field>` the table names). */
const STEP_FIELDS: Record<string, string> = {
  COUNSELLING: 'returnSupport.counselling',
  TRAVEL_DOCUMENT: 'returnSupport.travelDocument',
  TICKET: 'returnSupport.ticket',
  DEPARTURE: 'returnSupport.departure',
  TRANSIT: 'returnSupport.transit',
  ARRIVAL: 'returnSupport.arrival',
  FIRST_PERIOD_CONTRIBUTION: 'returnSupport.firstPeriodContribution',
  INDIVIDUAL_GUIDANCE: 'returnSupport.guidance',
};

/**
 * Which field of the case each event of a case is about. A unit is told that such a change
 * happened (its type, who made it, any record it wrote) only when its roles see that field;
 * an event not listed here is about nothing a unit may see, so a new kind of event stays
 * closed to units until someone decides, as a new field does.
 */
const EVENT_FIELDS: Record<string, string> = {
  CaseCreated: 'id',
  CaseImported: 'id',
  CaseUpdated: 'updatedAt',
  CaseReferred: 'status',
  ReferralAccepted: 'status',
  ReferralDeclined: 'status',
  ReferralExpired: 'status',
  CaseReopened: 'status',
  ArrivalConfirmed: 'arrivedOn',
  CaseClosed: 'closedAt',
  CaseErased: 'erasedAt',
  CaseTeamFormed: 'team',
  CaseTeamMemberInvited: 'team',
  CaseTeamMemberRemoved: 'team',
  ImplementingOrganisationAssigned: 'implementingOrganisation',
  ConsentWithdrawn: 'consent',
  ConsentRenewed: 'consent',
  ConsentExpired: 'consent',
  Departed: 'returnSupport.departure',
  ArrivedAndHandedOver: 'returnSupport.arrival',
  DeadlineMissed: 'deadlines',
  PlanDraftSaved: 'plan',
  PlanSubmitted: 'plan',
  PlanApproved: 'plan',
  PlanChangesRequested: 'plan',
  SpendingWindowExtended: 'spendingWindow',
  ProgressPosted: 'progress',
  ProgressCorrected: 'progress',
  MonitoringVisitRecorded: 'monitoring',
  FinalReportSubmitted: 'finalReport',
  EvidenceUploaded: 'evidence',
};

export type CaseEventFacts = { type: string; data?: Record<string, unknown> | null };

/** The field of a case an event is about; null when no role is told of it. */
export function caseFieldOfEvent(event: CaseEventFacts): string | null {
  if (event.type === 'ReturnStepRecorded') return STEP_FIELDS[String(event.data?.kind)] ?? null;
  if (event.type.startsWith('Shipment')) return 'shipments';
  return EVENT_FIELDS[event.type] ?? null;
}

/** Whether an event can take a unit off a case (a change of its team or its implementing organisation). */
export function mayTakeUnitOff(event: CaseEventFacts): boolean {
  const field = caseFieldOfEvent(event);
  return field === 'team' || field === 'implementingOrganisation';
}

/**
 * Whether the principal may be told what a change on a case it can read was (its type, its
 * actor, the records it wrote): for a unit, when its roles on the case see the field the
 * change is about; for a partner, unless it is about a field hidden from partners (the team);
 * for anyone else, always (their own rules decide whether they read the case).
 */
export function mayKnowCaseEvent(principal: Principal, c: TeamFacts, event: CaseEventFacts): boolean {
  const field = caseFieldOfEvent(event);
  if (isPartner(principal)) return field === null || maySeeCaseField(principal, c, field);
  if (!caseFieldsGated(principal)) return true;
  return field !== null && maySeeCaseField(principal, c, field);
}

/**
 * Whether the principal may be told which organisation made a change on a case: a unit is
 * told when the maker is on the case's face (its member state, a unit on the case, the
 * gateway itself) or when its roles see `Case.partner` (the partner, past or present); a
 * partner when the maker is not one of the member state's units (below).
 */
export function mayKnowCaseActor(
  principal: Principal,
  c: TeamFacts & { memberState: string },
  actorOrganisation: string,
): boolean {
  // A partner is told of changes made by the case's member state, the gateway, itself and the
  // implementing organisation, none other (a unit of the state: HIDDEN_FROM_PARTNERS).
  if (isPartner(principal))
    return [c.memberState, SYSTEM_PRINCIPAL.organisation.code, principal.organisation.code, c.implementingOrganisation].includes(
      actorOrganisation,
    );
  if (!caseFieldsGated(principal)) return true;
  if (actorOrganisation === c.memberState || actorOrganisation === SYSTEM_PRINCIPAL.organisation.code) return true;
  if (unitsOnCase(c).includes(actorOrganisation)) return true;
  return maySeeCaseField(principal, c, 'partner');
}
