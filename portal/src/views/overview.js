// The case at a glance: who, where, entitlement, consent, deadlines, and its next steps
// (answer the referral, confirm the arrival, refer, reopen, close) as the gateway allows them.
import { data, field, h } from '../dom.js';
import { formatDate, formatDateTime, t, tx } from '../i18n.js';
import i18next from 'i18next';
import { CloseCase, ConfirmArrival, ReferCase, ReopenCase, RespondToReferral } from '../../graphql/mutations.graphql';
import { act, actionButton, onSubmit } from './act.js';
import { facts, money, today } from './parts.js';

/** The returnee's consent as both sides see it; without it the partner's view of personal data is empty. */
function consentFacts(consent) {
  const status =
    consent.status === 'WITHDRAWN'
      ? t('overview.consentWithdrawn', { date: formatDate(consent.withdrawnOn) })
      : consent.status === 'EXPIRED'
        ? t('overview.consentExpired', { date: formatDate(consent.expiresOn) })
        : t('overview.consentUntil', { date: formatDate(consent.expiresOn) });
  return h(
    'span',
    { id: 'consent', 'data-status': consent.status },
    h('strong', {}, t(`consentStatus.${consent.status}`)),
    ' — ',
    status,
    ', ',
    t('overview.consentGiven', { date: formatDate(consent.givenOn) }),
    consent.purposes.length > 0
      ? h(
          'span',
          {},
          ' — ',
          t('overview.consentPurposes', { purposes: consent.purposes.map((p) => t(`consentPurpose.${p}`)).join(', ') }),
        )
      : null,
    consent.status === 'ACTIVE' ? null : h('span', { class: 'hint' }, ' — ', t('overview.consentHidden')),
  );
}

function actions(c) {
  const can = (a) => c.allowedActions.includes(a);
  const parts = [];
  if (can('RESPOND_TO_REFERRAL')) {
    parts.push(
      h(
        'form',
        {
          id: 'respond',
          onsubmit: onSubmit((form, button) =>
            act(c, button.value === 'ACCEPT' ? 'write.accept' : 'write.decline', RespondToReferral, {
              decision: button.value,
              reason: button.value === 'DECLINE' ? form.elements.reason.value : null,
            }),
          ),
        },
        h('h2', {}, t('overview.respondTitle')),
        c.referralDeadline ? h('p', {}, t('overview.answerBy', { when: formatDateTime(c.referralDeadline) })) : null,
        field(
          t('overview.declineReason'),
          h('input', { name: 'reason', autocomplete: 'off', maxlength: 1000 }),
          t('overview.declineReasonHint'),
        ),
        h(
          'div',
          { class: 'actions' },
          h('button', { type: 'submit', value: 'ACCEPT' }, t('overview.accept')),
          h('button', { type: 'submit', value: 'DECLINE', class: 'secondary' }, t('overview.decline')),
        ),
      ),
    );
  }
  if (can('CONFIRM_ARRIVAL')) {
    parts.push(
      h(
        'form',
        {
          id: 'arrival',
          onsubmit: onSubmit((form) => act(c, 'write.arrival', ConfirmArrival, { arrivedOn: form.elements.arrivedOn.value })),
        },
        h('h2', {}, t('overview.arrivalTitle')),
        field(
          t('overview.arrivedOn'),
          h('input', {
            type: 'date',
            name: 'arrivedOn',
            required: true,
            max: today(),
            value: c.plannedArrivalDate && c.plannedArrivalDate <= today() ? c.plannedArrivalDate : today(),
          }),
        ),
        h('button', { type: 'submit' }, t('overview.confirmArrival')),
      ),
    );
  }
  if (can('REFER')) parts.push(actionButton({ id: 'refer' }, t('overview.refer'), () => act(c, 'write.refer', ReferCase)));
  if (can('REOPEN')) parts.push(actionButton({ id: 'reopen' }, t('overview.reopen'), () => act(c, 'write.reopen', ReopenCase)));
  if (can('CLOSE')) parts.push(closeForm(c));
  return parts;
}

