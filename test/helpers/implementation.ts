// Builders for carrying out a plan through the real API: evidence uploads over HTTP,
// progress, shipments, monitoring visits and the final report. Each write updates the
// tracked case's version, the way a client keeps its expectedVersion.
import type { GqlResponse, TestGateway } from './gateway.ts';
import { workflow } from './factories.ts';
import type { ManualClock } from '../../src/clock.ts';
import { samplePdf } from '../../src/seed/sample-files.ts';

type Client = ReturnType<TestGateway['as']>;
export type Tracked = { id: string; version: number };

export type UploadResult = {
  status: number;
  body: {
    evidence?: {
      id: string;
      kind: string;
      filename: string;
      contentType: string;
      size: number;
      sha256: string;
      downloadUrl: string;
    };
    errors?: { message: string; extensions: { code: string; reason?: string } }[];
  };
};

/** POSTs a file to /evidence as the raw body. */
export async function uploadFile(
  gw: TestGateway,
  token: string | undefined,
  params: { caseId: string; kind: string; filename?: string },
  body: Buffer | ReadableStream<Uint8Array>,
  headers: Record<string, string> = {},
): Promise<UploadResult> {
  const query = new URLSearchParams({
    caseId: params.caseId,
    kind: params.kind,
    ...(params.filename ? { filename: params.filename } : {}),
  });
  const response = await fetch(`${gw.url}/evidence?${query.toString()}`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body,
    // A stream body is sent chunked, without a Content-Length.
    ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
  });
  return { status: response.status, body: (await response.json()) as UploadResult['body'] };
}

export const UPDATE_FIELDS = `id kind component { id kind title } narrative language occurredOn
  spend { amount { amount currency } amountEur { amount } rate { currency rate validFrom } proof { id filename } }
  corrects { id } correctedBy { id } postedBy { organisation { code } } postedAt`;

export const BUDGET_FIELDS = `budget { entitlement { amount } planned { amount } actual { amount } remaining { amount }
  lines { component { id kind title } planned { amount } actual { amount } remaining { amount } } }`;

export const SHIPMENT_FIELDS = `id component { id } status allowedNext version deliveryClosed carrier trackingReference supplier
  items { description quantity } handoverCertificate { id kind }
  events { status at place actor { organisation { code } } handledBy note evidence { id } }`;

export const SURVEY_FIELDS = `id visit visitedOn surveyVersion scores { economic social psychosocial composite }
  answers { indicator dimension answer score } progressUpdate { id kind }`;

const POST = `mutation ($id: ID!, $input: ProgressUpdateInput!, $v: Int!, $k: String) {
  postProgressUpdate(caseId: $id, input: $input, expectedVersion: $v, idempotencyKey: $k) { case { id version status } update { ${UPDATE_FIELDS} } } }`;
const SHIP = `mutation ($id: ID!, $input: ShipmentEventInput!, $v: Int!, $k: String) {
  recordShipmentEvent(caseId: $id, input: $input, expectedVersion: $v, idempotencyKey: $k) { case { id version status } shipment { ${SHIPMENT_FIELDS} } } }`;
const VISIT = `mutation ($id: ID!, $input: MonitoringVisitInput!, $v: Int!, $k: String) {
  recordMonitoringVisit(caseId: $id, input: $input, expectedVersion: $v, idempotencyKey: $k) { case { id version status } survey { ${SURVEY_FIELDS} } } }`;
const REPORT = `mutation ($id: ID!, $input: FinalReportInput!, $v: Int!, $k: String) {
  submitFinalReport(caseId: $id, input: $input, expectedVersion: $v, idempotencyKey: $k) { id version status } }`;

export type Update = {
  id: string;
  kind: string;
  component: { id: string; kind: string; title: string } | null;
  narrative: string;
  occurredOn: string;
  spend: {
    amount: { amount: number; currency: string };
    amountEur: { amount: number };
    rate: { currency: string; rate: string; validFrom: string };
    proof: { id: string; filename: string };
  } | null;
  corrects: { id: string } | null;
  correctedBy: { id: string } | null;
  postedBy: { organisation: { code: string } };
};

export type ShipmentView = {
  id: string;
  status: string;
  allowedNext: string[];
  version: number;
  deliveryClosed: boolean;
  handoverCertificate: { id: string; kind: string } | null;
  events: {
    status: string;
    at: string;
    place: string;
    actor: { organisation: { code: string } };
    evidence: { id: string } | null;
  }[];
};

export type SurveyView = {
  id: string;
  visit: number | null;
  surveyVersion: string;
  visitedOn: string;
  scores: { economic: number; social: number; psychosocial: number; composite: number };
  answers: { indicator: string; dimension: string; answer: string; score: number | null }[];
};

