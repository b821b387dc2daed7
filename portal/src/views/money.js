// Money as people type it: in the currency's own units (1,250.50, not 125050), with a picker
// of the currencies the network has exchange rates for. Minor units are what is sent.
import { read } from '../api.js';
import { h } from '../dom.js';
import { fromMinorUnits, minorDigits, t, toMinorUnits } from '../i18n.js';
import { ReferenceData } from '../../graphql/reference-data.graphql';

export async function referenceData() {
  return (await read(ReferenceData, {}, 'reference-data')).data;
}

export function currencies(reference) {
  return ['EUR', ...new Set(reference.exchangeRates.map((r) => r.currency).filter((c) => c !== 'EUR'))].sort();
}

/** The step of an amount input in `currency`: its smallest unit (1 for yen, 0.01 for euros). */
export const amountStep = (currency) => (minorDigits(currency) === 0 ? '1' : `0.${'0'.repeat(minorDigits(currency) - 1)}1`);

/**
 * A picker of the currencies the network has rates for, `currency` chosen. The currency an
 * amount is in stays a choice even when today's rates do not list it (offerCurrency).
 */
export function currencyPicker(attrs, currencyList, currency) {
  return h(
    'select',
    attrs,
    [...new Set([...currencyList, currency])].map((c) => h('option', { value: c, selected: c === currency, translate: 'no' }, c)),
  );
}

/** Makes `currency` a choice of a currency picker, if it is not one already. */
export function offerCurrency(picker, currency) {
  if (![...picker.options].some((o) => o.value === currency))
    picker.append(h('option', { value: currency, translate: 'no' }, currency));
}

/**
 * An amount and a currency picker; `name` names the amount input, `${name}Currency` the picker.
 * Without a `value`, the amount is blank and `currency` chosen.
 */
export function moneyInput({ name, label, value, currency: blankIn = 'EUR', currencyList, required = false }) {
  const currency = value?.currency ?? blankIn;
  const amountId = `${name}-${Math.random().toString(36).slice(2, 8)}`;
  const amount = h('input', {
    id: amountId,
    name,
    type: 'number',
    min: '0',
    step: amountStep(currency),
    inputmode: 'decimal',
    required,
    value: value ? fromMinorUnits(value.amount, value.currency) : '',
  });
  const picker = currencyPicker(
    { name: `${name}Currency`, 'aria-label': t('money.currencyOf', { label }) },
    currencyList,
    currency,
  );
  picker.addEventListener('change', () => amount.setAttribute('step', amountStep(picker.value)));
  return h(
    'div',
    { class: 'field money' },
    h('label', { for: amountId }, label),
    h('div', { class: 'row tight' }, amount, picker),
  );
}

/** Reads a money input back as { amount (minor units), currency }, or null when empty or invalid. */
export function moneyFrom(container, name) {
  const amount = container.querySelector(`[name=${name}]`);
  const currency = container.querySelector(`[name=${name}Currency]`);
  if (!amount || amount.value === '') return null;
  const minor = toMinorUnits(amount.value, currency.value);
  return minor === null ? null : { amount: minor, currency: currency.value };
}
