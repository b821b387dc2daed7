// What clients may send to register and change a case, validated before any rule runs.
import { z } from 'zod';
import { countryCode, isoDate, organisationCode, requiredText, text } from '../../validation.ts';
import { GENDERS, RELATIONS } from './case.model.ts';

const householdInput = z
  .array(
    z.object({
      yearOfBirth: z.number().int().min(1900, 'after 1900'),
      gender: z.enum(GENDERS),
      relation: z.enum(RELATIONS),
    }),
  )
  .min(1, 'at least the principal')
  .max(30)
  .refine((members) => members.filter((m) => m.relation === 'PRINCIPAL').length === 1, 'exactly one PRINCIPAL');

const vulnerabilityInput = z.object({
  unaccompaniedMinor: z.boolean(),
  victimOfTrafficking: z.boolean(),
  medicalNeeds: z.boolean(),
  notes: text(2000).nullish(),
});

const consentInput = z
  .object({ purpose: requiredText(500), givenOn: isoDate, expiresOn: isoDate })
  .refine((c) => c.expiresOn >= c.givenOn, { message: 'expires before it was given', path: ['expiresOn'] });

export const createCaseInput = z.object({
  programme: organisationCode,
  originCountry: countryCode,
  returnType: z.enum(['VOLUNTARY', 'NON_VOLUNTARY']),
  partner: organisationCode.nullish(),
  implementingOrganisation: organisationCode.nullish(),
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
  consent: consentInput.nullish(),
});
