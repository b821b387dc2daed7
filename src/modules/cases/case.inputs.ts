// What clients may send to register and change a case, validated before any rule runs.
import { z } from 'zod';
import { countryCode, isoDate, organisationCode, text } from '../../validation.ts';
import { GENDERS, RELATIONS } from './case.model.ts';
import { RESIDENCE_APPLICATIONS } from '../eligibility/eligibility.rules.ts';
import { personIdentityInput } from '../eligibility/person-key.ts';
import { consentInput } from './case.consent.ts';

const householdInput = z
  .array(
    z.object({
      yearOfBirth: z.number().int().min(1900, 'after 1900'),
      /** Month precision, sealed; must fall in yearOfBirth. */
      birthMonth: z
        .string()
        .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'a month YYYY-MM')
        .nullish(),
      gender: z.enum(GENDERS),
      relation: z.enum(RELATIONS),
    }),
  )
  .min(1, 'at least the principal')
  .max(30)
  .refine((members) => members.filter((m) => m.relation === 'PRINCIPAL').length === 1, 'exactly one PRINCIPAL')
  .refine(
    (members) => members.every((m) => !m.birthMonth || Number(m.birthMonth.slice(0, 4)) === m.yearOfBirth),
    'birthMonth must fall in yearOfBirth',
  );

const vulnerabilityInput = z.object({
  unaccompaniedMinor: z.boolean(),
  victimOfTrafficking: z.boolean(),
  medicalNeeds: z.boolean(),
  notes: text(2000).nullish(),
});

export const createCaseInput = z.object({
  programme: organisationCode,
  originCountry: countryCode,
  returnType: z.enum(['VOLUNTARY', 'NON_VOLUNTARY']),
  partner: organisationCode.nullish(),
  implementingOrganisation: organisationCode.nullish(),
  nationality: countryCode.nullish(),
  residenceApplication: z.enum(RESIDENCE_APPLICATIONS).nullish(),
  /** Identity attributes for the person key only: never stored. */
  person: personIdentityInput.nullish(),
  plannedDepartureDate: isoDate.nullish(),
  plannedArrivalDate: isoDate.nullish(),
  arrivedOn: isoDate.nullish(),
  household: householdInput,
  needsAssessment: text(10_000).nullish(),
  vulnerability: vulnerabilityInput.nullish(),
  consent: consentInput,
});

export const updateCaseInput = z.object({
  partner: organisationCode.nullish(),
  plannedDepartureDate: isoDate.nullish(),
  plannedArrivalDate: isoDate.nullish(),
  household: householdInput.nullish(),
  needsAssessment: text(10_000).nullish(),
  vulnerability: vulnerabilityInput.nullish(),
});
