// The reintegration plan: the version in force and the newest one, the editor (a draft, or an
// amendment of an approved plan) with each cost in the currency it is paid in and the server's
// conversion and budget check as one types, submission, and the coordinator's decision.
import { gql, OfflineError } from '../api.js';
import { data, field, h, replace } from '../dom.js';
import { t, tx } from '../i18n.js';
import i18next from 'i18next';
import { DecidePlan, SaveDraftPlan, SubmitPlan } from '../../graphql/mutations.graphql';
import { PlanCosting } from '../../graphql/plan-costing.graphql';
import { act, actionButton, onSubmit } from './act.js';
import { money } from './parts.js';
import { currencies, moneyFrom, moneyInput, referenceData } from './money.js';

const keysOf = (group) => Object.keys(i18next.getResource(i18next.language, 'translation', group) ?? {});

/** Each kind's detail fields: name, catalogue key, input type (or the catalogue group of a select), where a component keeps it. */
const KIND_FIELDS = {
  TRAINING: [
    ['provider', 'plan.f.provider', 'text', (k) => k.training?.provider],
    ['course', 'plan.f.course', 'text', (k) => k.training?.course],
    ['startDate', 'plan.f.startDate', 'date', (k) => k.training?.startDate],
    ['endDate', 'plan.f.endDate', 'date', (k) => k.training?.endDate],
  ],
  BUSINESS_PLAN: [
    ['sector', 'plan.f.sector', 'text', (k) => k.businessPlan?.sector],
    ['description', 'plan.f.description', 'text', (k) => k.businessPlan?.description],
    ['location', 'plan.f.location', 'text', (k) => k.businessPlan?.location],
    ['income', 'plan.f.income', 'money', (k) => k.businessPlan?.expectedMonthlyIncome],
  ],
  MATERIALS: [
    ['item', 'plan.f.item', 'text', (k) => k.materials?.items[0]?.description],
    ['quantity', 'plan.f.quantity', 'number', (k) => k.materials?.items[0]?.quantity],
    ['supplier', 'plan.f.supplier', 'text', (k) => k.materials?.supplier],
    ['procurement', 'plan.f.procurement', 'procurement', (k) => k.materials?.procurement],
  ],
  SERVICE: [
    ['category', 'plan.f.category', 'serviceCategory', (k) => k.service?.category],
    ['provider', 'plan.f.provider', 'text', (k) => k.service?.provider],
    ['description', 'plan.f.description', 'text', (k) => k.service?.description],
  ],
  CASH: [['purpose', 'plan.f.purpose', 'text', (k) => k.cash?.purpose]],
};

/** The longest text the gateway takes in a detail field (src/modules/plans/plan.rules.ts). */
const maxLength = (kind, name) => ({ item: 300, purpose: 500, description: kind === 'BUSINESS_PLAN' ? 5000 : 2000 })[name] ?? 200;

/** A component as shown, turned back into the input that would save it unchanged. */
function componentAsInput(k) {
  const m = (x) => ({ amount: x.amount, currency: x.currency });
  const base = { id: k.id, kind: k.kind, title: k.title };
  switch (k.kind) {
    case 'TRAINING':
      return { ...base, cost: m(k.cost), training: { ...k.training } };
    case 'BUSINESS_PLAN':
      return {
        ...base,
        businessPlan: {
          ...k.businessPlan,
          startupCosts: m(k.businessPlan.startupCosts),
          expectedMonthlyIncome: m(k.businessPlan.expectedMonthlyIncome),
        },
      };
    case 'MATERIALS':
      return {
        ...base,
        materials: {
          supplier: k.materials.supplier,
          procurement: k.materials.procurement,
          items: k.materials.items.map((i) => ({ description: i.description, quantity: i.quantity, unitCost: m(i.unitCost) })),
        },
      };
    case 'SERVICE':
      return { ...base, cost: m(k.cost), service: { ...k.service } };
    default:
      return { ...base, cost: m(k.cost), cash: { ...k.cash } };
  }
}