type CaseRef = { id: string; version: number; status: string };

/** Answers for every indicator of config/sustainability-survey.yaml: the best, with some changed. */
export function surveyAnswers(changes: Record<string, string> = {}) {
  const best: Record<string, string> = {
    ECO_INCOME: 'REGULAR',
    ECO_SATISFACTION: 'VERY_SATISFIED',
    ECO_FOOD: 'NEVER',
    ECO_BORROW: 'YES',
    ECO_DEBT: 'NO_DEBT',
    SOC_HOUSING: 'ADEQUATE',
    SOC_EDUCATION: 'ALL',
    SOC_DOCUMENTS: 'YES',
    SOC_HEALTHCARE: 'YES',
    SOC_WATER: 'ALWAYS',
    PSY_PARTICIPATION: 'OFTEN',
    PSY_SUPPORT: 'SEVERAL',
    PSY_SAFETY: 'ALWAYS',
    PSY_DISTRESS: 'RARELY',
    PSY_BELONGING: 'YES',
  };
  return Object.entries({ ...best, ...changes }).map(([indicator, answer]) => ({ indicator, answer }));
}

/** The implementation steps of a case, as its partner (or another client) makes them. */
export function implementation(gw: TestGateway, flow: ReturnType<typeof workflow>) {
  async function write<T>(client: Client, mutation: string, c: Tracked, input: unknown, key?: string): Promise<GqlResponse<T>> {
    const r = await client.gql<T>(mutation, { id: c.id, input, v: c.version, k: key ?? null });
    if (!r.errors && r.data) {
      const payload = Object.values(r.data)[0] as { case?: CaseRef } & Partial<CaseRef>;
      c.version = (payload.case ?? (payload as CaseRef)).version;
    }
    return r;
  }
  function ok<T>(r: GqlResponse<T>): T {
    if (r.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(r.errors, null, 2)}`);
    return r.data!;
  }
  return {
    async upload(
      c: Tracked,
      kind = 'RECEIPT',
      bytes: Buffer = samplePdf(`${kind} for ${c.id}`),
      filename = `${kind.toLowerCase()}.pdf`,
      client = flow.officer,
    ) {
      const r = await uploadFile(gw, client.token, { caseId: c.id, kind, filename }, bytes);
      if (!r.body.evidence) throw new Error(`upload refused: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body.evidence;
    },
    postRaw: (c: Tracked, input: unknown, client: Client = flow.officer, key?: string) =>
      write<{ postProgressUpdate: { case: CaseRef; update: Update } }>(client, POST, c, input, key),
    async post(c: Tracked, input: unknown, client: Client = flow.officer, key?: string) {
      return ok(await this.postRaw(c, input, client, key)).postProgressUpdate;
    },
    shipRaw: (c: Tracked, input: unknown, client: Client = flow.officer, key?: string) =>
      write<{ recordShipmentEvent: { case: CaseRef; shipment: ShipmentView } }>(client, SHIP, c, input, key),
    async ship(c: Tracked, input: unknown, client: Client = flow.officer) {
      return ok(await this.shipRaw(c, input, client)).recordShipmentEvent;
    },
    visitRaw: (c: Tracked, input: unknown, client: Client = flow.officer) =>
      write<{ recordMonitoringVisit: { case: CaseRef; survey: SurveyView } }>(client, VISIT, c, input),
    async visit(c: Tracked, input: unknown, client: Client = flow.officer) {
      return ok(await this.visitRaw(c, input, client)).recordMonitoringVisit;
    },
    reportRaw: (c: Tracked, input: unknown, client: Client = flow.officer) =>
      write<{ submitFinalReport: CaseRef }>(client, REPORT, c, input),
    async report(c: Tracked, input: unknown, client: Client = flow.officer) {
      return ok(await this.reportRaw(c, input, client)).submitFinalReport;
    },
  };
}

/** A shipment's whole happy path from an existing ORDERED shipment, one step per call. */
export const NEXT_STEPS = ['DISPATCHED', 'IN_TRANSIT', 'AT_CUSTOMS', 'DELIVERED'] as const;

/** The gateway's clock set to 09:00 UTC on `day`, with the workflow and implementation builders. */
export function onDay(gw: TestGateway, clock: ManualClock, day: string) {
  clock.set(new Date(`${day}T09:00:00Z`));
  const flow = workflow(gw);
  return { flow, impl: implementation(gw, flow) };
}

/** A case with an approved plan of these components: the builders and the case as tracked. */
export async function approvedWith(gw: TestGateway, components: Record<string, unknown>[]) {
  const flow = workflow(gw);
  const approved = await flow.approved({ components });
  const c: Tracked = { id: approved.id, version: approved.version };
  return { flow, impl: implementation(gw, flow), c, approved };
}
