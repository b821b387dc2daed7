// The return leg as it is kept on the case: what the implementing organisation did before
// (and up to) the person's arrival. Amounts are EUR minor units; the individual guidance
// for vulnerable people is special-category data and stays sealed on the case.
export const RETURN_STEP_KINDS = [
  'COUNSELLING',
  'TRAVEL_DOCUMENT',
  'TICKET',
  'DEPARTURE',
  'TRANSIT',
  'ARRIVAL',
  'FIRST_PERIOD_CONTRIBUTION',
  'INDIVIDUAL_GUIDANCE',
] as const;
export type ReturnStepKind = (typeof RETURN_STEP_KINDS)[number];

export const TRAVEL_DOCUMENT_STAGES = ['APPLIED', 'OBTAINED', 'COST_REIMBURSED'] as const;
export const GUIDANCE_GROUPS = ['UNACCOMPANIED_MINOR', 'VICTIM_OF_TRAFFICKING', 'HEALTH_PROBLEMS'] as const;
export type GuidanceGroup = (typeof GUIDANCE_GROUPS)[number];

export type CounsellingSession = { heldOn: string; decidedToReturn: boolean };
export type TravelDocument = {
  appliedOn: string | null;
  obtainedOn: string | null;
  reimbursedOn: string | null;
  costEur: number;
};
export type Ticket = {
  bookedOn: string;
  departureDate: string;
  /** Airports (IATA codes) from departure to the one nearest the final destination. */
  route: string[];
  finalDestination: string;
  /** Money for the journey over land from the last airport. */
  landTravelAllowanceEur: number;
};
export type Assistance = { on: string; place: string };
export type ArrivalAssistance = Assistance & { metOnArrival: boolean };
export type Contribution = { paidOn: string; amountEur: number };
export type Guidance = { on: string; group: GuidanceGroup; note: string };

export type ReturnSupport = {
  counselling: CounsellingSession[];
  travelDocument: TravelDocument | null;
  ticket: Ticket | null;
  departure: Assistance | null;
  transit: Assistance[];
  arrival: ArrivalAssistance | null;
  firstPeriodContribution: Contribution | null;
  /** Sealed JSON of Guidance[] under the case's context; null when none was given. */
  guidanceSealed: string | null;
  guidanceCount: number;
};

export function emptyReturnSupport(): ReturnSupport {
  return {
    counselling: [],
    travelDocument: null,
    ticket: null,
    departure: null,
    transit: [],
    arrival: null,
    firstPeriodContribution: null,
    guidanceSealed: null,
    guidanceCount: 0,
  };
}

/** What the partner is handed at arrival: what it needs to meet the person, nothing of the return leg's detail. */
export type ArrivalHandover = {
  arrivedOn: string;
  place: string;
  metOnArrival: boolean;
  finalDestination: string | null;
  landTravelAllowanceEur: number;
  firstPeriodContributionEur: number;
};

export function arrivalHandover(rs: ReturnSupport | null): ArrivalHandover | null {
  if (!rs?.arrival) return null;
  return {
    arrivedOn: rs.arrival.on,
    place: rs.arrival.place,
    metOnArrival: rs.arrival.metOnArrival,
    finalDestination: rs.ticket?.finalDestination ?? null,
    landTravelAllowanceEur: rs.ticket?.landTravelAllowanceEur ?? 0,
    firstPeriodContributionEur: rs.firstPeriodContribution?.amountEur ?? 0,
  };
}
