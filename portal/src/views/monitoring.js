// Monitoring: the visits scheduled at approval, the surveys recorded, and a visit with the
// sustainability survey. The questions and their answers come from the gateway's configuration
// (sustainabilitySurvey); their words from the catalogue, by indicator and answer code.
import { field, h } from '../dom.js';
import { formatDate, formatNumber, t } from '../i18n.js';
import i18next from 'i18next';
import { RecordMonitoringVisit } from '../../graphql/mutations.graphql';
import { act, onSubmit } from './act.js';
import { referenceData } from './money.js';
import { today } from './parts.js';

/** The catalogue's words for a survey text, else the configuration's own (a newly configured indicator). */
const surveyText = (key, fallback) => (i18next.exists(key) ? t(key) : fallback);
const score = (n) => formatNumber(n, { style: 'percent', maximumFractionDigits: 0 });

function visitForm(c, survey) {
  const next = c.monitoring.schedule.find((v) => !v.visitedOn);
  const dimensions = survey.dimensions.map((d) =>
    h(
      'fieldset',
      { class: 'dimension' },
      h('legend', {}, t(`dimension.${d.code}`)),
      survey.indicators
        .filter((i) => i.dimension === d.code)
        .map((i) =>
          h(
            'fieldset',
            { class: 'indicator', dataset: { indicator: i.code } },
            h('legend', {}, surveyText(`survey.q.${i.code}`, i.question)),
            i.answers.map((a) => {
              const id = `${i.code}-${a.code}`;
              return h(
                'div',
                { class: 'choice' },
                h('input', { type: 'radio', id, name: i.code, value: a.code, required: true }),
                h('label', { for: id }, surveyText(`survey.a.${i.code}.${a.code}`, a.label)),
              );
            }),
          ),
        ),
    ),
  );
  return h(
    'form',
    {
      id: 'visit-form',
      class: 'card',
      onsubmit: onSubmit((f) =>
        act(c, 'write.visit', RecordMonitoringVisit, {
          input: {
            visitedOn: f.elements.visitedOn.value,
            narrative: f.elements.narrative.value,
            language: document.documentElement.lang,
            answers: survey.indicators.map((i) => ({ indicator: i.code, answer: f.elements[i.code].value })),
          },
        }),
      ),
    },
    h(
      'h2',
      {},
      next
        ? t('monitoring.recordScheduled', { visit: next.visit, months: next.monthsAfterArrival })
        : t('monitoring.recordExtra'),
    ),
    h(
      'div',
      { class: 'row' },
      field(
        t('monitoring.visitedOn'),
        h('input', { type: 'date', name: 'visitedOn', required: true, max: today(), value: today() }),
      ),
    ),
    field(t('monitoring.narrative'), h('textarea', { name: 'narrative', rows: 3, required: true, maxlength: 5000 })),
    h('p', { class: 'hint' }, t('monitoring.surveyIntro', { count: survey.indicators.length })),
    dimensions,
    h('button', { type: 'submit' }, t('monitoring.record')),
  );
}

export async function renderMonitoring(c) {
  const m = c.monitoring;
  const schedule = m.schedule.length
    ? h(
        'table',
        {},
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['visit', 'due', 'visited', 'status'].map((k) => h('th', { scope: 'col' }, t(`monitoring.col.${k}`))),
          ),
        ),
        h(
          'tbody',
          {},
          m.schedule.map((v) =>
            h(
              'tr',
              { class: v.status === 'OVERDUE' ? 'overdue' : null },
              h('td', {}, t('monitoring.visitName', { visit: v.visit, months: v.monthsAfterArrival })),
              h('td', {}, formatDate(v.dueOn)),
              h('td', {}, v.visitedOn ? formatDate(v.visitedOn) : '—'),
              h('td', {}, t(`deadlineStatus.${v.status}`, { count: 0 })),
            ),
          ),
        ),
      )
    : h('p', {}, t('monitoring.noSchedule'));
  const surveys = m.surveys.map((s) =>
    h(
      'li',
      {},
      h('strong', {}, formatDate(s.visitedOn)),
      ' — ',
      t('monitoring.scores', {
        economic: score(s.scores.economic),
        social: score(s.scores.social),
        psychosocial: score(s.scores.psychosocial),
        composite: score(s.scores.composite),
      }),
    ),
  );
  return h(
    'div',
    {},
    h(
      'section',
      { class: 'card', id: 'monitoring' },
      h('h2', {}, t('monitoring.title')),
      schedule,
      h('h3', {}, t('monitoring.surveys')),
      surveys.length ? h('ul', { id: 'surveys' }, surveys) : h('p', {}, t('monitoring.noSurveys')),
    ),
    c.allowedActions.includes('RECORD_MONITORING_VISIT') ? visitForm(c, (await referenceData()).sustainabilitySurvey) : null,
  );
}
