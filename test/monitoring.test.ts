// Monitoring: the visit schedule made at plan approval from the programme's months after
// arrival, sustainability surveys scored against hand-computed values, kept as a history
// with the newest scores on the case, and the answers sealed at rest.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED_PRINCIPAL } from '../src/seed/demo.ts';
import type { ManualClock } from '../src/clock.ts';
import { clockAt, codes, startGateway, type TestGateway } from './helpers/gateway.ts';
import { trainingComponent, workflow } from './helpers/factories.ts';
import { onDay, SURVEY_FIELDS, surveyAnswers, type Tracked } from './helpers/implementation.ts';

let gw: TestGateway;
let clock: ManualClock;
beforeAll(async () => {
  clock = clockAt('2026-02-05T09:00:00Z');
  gw = await startGateway({ clock });
});
afterAll(async () => {
  await gw?.close();
});

const on = (day: string) => onDay(gw, clock, day);

/** Approved on 5 February 2026 after an arrival on 31 January. */
async function monitoredCase(spec: Record<string, unknown> = {}) {
  const { flow } = on('2026-02-05');
  const approved = await flow.approve(
    await flow.submit(await flow.draft(await flow.arrived(spec, '2026-01-31'), { components: [trainingComponent(80000)] })),
  );
  const c: Tracked = { id: approved.id, version: approved.version };
  return { c, approved };
}

const SCHEDULE = `query ($id: ID!) { case(id: $id) { monitoring { schedule { visit monthsAfterArrival dueOn visitedOn status }
  surveys { ${SURVEY_FIELDS} } latestScores { economic social psychosocial composite } } } }`;

type Monitoring = {
  schedule: { visit: number; monthsAfterArrival: number; dueOn: string; visitedOn: string | null; status: string }[];
  surveys: { id: string; visit: number | null; visitedOn: string; scores: Record<string, number> }[];
  latestScores: Record<string, number> | null;
};

async function monitoringOf(id: string): Promise<Monitoring> {
  return (await workflow(gw).state.ok<{ case: { monitoring: Monitoring } }>(SCHEDULE, { id })).case.monitoring;
}

describe('the visit schedule', () => {
  it('is made at plan approval: 3, 6 and 12 months after arrival, the end of a shorter month when the day is missing', async () => {
    const { c } = await monitoredCase();
    expect((await monitoringOf(c.id)).schedule).toEqual([
      { visit: 1, monthsAfterArrival: 3, dueOn: '2026-04-30', visitedOn: null, status: 'UPCOMING' },
      { visit: 2, monthsAfterArrival: 6, dueOn: '2026-07-31', visitedOn: null, status: 'UPCOMING' },
      { visit: 3, monthsAfterArrival: 12, dueOn: '2027-01-31', visitedOn: null, status: 'UPCOMING' },
    ]);
    on('2026-05-01');
    expect((await monitoringOf(c.id)).schedule[0]?.status).toBe('OVERDUE');
  });

  it('follows the programme’s configured months, and an amendment does not move it', async () => {
    const programme = (await gw.services.organisations.programme('NL-AVRR'))!;
    const { _id, version: _v, createdAt: _c, updatedAt: _u, ...rules } = programme;
    await gw.services.organisations.putProgramme(SEED_PRINCIPAL, { ...rules, monitoringMonths: [1, 4] }, 'test-avrr-months-1-4');
    const { c, approved } = await monitoredCase({ programme: 'NL-AVRR' });
    const expected = [
      { visit: 1, monthsAfterArrival: 1, dueOn: '2026-02-28', visitedOn: null, status: 'UPCOMING' },
      { visit: 2, monthsAfterArrival: 4, dueOn: '2026-05-31', visitedOn: null, status: 'UPCOMING' },
    ];
    expect((await monitoringOf(c.id)).schedule).toEqual(expected);
    const { flow } = on('2026-02-06');
    await flow.approve(
      await flow.submit(await flow.draft({ ...approved, version: c.version }, { components: [trainingComponent(90000)] })),
    );
    expect((await monitoringOf(c.id)).schedule).toEqual(expected);
  });
});