/** The component a box describes: exactly as it was when nobody touched it. */
function componentInput(box) {
  if (box.dataset.original && box.dataset.dirty !== 'true') return JSON.parse(box.dataset.original);
  const value = (name) => box.querySelector(`[name=${name}]`)?.value ?? '';
  const kind = value('kind');
  const cost = moneyFrom(box, 'amount') ?? { amount: 0, currency: box.querySelector('[name=amountCurrency]').value };
  const base = { ...(box.dataset.id ? { id: box.dataset.id } : {}), kind, title: value('title') };
  switch (kind) {
    case 'TRAINING':
      return {
        ...base,
        cost,
        training: {
          provider: value('provider'),
          course: value('course'),
          startDate: value('startDate'),
          endDate: value('endDate'),
          certificateExpected: true,
        },
      };
    case 'BUSINESS_PLAN':
      return {
        ...base,
        businessPlan: {
          sector: value('sector'),
          description: value('description'),
          location: value('location'),
          startupCosts: cost,
          expectedMonthlyIncome: moneyFrom(box, 'income') ?? { amount: 0, currency: cost.currency },
        },
      };
    case 'MATERIALS': {
      // The editor shows the first item; the amount typed is its unit cost (the gateway makes the
      // component's cost quantity × unit cost). Further items are kept as they were.
      const original = box.dataset.original ? JSON.parse(box.dataset.original) : null;
      return {
        ...base,
        materials: {
          items: [
            {
              description: value('item') || base.title,
              quantity: Math.max(1, Number(value('quantity') || 1)),
              unitCost: cost,
            },
            ...(original?.kind === 'MATERIALS' ? original.materials.items.slice(1) : []),
          ],
          supplier: value('supplier'),
          procurement: value('procurement') || 'LOCAL',
        },
      };
    }
    case 'SERVICE':
      return {
        ...base,
        cost,
        service: { category: value('category') || 'OTHER', provider: value('provider'), description: value('description') },
      };
    default:
      return { ...base, cost, cash: { purpose: value('purpose') } };
  }
}

function planTable(plan) {
  return h(
    'table',
    {},
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['component', 'kind', 'cost', 'eur'].map((c) => h('th', { scope: 'col' }, t(`plan.col.${c}`))),
      ),
    ),
    h(
      'tbody',
      {},
      plan.components.map((k) =>
        h(
          'tr',
          {},
          h('td', {}, data(k.title)),
          h('td', {}, t(`componentKind.${k.kind}`)),
          h('td', {}, money(k.cost)),
          h('td', {}, k.costEur ? money(k.costEur) : '—'),
        ),
      ),
    ),
  );
}

function planSummary(plan, heading) {
  return h(
    'section',
    { class: 'card', id: heading === 'current' ? 'plan' : 'plan-in-force' },
    h('h2', {}, t(`plan.heading.${heading}`, { version: plan.planVersion, status: t(`planStatus.${plan.status}`) })),
    plan.summary ? data(plan.summary, 'p') : null,
    plan.decisionComment ? h('p', { class: 'hint' }, t('plan.coordinatorSaid'), ' ', data(plan.decisionComment)) : null,
    planTable(plan),
    plan.totalEur ? h('p', {}, tx('plan.total', { total: money(plan.totalEur) })) : null,
  );
}

