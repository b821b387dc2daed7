// All the person's cases, filtered by status or searched by reference, page by page.
import { read } from '../api.js';
import { data, field, h } from '../dom.js';
import { formatDate, t } from '../i18n.js';
import i18next from 'i18next';
import { go } from '../main.js';
import { Cases } from '../../graphql/cases.graphql';
import { badge, staleNote } from './parts.js';

export async function renderCases(params) {
  const status = params.get('status') || null;
  const reference = params.get('reference') || null;
  const after = params.get('after') || null;
  const { data: result, stale } = await read(
    Cases,
    { first: 25, after, status: status ? [status] : null, reference },
    `cases:${status ?? ''}:${reference ?? ''}:${after ?? ''}`,
  );
  // The statuses are the catalogue's: the API's enum, each with its words.
  const statuses = Object.keys(i18next.getResource(i18next.language, 'translation', 'status') ?? {});
  const filter = h(
    'form',
    {
      class: 'row',
      role: 'search',
      onsubmit: (e) => {
        e.preventDefault();
        const q = new URLSearchParams();
        const f = e.target.elements;
        if (f.status.value) q.set('status', f.status.value);
        if (f.reference.value.trim()) q.set('reference', f.reference.value.trim());
        go(`#/cases${q.size ? `?${q}` : ''}`);
      },
    },
    field(
      t('cases.status'),
      h(
        'select',
        { name: 'status' },
        h('option', { value: '' }, t('cases.allStatuses')),
        statuses.map((s) => h('option', { value: s, selected: s === status }, t(`status.${s}`))),
      ),
    ),
    field(t('cases.reference'), h('input', { name: 'reference', value: reference ?? '', autocomplete: 'off' })),
    h('button', { type: 'submit' }, t('cases.search')),
  );
  const rows = result.cases.edges.map(({ node }) =>
    h(
      'tr',
      {},
      h('td', {}, h('a', { href: `#/case/${node.id}` }, data(node.reference))),
      h('td', {}, badge(node.status)),
      h('td', {}, data(node.memberState.name)),
      h('td', {}, data(node.partner?.name ?? '—')),
      h('td', {}, data(node.originCountry)),
      h('td', {}, formatDate(node.updatedAt)),
    ),
  );
  const next = result.cases.pageInfo.hasNextPage
    ? h(
        'a',
        {
          href: `#/cases?${new URLSearchParams({ ...(status ? { status } : {}), ...(reference ? { reference } : {}), after: result.cases.pageInfo.endCursor })}`,
        },
        t('cases.next'),
      )
    : null;
  return h(
    'section',
    { class: 'card' },
    h('h1', {}, t('cases.title')),
    staleNote(stale),
    filter,
    rows.length
      ? h(
          'table',
          {},
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['reference', 'status', 'memberState', 'partner', 'country', 'updated'].map((c) =>
                h('th', { scope: 'col' }, t(`cases.col.${c}`)),
              ),
            ),
          ),
          h('tbody', {}, rows),
        )
      : h('p', {}, t('cases.none')),
    next,
  );
}
