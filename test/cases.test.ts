// The referral workflow through GraphQL: registration, referral, answer, arrival, closure,
// every illegal step, and what each party sees.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_PRINCIPAL } from '../src/auth/principal.ts';
import { clockAt, codes, startGateway, type TestGateway } from './helpers/gateway.ts';
import {
  AMOUNTS,
  CASE_FIELDS,
  caseInput,
  CREATE_CASE,
  LINES,
  workflow,
  type Amounts,
  type CaseView,
  type Lines,
} from './helpers/factories.ts';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => {
  await gw?.close();
});

describe('registration', () => {
  it('a caseworker registers a case: a pseudonymous reference, DRAFT, entitlement from the household', async () => {
    const flow = workflow(gw);
    const c = await flow.create({
      household: [
        { yearOfBirth: 1988, gender: 'FEMALE', relation: 'PRINCIPAL' },
        { yearOfBirth: 1986, gender: 'MALE', relation: 'SPOUSE' },
        { yearOfBirth: 2015, gender: 'FEMALE', relation: 'CHILD' },
        { yearOfBirth: 2019, gender: 'MALE', relation: 'CHILD' },
      ],
    });
    expect(c.reference).toMatch(new RegExp(`^NL-${gw.clock.now().getUTCFullYear()}-\\d{6}$`));
    expect(c.status).toBe('DRAFT');
    expect(c.version).toBe(1);
    // EURP voluntary: 2,000 per adult + 1,000 per minor; no cash.
    expect((await flow.state.ok<Amounts>(AMOUNTS, { id: c.id })).case.entitlement).toEqual({
      total: { amount: 2 * 200000 + 2 * 100000 },
      cashCap: { amount: 0 },
    });
    expect((await flow.state.ok<Lines>(LINES, { id: c.id })).case.entitlement.lines).toEqual([
      { category: 'ADULT', persons: 2, each: { amount: 200000 } },
      { category: 'MINOR', persons: 2, each: { amount: 100000 } },
    ]);
  });

  it('references are unique and increase', async () => {
    const flow = workflow(gw);
    const refs = await Promise.all(Array.from({ length: 8 }, () => flow.create()));
    const numbers = refs.map((c) => Number(c.reference.slice(-6)));
    expect(new Set(numbers).size).toBe(8);
  });

  it('the AVRR-NL programme gives 1,800 per adult and 2,800 per unaccompanied minor, with a 300 cash cap', async () => {
    const flow = workflow(gw);
    const adult = await flow.create({ programme: 'NL-AVRR' });
    expect((await flow.state.ok<Amounts>(AMOUNTS, { id: adult.id })).case.entitlement).toEqual({
      total: { amount: 180000 },
      cashCap: { amount: 30000 },
    });
    const minor = await flow.create({
      programme: 'NL-AVRR',
      household: [{ yearOfBirth: 2011, gender: 'MALE', relation: 'PRINCIPAL' }],
      vulnerability: { unaccompaniedMinor: true, victimOfTrafficking: false, medicalNeeds: false },
    });
    expect((await flow.state.ok<Lines>(LINES, { id: minor.id })).case.entitlement.lines).toEqual([
      { category: 'UNACCOMPANIED_MINOR', persons: 1, each: { amount: 280000 } },
    ]);
  });

  it('the entitlement is recomputed when the household changes', async () => {
    const flow = workflow(gw);
    const c = await flow.create();
    const total = async () => (await flow.state.ok<Amounts>(AMOUNTS, { id: c.id })).case.entitlement.total?.amount;
    expect(await total()).toBe(200000);
    const { updateCase } = await flow.state.ok<{ updateCase: CaseView }>(
      `mutation ($id: ID!, $input: UpdateCaseInput!, $v: Int!) { updateCase(id: $id, input: $input, expectedVersion: $v) { ${CASE_FIELDS} } }`,
      {
        id: c.id,
        v: c.version,
        input: {
          household: [
            { yearOfBirth: 1990, gender: 'MALE', relation: 'PRINCIPAL' },
            { yearOfBirth: 2020, gender: 'FEMALE', relation: 'CHILD' },
          ],
        },
      },
    );
    expect(updateCase.version).toBe(2);
    expect(await total()).toBe(300000);
  });

  it('refuses bad input with every problem named', async () => {
    const r = await gw.as('NL', 'caseworker').gql(CREATE_CASE, {
      input: {
        ...caseInput(),
        originCountry: 'Afghanistan',
        household: [{ yearOfBirth: 1990, gender: 'MALE', relation: 'SPOUSE' }],
        consent: { purposes: ['REINTEGRATION_SUPPORT'], givenOn: '2026-05-01', expiresOn: '2026-04-01' },
      },
    });
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
    const paths = (r.errors?.[0]?.extensions.problems as { path: string }[]).map((p) => p.path).sort();
    expect(paths).toEqual(['consent.expiresOn', 'household', 'originCountry']);
  });

  it('a programme for the other return type is refused', async () => {
    const r = await gw
      .as('NL', 'caseworker')
      .gql(CREATE_CASE, { input: caseInput({ programme: 'EURP-NONVOL', returnType: 'VOLUNTARY' }) });
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
  });

  it('partners cannot register cases', async () => {
    const r = await gw.as('P-AF-HOPE', 'partner-officer').gql(CREATE_CASE, { input: caseInput() });
    expect(codes(r)).toEqual(['FORBIDDEN']);
  });

  it('a case registered after the person already returned records the arrival', async () => {
    const r = await gw
      .as('NL', 'caseworker')
      .ok<{ createCase: { registeredAfterReturn: boolean; arrivedOn: string } }>(
        `mutation ($input: CreateCaseInput!) { createCase(input: $input) { registeredAfterReturn arrivedOn } }`,
        { input: caseInput({ arrivedOn: '2026-10-01' }) },
      );
    expect(r.createCase).toEqual({ registeredAfterReturn: true, arrivedOn: '2026-10-01' });
  });
});

