// Exchange rates are data kept by the network's administrators. A plan's EUR figures use
// the rate valid on its submission day (the newest rate whose validFrom is not later).
import { z } from 'zod';
import type { Model } from 'mongoose';
import { authorize, requirePrincipal } from '../../auth/policy.ts';
import type { Principal } from '../../auth/principal.ts';
import { badInput } from '../../errors.ts';
import { expectVersion, revisionWrite, writtenDocument } from '../../events/executor.ts';
import { parseRate, RATE_PATTERN } from '../../money.ts';
import { op } from '../../store/tenant.ts';
import { currencyCode, isoDate, parseInput } from '../../validation.ts';
import { exchangeRateSchema, type ExchangeRateDoc } from './rate.model.ts';
import type { Needs } from '../../deps.ts';

const setRateInput = z.object({
  currency: currencyCode.refine((c) => c !== 'EUR', 'EUR is the reference currency'),
  rate: z
    .string()
    .regex(RATE_PATTERN, 'a decimal number of units per euro, e.g. 74.5')
    .refine((r) => !RATE_PATTERN.test(r) || parseRate(r) > 0n, 'must be more than zero'),
  validFrom: isoDate,
});

/** The rate used for one currency: EUR converts at 1. */
export type AppliedRate = { currency: string; rate: string; validFrom: string };

export type RateService = ReturnType<typeof createRateService>;

export function createRateService(deps: Needs<'store' | 'executor' | 'clock'>) {
  const { store, executor, clock } = deps;
  const Rates: Model<ExchangeRateDoc> = store.model('ExchangeRate', exchangeRateSchema);

  return {
    async list(principal: Principal | null, currency?: string | null): Promise<ExchangeRateDoc[]> {
      requirePrincipal(principal);
      const filter = currency ? { currency } : {};
      return Rates.find(filter).sort({ currency: 1, validFrom: -1 }).lean<ExchangeRateDoc[]>();
    },

    async set(
      principal: Principal | null,
      rawInput: unknown,
      expectedVersion: number | null | undefined,
      idempotencyKey?: string | null,
    ) {
      const p = authorize(principal, 'exchangeRate.set');
      const input = parseInput(setRateInput, rawInput);
      const id = `${input.currency}:${input.validFrom}`;
      const { event } = await executor.execute({
        principal: p,
        command: 'setExchangeRate',
        input: { input, expectedVersion },
        idempotencyKey,
        decide: async () => {
          const current = await Rates.findById(id).lean<ExchangeRateDoc>();
          if (current) {
            if (expectedVersion == null) {
              throw badInput(
                `A rate for ${input.currency} from ${input.validFrom} exists; pass expectedVersion ${current.version} to correct it.`,
                [{ path: 'expectedVersion', message: 'required to change an existing rate' }],
              );
            }
            expectVersion('ExchangeRate', id, current.version, expectedVersion);
          } else if (expectedVersion != null && expectedVersion !== 0) {
            expectVersion('ExchangeRate', id, 0, expectedVersion);
          }
          return revisionWrite({
            aggregateType: 'exchangeRate',
            collection: 'exchange_rates',
            current,
            fields: { _id: id, ...input },
            now: clock.now(),
            types: ['ExchangeRateSet', 'ExchangeRateCorrected'],
          });
        },
      });
      return writtenDocument<ExchangeRateDoc>(event);
    },

    /**
     * The rates valid on a day for several currencies, in one query. Throws
     * BAD_USER_INPUT naming the currencies without a rate on that day.
     */
    async ratesOn(currencies: readonly string[], day: string): Promise<Map<string, AppliedRate>> {
      const result = new Map<string, AppliedRate>();
      const wanted = [...new Set(currencies)].filter((c) => c !== 'EUR');
      if (currencies.includes('EUR')) result.set('EUR', { currency: 'EUR', rate: '1', validFrom: '1970-01-01' });
      if (wanted.length === 0) return result;
      const docs = await Rates.find({ currency: op({ $in: wanted }), validFrom: op({ $lte: day }) })
        .sort({ currency: 1, validFrom: -1 })
        .lean<ExchangeRateDoc[]>();
      for (const doc of docs) {
        if (!result.has(doc.currency))
          result.set(doc.currency, { currency: doc.currency, rate: doc.rate, validFrom: doc.validFrom });
      }
      const missing = wanted.filter((c) => !result.has(c));
      if (missing.length > 0) {
        throw badInput(`No exchange rate is valid on ${day} for ${missing.join(', ')}; a network administrator must set one.`, [
          ...missing.map((c) => ({ path: 'currency', message: `no rate for ${c} on ${day}` })),
        ]);
      }
      return result;
    },
  };
}
