// The pseudonymous person key: a keyed hash (HMAC-SHA-256) of a person's identity attributes
// under a key of the member state's own, so the same person registered again in that state
// gives the same key, while nothing in the store says who it is and another state's key for
// the same person is unrelated. The attributes are never stored; the key stays in the
// state's scope (person_keys is tenant-owned by memberState).
import { Schema } from 'mongoose';
import { z } from 'zod';
import { tenantScoped } from '../../store/tenant.ts';
import { countryCode, isoDate, requiredText } from '../../validation.ts';

export const personIdentityInput = z.object({
  familyName: requiredText(200),
  givenNames: requiredText(200),
  dateOfBirth: isoDate,
  nationality: countryCode,
});
export type PersonIdentity = z.infer<typeof personIdentityInput>;

/** Names compared as people write them differently: no accents, case, punctuation or spacing, given names in any order. */
function normaliseName(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toUpperCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim()
    .split(' ')
    .sort()
    .join(' ');
}

/** The canonical text the key is computed from. */
export function identityText(identity: PersonIdentity): string {
  return JSON.stringify([
    normaliseName(identity.familyName),
    normaliseName(identity.givenNames),
    identity.dateOfBirth,
    identity.nationality,
  ]);
}

export type PersonKeyDoc = {
  /** The case the key was recorded for (one key per case). */
  _id: string;
  memberState: string;
  personKey: string;
  version: number;
  createdAt: Date;
};

export const personKeySchema = new Schema<PersonKeyDoc>(
  {
    _id: { type: String, required: true },
    memberState: { type: String, required: true },
    personKey: { type: String, required: true },
    version: { type: Number, required: true },
    createdAt: { type: Date, required: true },
  },
  { collection: 'person_keys', versionKey: false },
);
personKeySchema.plugin(tenantScoped);
personKeySchema.index({ memberState: 1, personKey: 1 });
