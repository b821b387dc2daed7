// Home: what needs the signed-in person, most urgent first (the gateway's work list).
import { read } from '../api.js';
import { data, h } from '../dom.js';
import { formatDate, t } from '../i18n.js';
import { WorkList } from '../../graphql/work-list.graphql';
import { staleNote } from './parts.js';

function due(item) {
  if (!item.deadline) return t('home.noDeadline');
  if (item.overdue) return t('home.overdue', { count: item.daysLate ?? 0, date: formatDate(item.deadline.dueOn) });
  return t('home.dueOn', { date: formatDate(item.deadline.dueOn) });
}

export async function renderHome() {
  const { data: result, stale } = await read(WorkList, {}, 'work-list');
  const items = result.workList;
  const rows = items.map((item) =>
    h(
      'tr',
      { class: item.overdue ? 'overdue' : null },
      h(
        'td',
        {},
        h(
          'a',
          { href: `#/case/${item.case.id}${item.action === 'RECORD_MONITORING_VISIT' ? '/monitoring' : ''}` },
          data(item.case.reference),
        ),
      ),
      h('td', {}, t(`action.${item.action}`)),
      h('td', {}, item.deadline ? t(`deadline.${item.deadline.kind}`, { visit: item.deadline.visit }) : '—'),
      h('td', {}, due(item)),
      h('td', {}, t(`status.${item.case.status}`)),
      h('td', {}, data(item.case.partner?.name ?? item.case.memberState.name)),
    ),
  );
  return h(
    'section',
    { class: 'card' },
    h('h1', {}, t('home.title')),
    staleNote(stale),
    items.length
      ? h(
          'table',
          {},
          h('caption', {}, t('home.caption', { count: items.length })),
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['case', 'todo', 'deadline', 'due', 'status', 'party'].map((c) => h('th', { scope: 'col' }, t(`home.col.${c}`))),
            ),
          ),
          h('tbody', {}, rows),
        )
      : h('p', {}, t('home.nothing')),
  );
}
