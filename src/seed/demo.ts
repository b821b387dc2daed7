// The demo data set: programmes, the demo network and (once cases exist) cases in every
// status. Idempotent: every write carries a fixed idempotency key, and records that
// exist already are left alone, so running it twice adds nothing.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { z } from 'zod';
import type { Principal } from '../auth/principal.ts';
import type { Services } from '../services.ts';
import type { ProgrammeDoc } from '../modules/organisations/organisation.model.ts';
import { AGENCY_TYPES, ORGANISATION_KINDS } from '../auth/principal.ts';
import { CONSENT_PURPOSES } from '../modules/cases/case.consent.ts';
import { seedDemoCases } from './demo-cases.ts';
import { seedDemoExtracts } from './demo-extracts.ts';
import { seedDemoProgress } from './demo-progress.ts';
import { seedDemoTeams } from './demo-teams.ts';
import { seedDemoReturnLeg } from './demo-return-leg.ts';

export const CONFIG_DIR = fileURLToPath(new URL('../../config/', import.meta.url));

/** The seed acts as the network's administration. */
export const SEED_PRINCIPAL: Principal = {
  subject: 'seed',
  issuer: 'erin-exchange',
  organisation: { code: 'SYSTEM', kind: 'NETWORK', name: 'ERIN Exchange' },
  roles: ['network-admin'],
};

const programmeFile = z.object({
  programmes: z.array(
    z
      .object({
        code: z.string(),
        name: z.string(),
        description: z.string(),
        returnType: z.enum(['VOLUNTARY', 'NON_VOLUNTARY']).nullable().default(null),
        currency: z.string(),
        arrivalSupport: z.number().int(),
        arrivalSupportWorkingDays: z.number().int(),
        perAdult: z.number().int(),
        perMinor: z.number().int(),
        perUnaccompaniedMinor: z.number().int(),
        cashCap: z.number().int(),
        spendWithinMonths: z.number().int(),
        monitoringMonths: z.array(z.number().int()),
        active: z.boolean(),
        validFrom: z.string().nullable().default(null),
        validTo: z.string().nullable().default(null),
        firstPeriodContributionPerAdult: z.number().int().default(0),
        firstPeriodContributionPerMinor: z.number().int().default(0),
        eligibility: z
          .object({
            excludedNationalities: z.array(z.string().regex(/^[A-Z]{2}$/)).default([]),
            requiresRejectedAsylum: z.boolean().default(false),
            contributionNeedsResidenceApplication: z.boolean().default(false),
            noRepeatWithinYears: z.number().int().min(0).default(0),
          })
          .default({
            excludedNationalities: [],
            requiresRejectedAsylum: false,
            contributionNeedsResidenceApplication: false,
            noRepeatWithinYears: 0,
          }),
        // What the programme asks the returnee's consent for (from the fixed list), and what it cannot do without.
        consentPurposes: z
          .array(z.enum(CONSENT_PURPOSES))
          .min(1)
          .refine((p) => new Set(p).size === p.length, 'a purpose is listed twice'),
        requiredConsentPurposes: z.array(z.enum(CONSENT_PURPOSES)),
        // A national programme names its member state(s); none: open to every member state (EURP).
        memberStates: z
          .array(z.string().regex(/^[A-Z]{2}$/, 'a member state code such as NL'))
          .refine((s) => new Set(s).size === s.length, 'a member state is listed twice')
          .default([]),
      })
      .refine((p) => p.requiredConsentPurposes.every((r) => p.consentPurposes.includes(r)), {
        message: 'a required consent purpose is not among consentPurposes',
        path: ['requiredConsentPurposes'],
      }),
  ),
});

const networkFile = z.object({
  organisations: z.array(
    z.object({
      code: z.string(),
      kind: z.enum(ORGANISATION_KINDS),
      name: z.string(),
      countries: z.array(z.string()),
      memberState: z.string().optional(),
      agency: z.enum(AGENCY_TYPES).optional(),
    }),
  ),
  contracts: z.array(
    z.object({
      id: z.string(),
      memberState: z.string(),
      partner: z.string(),
      originCountries: z.array(z.string()),
      programmes: z.array(z.string()),
      validFrom: z.string(),
      validTo: z.string().optional(),
    }),
  ),
});

