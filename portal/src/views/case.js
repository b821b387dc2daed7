// One case: its header, the tabs of its pages, and the page asked for. Every page reads the
// same case query (kept encrypted for offline reading) and offers only the actions the
// gateway lists in `allowedActions`.
import { read } from '../api.js';
import { data, h } from '../dom.js';
import { t } from '../i18n.js';
import { Case } from '../../graphql/case.graphql';
import { badge, staleNote } from './parts.js';
import { renderOverview } from './overview.js';
import { renderPlan } from './plan.js';
import { renderWork } from './work.js';
import { renderMonitoring } from './monitoring.js';
import { renderReport } from './report.js';
import { renderHistory } from './history.js';

const PAGES = {
  overview: renderOverview,
  plan: renderPlan,
  work: renderWork,
  monitoring: renderMonitoring,
  report: renderReport,
  history: renderHistory,
};

export async function loadCase(id) {
  const { data: result, stale } = await read(Case, { id }, `case:${id}`);
  return { c: result.case, stale };
}

export async function renderCase(id, asked) {
  // Only the case's own pages (`constructor` is a property of every object, not a page).
  const page = Object.hasOwn(PAGES, asked) ? asked : 'overview';
  const render = PAGES[page];
  const { c, stale } = await loadCase(id);
  const tabs = h(
    'nav',
    { class: 'tabs', 'aria-label': t('case.pages') },
    Object.keys(PAGES).map((name) =>
      h(
        'a',
        { href: `#/case/${c.id}${name === 'overview' ? '' : `/${name}`}`, 'aria-current': name === page ? 'page' : null },
        t(`case.tab.${name}`),
      ),
    ),
  );
  return h(
    'div',
    {},
    h('p', {}, h('a', { href: '#/cases' }, t('case.back'))),
    h('h1', {}, data(c.reference), ' ', badge(c.status)),
    staleNote(stale),
    tabs,
    await render(c, { stale }),
  );
}