describe('sustainability surveys', () => {
  it('are scored per dimension and into a weighted composite, as computed by hand', async () => {
    const { c } = await monitoredCase();
    const { impl } = on('2026-05-02');
    const { survey } = await impl.visit(c, {
      visitedOn: '2026-05-01',
      narrative: 'Visited at home.',
      language: 'en',
      answers: surveyAnswers({
        ECO_INCOME: 'IRREGULAR',
        ECO_SATISFACTION: 'DISSATISFIED',
        ECO_FOOD: 'SOMETIMES',
        ECO_BORROW: 'NO',
        ECO_DEBT: 'SMALLER',
        SOC_HOUSING: 'TEMPORARY',
        SOC_EDUCATION: 'NOT_APPLICABLE',
        SOC_HEALTHCARE: 'LIMITED',
        PSY_PARTICIPATION: 'SOMETIMES',
        PSY_SUPPORT: 'ONE',
        PSY_SAFETY: 'MOSTLY',
        PSY_DISTRESS: 'OFTEN',
        PSY_BELONGING: 'PARTLY',
      }),
    });
    // Economic: (0.5·2 + 0.25·1 + 0.5·1.5 + 0·1 + 0.5·1) / 6.5 = 2.5 / 6.5 = 0.384615…
    // Social, education not applicable: (0.5·1.5 + 1 + 0.5 + 1) / 4.5 = 3.25 / 4.5 = 0.722222…
    // Psychosocial: (0.5 + 0.5 + 0.75 + 0·2 + 0.5) / 6 = 2.25 / 6 = 0.375
    // Composite: 0.35·0.384615 + 0.30·0.722222 + 0.35·0.375 = 0.482532…
    expect(survey.scores).toEqual({ economic: 0.3846, social: 0.7222, psychosocial: 0.375, composite: 0.4825 });
    expect(survey.visit).toBe(1);
    expect(survey.surveyVersion).toBe('ERIN-RSS-2026.1');
    expect(survey.answers.find((a) => a.indicator === 'SOC_EDUCATION')).toEqual({
      indicator: 'SOC_EDUCATION',
      dimension: 'SOCIAL',
      answer: 'NOT_APPLICABLE',
      score: null,
    });
    expect((await monitoringOf(c.id)).latestScores).toEqual(survey.scores);
  });

  it('are kept as a history; a visit entered late does not replace newer scores, and a far-off visit is an extra one', async () => {
    const { c } = await monitoredCase();
    let { impl } = on('2026-05-02');
    const first = await impl.visit(c, {
      visitedOn: '2026-05-01',
      narrative: 'v1',
      language: 'en',
      answers: surveyAnswers({ ECO_INCOME: 'NONE' }),
    });
    ({ impl } = on('2026-08-02'));
    const second = await impl.visit(c, { visitedOn: '2026-08-01', narrative: 'v2', language: 'en', answers: surveyAnswers() });
    const late = await impl.visit(c, {
      visitedOn: '2026-07-15',
      narrative: 'An extra visit after a concern, entered late',
      language: 'en',
      answers: surveyAnswers({ PSY_SAFETY: 'NEVER' }),
    });
    expect([first.survey.visit, second.survey.visit, late.survey.visit]).toEqual([1, 2, null]);
    const m = await monitoringOf(c.id);
    expect(m.surveys.map((s) => s.visitedOn)).toEqual(['2026-08-01', '2026-07-15', '2026-05-01']);
    expect(m.latestScores).toEqual(second.survey.scores);
    expect(m.schedule.map((v) => [v.visit, v.visitedOn, v.status])).toEqual([
      [1, '2026-05-01', 'MET_LATE'],
      [2, '2026-08-01', 'MET_LATE'],
      [3, null, 'UPCOMING'],
    ]);
    // Each visit is also a MONITORING_VISIT progress update.
    expect(second.survey).toMatchObject({ progressUpdate: { kind: 'MONITORING_VISIT' } });
  });

  it('refuses incomplete or unknown answers, naming each problem, and a visit recorded twice', async () => {
    const { c } = await monitoredCase();
    const { flow, impl } = on('2026-05-02');
    const answers = surveyAnswers({ ECO_FOOD: 'ALWAYS' }).filter((a) => a.indicator !== 'PSY_SAFETY');
    const r = await impl.visitRaw(c, {
      visitedOn: '2026-05-01',
      narrative: 'x',
      language: 'en',
      answers: [...answers, { indicator: 'ECO_LUCK', answer: 'YES' }],
    });
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
    const messages = (r.errors?.[0]?.extensions.problems as { message: string }[]).map((p) => p.message);
    expect(messages).toEqual(
      expect.arrayContaining([
        'no indicator ECO_LUCK',
        'PSY_SAFETY is not answered',
        'ECO_FOOD: ALWAYS is not one of NEVER, SOMETIMES, OFTEN',
      ]),
    );
    await impl.visit(c, { visitedOn: '2026-05-01', narrative: 'x', language: 'en', answers: surveyAnswers(), visit: 1 });
    const twice = await impl.visitRaw(c, {
      visitedOn: '2026-05-01',
      narrative: 'x',
      language: 'en',
      answers: surveyAnswers(),
      visit: 1,
    });
    expect(codes(twice)).toEqual(['BAD_USER_INPUT']);
    const byState = await impl.visitRaw(
      c,
      { visitedOn: '2026-05-01', narrative: 'x', language: 'en', answers: surveyAnswers() },
      flow.state,
    );
    expect(codes(byState)).toEqual(['FORBIDDEN']);
  });

  it('keep their answers sealed at rest; the scores stay readable for statistics', async () => {
    const { c } = await monitoredCase();
    const { impl } = on('2026-05-02');
    const { survey } = await impl.visit(c, {
      visitedOn: '2026-05-01',
      narrative: 'x',
      language: 'en',
      answers: surveyAnswers({ PSY_DISTRESS: 'OFTEN' }),
    });
    const db = await gw.raw();
    const raw = JSON.stringify([
      await db.collection('surveys').findOne({ _id: survey.id as never }),
      await db.collection('events').find({ caseId: c.id }).toArray(),
    ]);
    expect(raw).not.toContain('PSY_DISTRESS');
    expect(raw).toContain('"composite"');
    expect(survey.answers.find((a) => a.indicator === 'PSY_DISTRESS')?.answer).toBe('OFTEN');
  });

  it('the survey definition is published: 15 indicators, 5 in each dimension', async () => {
    const { sustainabilitySurvey } = await workflow(gw).officer.ok<{
      sustainabilitySurvey: {
        version: string;
        dimensions: { code: string; weight: number }[];
        indicators: { dimension: string }[];
      };
    }>(
      '{ sustainabilitySurvey { version dimensions { code weight } indicators { code dimension weight question answers { code score } } } }',
    );
    expect(sustainabilitySurvey.indicators).toHaveLength(15);
    for (const d of ['ECONOMIC', 'SOCIAL', 'PSYCHOSOCIAL'])
      expect(sustainabilitySurvey.indicators.filter((i) => i.dimension === d)).toHaveLength(5);
    expect(sustainabilitySurvey.dimensions.map((d) => d.weight).reduce((a, b) => a + b)).toBeCloseTo(1);
  });
});