describe('referral', () => {
  it('a draft is visible only to its state; once referred the partner sees it', async () => {
    const flow = workflow(gw);
    const c = await flow.create();
    const get = `query ($id: ID!) { case(id: $id) { id status } }`;
    expect(codes(await flow.officer.gql(get, { id: c.id }))).toEqual(['NOT_FOUND']);
    const referred = await flow.refer(c);
    expect(referred.status).toBe('REFERRED');
    const seen = await flow.officer.ok<{ case: { status: string } }>(get, { id: c.id });
    expect(seen.case.status).toBe('REFERRED');
  });

  it('referral needs active consent: CONSENT_REQUIRED once it expired', async () => {
    const flow = workflow(gw);
    const c = await flow.create({
      consent: { purposes: ['REINTEGRATION_SUPPORT'], givenOn: '2020-01-01', expiresOn: '2021-01-01' },
    });
    const r = await flow.state.gql(`mutation ($id: ID!, $v: Int!) { referCase(id: $id, expectedVersion: $v) { id } }`, {
      id: c.id,
      v: c.version,
    });
    expect(codes(r)).toEqual(['CONSENT_REQUIRED']);
    expect(r.errors?.[0]?.extensions).toMatchObject({ action: 'referral', consentStatus: 'EXPIRED' });
  });

  it('referral needs an active contract with the partner for the country and programme', async () => {
    const flow = workflow(gw, 'NL', 'P-MA-ATLAS');
    // NL contracts Atlas for Morocco under NL-AVRR only.
    const c = await flow.create({ originCountry: 'MA', programme: 'EURP-VOL' });
    const r = await flow.state.gql(`mutation ($id: ID!, $v: Int!) { referCase(id: $id, expectedVersion: $v) { id } }`, {
      id: c.id,
      v: c.version,
    });
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
    expect(r.errors?.[0]?.message).toMatch(/no active contract/);
  });

  it('the partner accepts; declining needs a reason', async () => {
    const flow = workflow(gw);
    const referred = await flow.refer(await flow.create());
    const noReason = await flow.officer.gql(
      `mutation ($id: ID!, $v: Int!) { respondToReferral(id: $id, decision: DECLINE, expectedVersion: $v) { id } }`,
      {
        id: referred.id,
        v: referred.version,
      },
    );
    expect(codes(noReason)).toEqual(['BAD_USER_INPUT']);
    const accepted = await flow.accept(referred);
    expect(accepted.status).toBe('ACCEPTED');
  });

  it('a declined case can be reopened to another partner, who then sees it while the first no longer does', async () => {
    const flow = workflow(gw);
    const declined = await flow.decline(await flow.refer(await flow.create()), 'no capacity in Herat');
    expect(declined.status).toBe('DECLINED');
    const { reopenCase } = await flow.state.ok<{ reopenCase: CaseView }>(
      `mutation ($id: ID!, $p: ID, $v: Int!) { reopenCase(id: $id, partner: $p, expectedVersion: $v) { ${CASE_FIELDS} } }`,
      { id: declined.id, p: 'P-AF-HOPE', v: declined.version },
    );
    expect(reopenCase.status).toBe('REFERRED');
  });
});

