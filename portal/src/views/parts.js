// Pieces several views share.
import { h } from '../dom.js';
import { formatDateTime, formatMoney, t } from '../i18n.js';

/** Shown when a page comes from the offline copy: since when. */
export const staleNote = (stale) =>
  stale ? h('p', { class: 'banner stale', role: 'note' }, t('offline.stale', { when: formatDateTime(stale) })) : null;

export const badge = (status) => h('span', { class: `badge ${status}` }, t(`status.${status}`));

/** A definition list from [label, value] pairs (values may be nodes). */
export const facts = (pairs) =>
  h(
    'dl',
    {},
    pairs.filter(Boolean).flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
  );

export const today = () => new Date().toISOString().slice(0, 10);

/** An amount in the language's own form; like data, never translated (the currency code stays). */
export const money = (m) => h('span', { class: 'money', translate: 'no' }, formatMoney(m));
