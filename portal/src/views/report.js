// The final report (actual against planned per component, the final meeting, the partner's
// feedback) and, for the member state, closing the case.
import { data, field, h } from '../dom.js';
import { formatDate, t, tx } from '../i18n.js';
import { SubmitFinalReport } from '../../graphql/mutations.graphql';
import { act, onSubmit } from './act.js';
import { closeForm } from './overview.js';
import { money, today } from './parts.js';

function report(r) {
  return h(
    'section',
    { class: 'card', id: 'final-report' },
    h('h2', {}, t('report.title', { version: r.planVersion })),
    h('p', {}, t('report.meeting', { date: formatDate(r.finalMeetingOn) })),
    h(
      'table',
      {},
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['component', 'planned', 'actual', 'difference'].map((k) => h('th', { scope: 'col' }, t(`report.col.${k}`))),
        ),
      ),
      h(
        'tbody',
        {},
        r.lines.map((l) =>
          h(
            'tr',
            {},
            h('td', {}, data(l.component.title)),
            h('td', {}, money(l.planned)),
            h('td', {}, money(l.actual)),
            h('td', {}, money(l.difference)),
          ),
        ),
      ),
    ),
    h('p', {}, tx('report.totals', { planned: money(r.planned), actual: money(r.actual) })),
    h('h3', {}, t('report.feedback')),
    data(r.feedback, 'p'),
  );
}

function form(c) {
  return h(
    'form',
    {
      id: 'report-form',
      class: 'card',
      onsubmit: onSubmit((f) =>
        act(c, 'write.finalReport', SubmitFinalReport, {
          input: {
            finalMeetingOn: f.elements.finalMeetingOn.value,
            feedback: f.elements.feedback.value,
            language: document.documentElement.lang,
          },
        }),
      ),
    },
    h('h2', {}, t('report.submitTitle')),
    h('p', { class: 'hint' }, t('report.submitHint')),
    field(
      t('report.finalMeetingOn'),
      h('input', { type: 'date', name: 'finalMeetingOn', required: true, max: today(), value: today() }),
    ),
    field(t('report.feedbackLabel'), h('textarea', { name: 'feedback', rows: 4, required: true, maxlength: 10000 })),
    h('button', { type: 'submit' }, t('report.submit')),
  );
}

export async function renderReport(c) {
  return h(
    'div',
    {},
    c.finalReport ? report(c.finalReport) : h('section', { class: 'card', id: 'final-report' }, h('h2', {}, t('report.none'))),
    c.allowedActions.includes('SUBMIT_FINAL_REPORT') ? form(c) : null,
    c.status === 'FINAL_REPORTED' && c.allowedActions.includes('CLOSE') ? h('section', { class: 'card' }, closeForm(c)) : null,
  );
}