describe('illegal steps', () => {
  it('every step out of order answers INVALID_TRANSITION naming the allowed steps', async () => {
    const flow = workflow(gw);
    const draft = await flow.create();
    const respond = await flow.state.gql(
      `mutation ($id: ID!) { closeCase(id: $id, reason: OPTED_OUT, expectedVersion: 99) { id } }`,
      { id: draft.id },
    );
    expect(codes(respond)).toEqual(['CONFLICT']);

    // A draft cannot be confirmed as arrived (the partner does not even see it: NOT_FOUND).
    expect(
      codes(
        await flow.officer.gql(
          `mutation ($id: ID!, $v: Int!) { confirmArrival(id: $id, arrivedOn: "2026-11-01", expectedVersion: $v) { id } }`,
          { id: draft.id, v: 1 },
        ),
      ),
    ).toEqual(['NOT_FOUND']);
    const referred = await flow.refer(draft);
    const early = await flow.officer.gql(
      `mutation ($id: ID!, $v: Int!) { confirmArrival(id: $id, arrivedOn: "2026-11-01", expectedVersion: $v) { id } }`,
      {
        id: referred.id,
        v: referred.version,
      },
    );
    expect(codes(early)).toEqual(['INVALID_TRANSITION']);
    expect(early.errors?.[0]?.extensions).toMatchObject({
      from: 'REFERRED',
      attempted: 'ARRIVED',
      allowed: ['ACCEPTED', 'DECLINED', 'EXPIRED', 'CLOSED'],
    });

    const again = await flow.state.gql(`mutation ($id: ID!, $v: Int!) { referCase(id: $id, expectedVersion: $v) { id } }`, {
      id: referred.id,
      v: referred.version,
    });
    expect(codes(again)).toEqual(['INVALID_TRANSITION']);

    const accepted = await flow.accept(referred);
    const submitEarly = await flow.officer.gql(
      `mutation ($id: ID!, $v: Int!) { submitPlan(caseId: $id, expectedVersion: $v) { id } }`,
      {
        id: accepted.id,
        v: accepted.version,
      },
    );
    expect(codes(submitEarly)).toEqual(['INVALID_TRANSITION']);
    expect(submitEarly.errors?.[0]?.extensions).toMatchObject({ from: 'ACCEPTED', allowed: ['DEPARTED', 'ARRIVED', 'CLOSED'] });

    const closed = await flow.close(accepted, 'RE_MIGRATED');
    expect(closed.status).toBe('CLOSED');
    const reopen = await flow.state.gql(`mutation ($id: ID!, $v: Int!) { reopenCase(id: $id, expectedVersion: $v) { id } }`, {
      id: closed.id,
      v: closed.version,
    });
    expect(codes(reopen)).toEqual(['INVALID_TRANSITION']);
    expect(reopen.errors?.[0]?.extensions.allowed).toEqual([]);
  });

  it('closing needs a reason from the fixed list', async () => {
    const flow = workflow(gw);
    const c = await flow.create();
    const r = await flow.state.gql(`mutation ($id: ID!) { closeCase(id: $id, reason: BORED, expectedVersion: 1) { id } }`, {
      id: c.id,
    });
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
  });

  it('roles: a caseworker cannot decide plans, a partner cannot refer or close', async () => {
    const flow = workflow(gw);
    const c = await flow.create();
    expect(
      codes(
        await gw
          .as('NL', 'caseworker')
          .gql(`mutation ($id: ID!) { decidePlan(caseId: $id, decision: APPROVE, expectedVersion: 1) { id } }`, { id: c.id }),
      ),
    ).toEqual(['FORBIDDEN']);
    expect(
      codes(await flow.officer.gql(`mutation ($id: ID!) { referCase(id: $id, expectedVersion: 1) { id } }`, { id: c.id })),
    ).toEqual(['FORBIDDEN']);
    expect(
      codes(
        await flow.officer.gql(`mutation ($id: ID!) { closeCase(id: $id, reason: DECEASED, expectedVersion: 1) { id } }`, {
          id: c.id,
        }),
      ),
    ).toEqual(['FORBIDDEN']);
  });
});

describe('referral expiry', () => {
  it('a referral left unanswered for 7 days expires, cannot be answered, and can be reopened', async () => {
    const clock = clockAt('2026-11-02T09:00:00Z');
    const timed = await startGateway({ clock });
    try {
      const referred = await workflow(timed).refer(await workflow(timed).create());
      clock.advance(6 * 86_400_000);
      expect(await timed.services.cases.expireReferrals(SYSTEM_PRINCIPAL)).toBe(0);
      clock.advance(86_400_000 + 60_000);
      // Past the deadline the partner can no longer answer, even before the expiry job ran.
      const late = await workflow(timed).officer.gql(
        `mutation ($id: ID!, $v: Int!) { respondToReferral(id: $id, decision: ACCEPT, expectedVersion: $v) { id } }`,
        {
          id: referred.id,
          v: referred.version,
        },
      );
      expect(codes(late)).toEqual(['INVALID_TRANSITION']);
      expect(await timed.services.cases.expireReferrals(SYSTEM_PRINCIPAL)).toBe(1);
      const flow = workflow(timed);
      const { case: expired } = await flow.state.ok<{ case: CaseView }>(`query ($id: ID!) { case(id: $id) { ${CASE_FIELDS} } }`, {
        id: referred.id,
      });
      expect(expired.status).toBe('EXPIRED');
      const { reopenCase } = await flow.state.ok<{ reopenCase: CaseView }>(
        `mutation ($id: ID!, $v: Int!) { reopenCase(id: $id, expectedVersion: $v) { ${CASE_FIELDS} } }`,
        { id: expired.id, v: expired.version },
      );
      expect(reopenCase.status).toBe('REFERRED');
      expect((await flow.accept(reopenCase)).status).toBe('ACCEPTED');
    } finally {
      await timed.close();
    }
  });
});
