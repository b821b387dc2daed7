import { Schema } from 'mongoose';

/** A rate: how many units of `currency` one euro buys, from a day on (until the next one). */
export type ExchangeRateDoc = {
  _id: string;
  currency: string;
  /** Decimal string, e.g. "74.5" AFN per EUR. */
  rate: string;
  validFrom: string;
  version: number;
  createdAt: Date;
  updatedAt: Date;
};

export const exchangeRateSchema = new Schema<ExchangeRateDoc>(
  {
    _id: { type: String, required: true },
    currency: { type: String, required: true },
    rate: { type: String, required: true },
    validFrom: { type: String, required: true },
    version: { type: Number, required: true },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'exchange_rates', versionKey: false },
);
exchangeRateSchema.index({ currency: 1, validFrom: -1 });
