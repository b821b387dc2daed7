// The case's history: who did what, when (the audit trail as the API gives it, oldest first).
import { read } from '../api.js';
import { data, h } from '../dom.js';
import { formatDateTime, t } from '../i18n.js';
import i18next from 'i18next';
import { History } from '../../graphql/history.graphql';
import { staleNote } from './parts.js';

const what = (type) => (i18next.exists(`event.${type}`) ? t(`event.${type}`) : t('event.other', { type }));

export async function renderHistory(c) {
  const { data: result, stale } = await read(History, { caseId: c.id }, `history:${c.id}`);
  const entries = result.auditTrail.entries;
  return h(
    'section',
    { class: 'card', id: 'history' },
    h('h2', {}, t('history.title')),
    staleNote(stale),
    h(
      'table',
      {},
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['when', 'what', 'who', 'version'].map((k) => h('th', { scope: 'col' }, t(`history.col.${k}`))),
        ),
      ),
      h(
        'tbody',
        {},
        entries.map((e) =>
          h(
            'tr',
            {},
            h('td', {}, formatDateTime(e.at)),
            h(
              'td',
              {},
              what(e.type),
              e.fields.length ? h('span', {}, ' (', e.fields.map((f) => t(`field.${f}`)).join(', '), ')') : null,
            ),
            h('td', {}, data(e.actor.organisation), ' · ', e.actor.roles.map((r) => t(`role.${r}`)).join(', ')),
            h('td', {}, e.caseVersion ?? '—'),
          ),
        ),
      ),
    ),
  );
}