function editor(c, reference) {
  const currencyList = currencies(reference);
  const list = h('div', { class: 'components' });
  const costing = h('div', { class: 'costing', 'aria-live': 'polite', id: 'costing' });
  let timer = null;

  async function check() {
    const components = [...list.querySelectorAll('.component')].map(componentInput);
    if (!components.length) return replace(costing);
    try {
      const { planCosting: p } = await gql(PlanCosting, { caseId: c.id, plan: { components } });
      list.querySelectorAll('.component').forEach((box, i) => {
        const eur = p.components[i]?.costEur;
        replace(box.querySelector('output'), eur ? tx('plan.inEur', { amount: money(eur) }) : null);
      });
      const problem = p.problem
        ? h(
            'p',
            { class: 'error', role: 'alert' },
            p.problem.code === 'BUDGET_EXCEEDED'
              ? tx('plan.overBudget', { total: money(p.totalEur), entitlement: money(p.entitlement) })
              : t('plan.noRate'),
          )
        : null;
      replace(
        costing,
        h(
          'p',
          {},
          tx('plan.costing', { total: money(p.totalEur), entitlement: money(p.entitlement), remaining: money(p.remaining) }),
        ),
        problem,
      );
    } catch (error) {
      replace(
        costing,
        h('p', { class: 'hint' }, t(error instanceof OfflineError ? 'plan.costingOffline' : 'plan.costingUnavailable')),
      );
    }
  }
  const recheck = () => {
    clearTimeout(timer);
    timer = setTimeout(() => void check(), 700);
  };

  const addComponent = (existing) => {
    const kinds = keysOf('componentKind');
    const kind = h(
      'select',
      { name: 'kind' },
      kinds.map((k) => h('option', { value: k, selected: existing?.kind === k }, t(`componentKind.${k}`))),
    );
    const details = h('div', { class: 'row' });
    const costOf = (k) =>
      k?.kind === 'MATERIALS'
        ? k.materials.items[0]?.unitCost
        : k?.kind === 'BUSINESS_PLAN'
          ? k.businessPlan.startupCosts
          : k?.cost;
    const cost = h('div', {});
    const renderDetails = () => {
      const same = existing && existing.kind === kind.value;
      cost.replaceChildren(
        moneyInput({
          name: 'amount',
          label: t(kind.value === 'MATERIALS' ? 'plan.f.unitCost' : 'plan.f.cost'),
          value: same ? costOf(existing) : { amount: 0, currency: c.entitlement.total?.currency ?? 'EUR' },
          currencyList,
        }),
      );
      details.replaceChildren(
        ...KIND_FIELDS[kind.value].map(([name, label, type, from]) => {
          const current = same ? from(existing) : undefined;
          if (type === 'money') return moneyInput({ name, label: t(label), value: current, currencyList });
          if (type === 'text' || type === 'date' || type === 'number') {
            const limits =
              type === 'number' ? { min: '1', step: '1' } : type === 'text' ? { maxlength: maxLength(kind.value, name) } : {};
            return field(t(label), h('input', { name, type, value: current ?? '', ...limits }));
          }
          return field(
            t(label),
            h(
              'select',
              { name },
              keysOf(type).map((o) => h('option', { value: o, selected: o === current }, t(`${type}.${o}`))),
            ),
          );
        }),
      );
    };
    kind.addEventListener('change', renderDetails);
    renderDetails();
    const box = h(
      'fieldset',
      {
        class: 'component',
        dataset: { id: existing?.id ?? '', original: existing ? JSON.stringify(componentAsInput(existing)) : '' },
      },
      h('legend', {}, existing ? data(existing.title) : t('plan.newComponent')),
      h(
        'div',
        { class: 'row' },
        field(t('plan.f.kind'), kind),
        field(t('plan.f.title'), h('input', { name: 'title', value: existing?.title ?? '', required: true, maxlength: 200 })),
      ),
      cost,
      details,
      h('output', { class: 'hint' }),
      h('button', { type: 'button', class: 'secondary', onclick: () => (box.remove(), recheck()) }, t('plan.remove')),
    );
    const touched = () => ((box.dataset.dirty = 'true'), recheck());
    box.addEventListener('input', touched);
    box.addEventListener('change', touched);
    list.append(box);
  };

  const form = h(
    'form',
    {
      id: 'plan-editor',
      onsubmit: onSubmit((f) =>
        act(c, 'write.saveDraft', SaveDraftPlan, {
          plan: {
            summary: f.elements.summary.value || null,
            components: [...list.querySelectorAll('.component')].map(componentInput),
          },
        }),
      ),
    },
    h('h2', {}, t(c.plan?.status === 'DRAFT' ? 'plan.editDraft' : c.plan?.status === 'APPROVED' ? 'plan.amend' : 'plan.draft')),
    field(
      t('plan.summary'),
      h('textarea', {
        name: 'summary',
        rows: 2,
        maxlength: 5000,
        value: c.plan?.status === 'DRAFT' ? (c.plan.summary ?? '') : (c.plan?.summary ?? ''),
      }),
    ),
    list,
    costing,
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'button', class: 'secondary', onclick: () => addComponent() }, t('plan.add')),
      h('button', { type: 'submit' }, t('plan.save')),
    ),
  );
  for (const component of c.plan?.components ?? []) addComponent(component);
  if (!c.plan) addComponent();
  void check();
  return form;
}

function decision(c) {
  return h(
    'form',
    {
      id: 'decide',
      class: 'card',
      onsubmit: onSubmit((f, button) =>
        act(c, button.value === 'APPROVE' ? 'write.approve' : 'write.requestChanges', DecidePlan, {
          decision: button.value,
          comment: f.elements.comment.value || null,
        }),
      ),
    },
    h('h2', {}, t('plan.decideTitle')),
    field(t('plan.comment'), h('textarea', { name: 'comment', rows: 2, maxlength: 2000 }), t('plan.commentHint')),
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit', value: 'APPROVE' }, t('plan.approve')),
      h('button', { type: 'submit', value: 'REQUEST_CHANGES', class: 'secondary' }, t('plan.requestChanges')),
    ),
  );
}

export async function renderPlan(c) {
  const can = (a) => c.allowedActions.includes(a);
  const parts = [];
  if (c.plan) parts.push(planSummary(c.plan, 'current'));
  else parts.push(h('section', { class: 'card', id: 'plan' }, h('h2', {}, t('plan.none'))));
  if (c.planInForce && c.plan && c.planInForce.planVersion !== c.plan.planVersion)
    parts.push(planSummary(c.planInForce, 'inForce'));
  if (can('SUBMIT_PLAN'))
    parts.push(
      h(
        'p',
        { class: 'card' },
        actionButton({ id: 'submit-plan' }, t('plan.submit'), () => act(c, 'write.submit', SubmitPlan)),
      ),
    );
  if (can('DECIDE_PLAN')) parts.push(decision(c));
  if (can('SAVE_DRAFT_PLAN')) {
    const edit = h('section', { class: 'card' }, editor(c, await referenceData()));
    // An amendment is the exception: folded until asked for.
    parts.push(c.plan?.status === 'APPROVED' ? h('details', { class: 'card' }, h('summary', {}, t('plan.amend')), edit) : edit);
  }
  return h('div', {}, parts);
}