export function closeForm(c) {
  const reasons = Object.keys(i18next.getResource(i18next.language, 'translation', 'closure') ?? {});
  return h(
    'details',
    { class: 'close' },
    h('summary', {}, t('overview.closeTitle')),
    h(
      'form',
      {
        id: 'close',
        onsubmit: onSubmit((form) =>
          act(c, 'write.close', CloseCase, { reason: form.elements.reason.value, comment: form.elements.comment.value || null }),
        ),
      },
      field(
        t('overview.closeReason'),
        h(
          'select',
          { name: 'reason', required: true },
          reasons.map((r) => h('option', { value: r }, t(`closure.${r}`))),
        ),
      ),
      field(t('overview.closeComment'), h('textarea', { name: 'comment', rows: 2, maxlength: 2000 })),
      h('button', { type: 'submit', class: 'danger' }, t('overview.close')),
    ),
  );
}

export async function renderOverview(c) {
  const v = c.vulnerability;
  const flags = v
    ? ['unaccompaniedMinor', 'victimOfTrafficking', 'medicalNeeds'].filter((f) => v[f]).map((f) => t(`vulnerability.${f}`))
    : [];
  return h(
    'div',
    {},
    h(
      'section',
      { class: 'card' },
      h('h2', {}, t('overview.title')),
      facts([
        [t('overview.memberState'), data(c.memberState.name)],
        [t('overview.partner'), data(c.partner?.name)],
        [t('overview.programme'), data(c.programme.name)],
        [t('overview.returnType'), t(`returnType.${c.returnType}`)],
        [t('overview.country'), data(c.originCountry)],
        [
          t('overview.household'),
          h(
            'ul',
            { class: 'inline' },
            c.household.map((m) =>
              h(
                'li',
                {},
                t('overview.member', { relation: t(`relation.${m.relation}`), gender: t(`gender.${m.gender}`), count: m.age }),
              ),
            ),
          ),
        ],
        [
          t('overview.entitlement'),
          tx('overview.entitlementValue', { total: money(c.entitlement.total), cash: money(c.entitlement.cashCap) }),
        ],
        [
          t('overview.arrival'),
          c.arrivedOn ? formatDate(c.arrivedOn) : t('overview.plannedArrival', { date: formatDate(c.plannedArrivalDate) }),
        ],
        // What the implementing organisation hands over at arrival (REAN and the like).
        c.arrivalHandover
          ? [
              t('overview.handover'),
              h(
                'span',
                { class: 'handover' },
                tx('overview.handoverValue', {
                  date: formatDate(c.arrivalHandover.arrivedOn),
                  place: data(c.arrivalHandover.place),
                  destination: data(c.arrivalHandover.finalDestination),
                  allowance: money(c.arrivalHandover.landTravelAllowance),
                }),
                ' — ',
                t(c.arrivalHandover.metOnArrival ? 'overview.handoverMet' : 'overview.handoverNotMet'),
              ),
            ]
          : null,
        [t('overview.consent'), consentFacts(c.consent)],
        c.declineReason ? [t('overview.declineReasonShown'), data(c.declineReason)] : null,
        c.closureReason
          ? [
              t('overview.closedBecause'),
              h(
                'span',
                {},
                t(`closure.${c.closureReason}`),
                c.closureComment ? h('span', {}, ' — ', data(c.closureComment)) : null,
              ),
            ]
          : null,
      ]),
      h('div', { class: 'actions stacked' }, actions(c)),
    ),
    c.needsAssessment || v
      ? h(
          'section',
          { class: 'card sensitive' },
          h('h2', {}, t('overview.sensitiveTitle')),
          c.needsAssessment ? data(c.needsAssessment, 'p', { class: 'needs' }) : null,
          v
            ? h(
                'p',
                {},
                flags.length ? flags.join(', ') : t('vulnerability.none'),
                v.notes ? h('span', {}, ' — ', data(v.notes)) : null,
              )
            : null,
        )
      : null,
    c.deadlines.length
      ? h(
          'section',
          { class: 'card' },
          h('h2', {}, t('overview.deadlines')),
          h(
            'table',
            {},
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ['what', 'due', 'status', 'waitingOn'].map((k) => h('th', { scope: 'col' }, t(`overview.deadlineCol.${k}`))),
              ),
            ),
            h(
              'tbody',
              {},
              c.deadlines.map((d) =>
                h(
                  'tr',
                  { class: d.status === 'OVERDUE' ? 'overdue' : null },
                  h('td', {}, t(`deadline.${d.kind}`, { visit: d.visit })),
                  h('td', {}, formatDate(d.dueOn)),
                  h('td', {}, t(`deadlineStatus.${d.status}`, { count: d.daysLate ?? 0 })),
                  h('td', {}, data(d.waitingOn.name)),
                ),
              ),
            ),
          ),
        )
      : null,
  );
}
