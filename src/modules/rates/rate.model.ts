import { Schema } from 'mongoose';
import { versionedFields, type Versioned } from '../../events/event.model.ts';

/** A rate: how many units of `currency` one euro buys, from a day on (until the next one). */
export type ExchangeRateDoc = Versioned & {
  _id: string;
  currency: string;
  /** Decimal string, e.g. "74.5" AFN per EUR. */
  rate: string;
  validFrom: string;
};

export const exchangeRateSchema = new Schema<ExchangeRateDoc>(
  {
    _id: { type: String, required: true },
    currency: { type: String, required: true },
    rate: { type: String, required: true },
    validFrom: { type: String, required: true },
    ...versionedFields,
  },
  { collection: 'exchange_rates', versionKey: false },
);
exchangeRateSchema.index({ currency: 1, validFrom: -1 });