export function readProgrammes(file = `${CONFIG_DIR}programmes.yaml`) {
  return programmeFile.parse(YAML.parse(readFileSync(file, 'utf8'))).programmes;
}

const ratesFile = z.object({ rates: z.array(z.object({ currency: z.string(), rate: z.string(), validFrom: z.string() })) });

export function readDemoRates(file = `${CONFIG_DIR}demo-rates.yaml`) {
  return ratesFile.parse(YAML.parse(readFileSync(file, 'utf8'))).rates;
}

export function readDemoNetwork(file = `${CONFIG_DIR}demo-network.yaml`) {
  return networkFile.parse(YAML.parse(readFileSync(file, 'utf8')));
}

export type SeedReport = { created: Record<string, number>; existing: Record<string, number> };

function tally(report: SeedReport, kind: string, created: boolean): void {
  const bucket = created ? report.created : report.existing;
  bucket[kind] = (bucket[kind] ?? 0) + 1;
}

/**
 * The programmes of config/programmes.yaml: each one whose stored rules differ is written again
 * (a new version), so a changed file reaches a running network without demo data.
 */
export async function seedProgrammes(
  services: Services,
  report: SeedReport = { created: {}, existing: {} },
): Promise<SeedReport> {
  const { organisations } = services;
  for (const rules of readProgrammes()) {
    const current = await organisations.programme(rules.code);
    const same =
      current &&
      (Object.keys(rules) as (keyof typeof rules)[]).every(
        (k) => JSON.stringify(current[k as keyof ProgrammeDoc]) === JSON.stringify(rules[k]),
      );
    if (same) {
      tally(report, 'programmes', false);
      continue;
    }
    await organisations.putProgramme(SEED_PRINCIPAL, rules, `seed-programme-${rules.code}-v${(current?.version ?? 0) + 1}`);
    tally(report, 'programmes', true);
  }
  return report;
}

/** Programmes and the demo network. */
export async function seedNetwork(services: Services, report: SeedReport = { created: {}, existing: {} }): Promise<SeedReport> {
  const { organisations } = services;
  await seedProgrammes(services, report);
  const network = readDemoNetwork();
  for (const org of network.organisations) {
    if (await organisations.lookup(org.code)) {
      tally(report, 'organisations', false);
      continue;
    }
    await organisations.create(SEED_PRINCIPAL, org, `seed-org-${org.code}`);
    tally(report, 'organisations', true);
  }
  for (const contract of network.contracts) {
    const existing = await organisations.contracts(SEED_PRINCIPAL, { memberState: contract.memberState });
    if (existing.some((c) => c._id === contract.id)) {
      tally(report, 'contracts', false);
      continue;
    }
    await organisations.createContract(SEED_PRINCIPAL, contract, `seed-contract-${contract.id}`);
    tally(report, 'contracts', true);
  }
  const existingRates = await services.rates.list(SEED_PRINCIPAL);
  for (const rate of readDemoRates()) {
    if (existingRates.some((r) => r.currency === rate.currency && r.validFrom === rate.validFrom)) {
      tally(report, 'exchange rates', false);
      continue;
    }
    await services.rates.set(SEED_PRINCIPAL, rate, null, `seed-rate-${rate.currency}-${rate.validFrom}`);
    tally(report, 'exchange rates', true);
  }
  return report;
}

export async function seedDemo(services: Services): Promise<SeedReport> {
  const report = await seedNetwork(services);
  const cases = await seedDemoCases(services);
  if (cases.created) report.created.cases = cases.created;
  if (cases.existing) report.existing.cases = cases.existing;
  await seedDemoProgress(services, report);
  await seedDemoExtracts(services, report);
  const returnLeg = await seedDemoReturnLeg(services);
  if (returnLeg.created) report.created['cases in the return leg'] = returnLeg.created;
  if (returnLeg.existing) report.existing['cases in the return leg'] = returnLeg.existing;
  const teams = await seedDemoTeams(services);
  if (teams.created) report.created['cases with a team'] = teams.created;
  if (teams.existing) report.existing['cases with a team'] = teams.existing;
  return report;
}
