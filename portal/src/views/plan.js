// The reintegration plan: the version in force and the newest one, the editor (a draft, or an
// amendment of an approved plan) with each cost in the currency it is paid in and the server's
// conversion and budget check as one types, submission, and the coordinator's decision.
import { ApiError, gql, OfflineError } from '../api.js';
import { data, field, h, replace } from '../dom.js';
import { fromMinorUnits, language, t, toMinorUnits, tx } from '../i18n.js';
import i18next from 'i18next';
import { DecidePlan, SaveDraftPlan, SubmitPlan } from '../../graphql/mutations.graphql';
import { PlanCosting } from '../../graphql/plan-costing.graphql';
import { act, actionButton, onSubmit } from './act.js';
import { money } from './parts.js';
import { amountStep, currencies, currencyPicker, moneyFrom, moneyInput, referenceData } from './money.js';
import { changedValues, putBack } from '../typed.js';

const keysOf = (group) => Object.keys(i18next.getResource(i18next.language, 'translation', group) ?? {});

/** Each kind's detail fields: name, catalogue key, input type (or the catalogue group of a select), where a component keeps it. */
const KIND_FIELDS = {
  TRAINING: [
    ['provider', 'plan.f.provider', 'text', (k) => k.training?.provider],
    ['course', 'plan.f.course', 'text', (k) => k.training?.course],
    ['startDate', 'plan.f.startDate', 'date', (k) => k.training?.startDate],
    ['endDate', 'plan.f.endDate', 'date', (k) => k.training?.endDate],
    ['certificateExpected', 'plan.f.certificateExpected', 'checkbox', (k) => k.training?.certificateExpected],
  ],
  BUSINESS_PLAN: [
    ['sector', 'plan.f.sector', 'text', (k) => k.businessPlan?.sector],
    ['description', 'plan.f.description', 'text', (k) => k.businessPlan?.description],
    ['location', 'plan.f.location', 'text', (k) => k.businessPlan?.location],
    ['income', 'plan.f.income', 'money', (k) => k.businessPlan?.expectedMonthlyIncome],
  ],
  // The items (each a description, a quantity and a unit cost, in one currency) come before these.
  MATERIALS: [
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

/** An item's quantity as typed: a whole number, or null while there is none (blank, or not a whole number). */
const quantityOf = (typed) => (/^\d+$/.test(typed.trim()) ? Number(typed) : null);

/** An item's unit cost as typed, in minor units: null while there is none (blank, or not an amount). */
const unitCostOf = (typed, currency) => (typed.trim() === '' ? null : toMinorUnits(typed, currency));

/**
 * What the live costing asks the gateway to cost of a component: `input` as it would be saved,
 * or, for materials, `eur` (nothing to cost: every item of quantity 0) or `incomplete` (an item
 * has no quantity or no unit cost, so its cost is not known). Items of quantity 0 cost nothing
 * and are left out, as the gateway takes none; no quantity nor unit cost is ever made up.
 */
function forCosting(input) {
  if (input.kind !== 'MATERIALS') return { input };
  const items = input.materials.items;
  if (items.some((i) => i.quantity === null || i.unitCost.amount === null)) return { incomplete: true };
  const counted = items.filter((i) => i.quantity > 0);
  if (!counted.length) return { eur: { amount: 0, currency: 'EUR' } };
  return { input: { ...input, materials: { ...input.materials, items: counted } } };
}

/** What a field is called on the page (its label), to name it in a message. */
const labelOf = (el) => el.labels?.[0]?.textContent ?? el.getAttribute('aria-label') ?? el.name;

/**
 * A money field of a component as typed: { amount (minor units), currency }, the amount null
 * while there is none (blank, or not an amount): never made up as 0.
 */
function typedMoney(box, name) {
  return moneyFrom(box, name) ?? { amount: null, currency: box.querySelector(`[name=${name}Currency]`)?.value ?? 'EUR' };
}

/** The money fields of a component typed as something that is not an amount (below 0, say), by label. */
function notAmountsIn(box) {
  const typed = [...box.querySelectorAll('.money input[name]')].filter((el) => el.value.trim() !== '');
  return typed.filter((el) => moneyFrom(box, el.name) === null).map(labelOf);
}

/**
 * The fields of a component the gateway needs that are not filled in yet (blank, or only spaces),
 * by label, each once: the gateway refuses a plan with such a component, so it is not costed.
 */
function missingIn(box) {
  const blank = [...box.querySelectorAll('[name]')].filter((el) => el.required && !el.value.trim());
  return { onlyItems: blank.every((el) => el.closest('.item')), labels: [...new Set(blank.map(labelOf))] };
}

/** The field of `box` that a problem the gateway found is about (`path`: its path within the component), if shown. */
function fieldAt(box, path) {
  // The editor's names where the API's differ: an item's description, the costs.
  const names = { cost: 'amount', startupCosts: 'amount', expectedMonthlyIncome: 'income' };
  let scope = box;
  for (const [i, part] of path.entries()) {
    if (part === 'items') scope = box.querySelectorAll('.item')[Number(path[i + 1])] ?? box;
    const name = scope !== box && part === 'description' ? 'item' : (names[part] ?? part);
    const el = scope.querySelector(`[name="${CSS.escape(name)}"]`);
    if (el) return el;
  }
  return null;
}

/**
 * The components the gateway refused to cost as typed (a BAD_USER_INPUT about them: a course that
 * ends before it starts, say), each index of `asked` with the labels of the fields it is about;
 * null when the refusal is not about a component, or not a refusal.
 */
function refusedIn(error, asked) {
  if (!(error instanceof ApiError) || error.code !== 'BAD_USER_INPUT') return null;
  const refused = new Map();
  for (const { path } of error.errors[0].extensions?.problems ?? []) {
    // plan.components.… from the input's checks, components.… from the plan's (plan.rules.ts).
    const [, index, rest] = /^(?:plan\.)?components\.(\d+)(?:\.(.*))?$/.exec(path) ?? [];
    const box = asked[Number(index)]?.box;
    if (!box) continue;
    const el = rest ? fieldAt(box, rest.split('.')) : null;
    refused.set(Number(index), new Set([...(refused.get(Number(index)) ?? []), ...(el ? [labelOf(el)] : [])]));
  }
  return refused.size ? refused : null;
}

/** Names (text, or nodes such as data) as a list in the person's language: "A, B and C". */
function listOf(names) {
  const parts = new Intl.ListFormat(language(), { type: 'conjunction' }).formatToParts(names.map((_, i) => String(i)));
  return h(
    'span',
    {},
    parts.map((p) => (p.type === 'element' ? names[Number(p.value)] : p.value)),
  );
}

/** The component a box describes: exactly as it was when nobody touched it. */
function componentInput(box) {
  if (box.dataset.original && box.dataset.dirty !== 'true') return JSON.parse(box.dataset.original);
  const value = (name) => box.querySelector(`[name=${name}]`)?.value ?? '';
  const kind = value('kind');
  // A cost (a business's start-up costs) and an expected income are required by the browser, as
  // by the gateway: one left blank is not sent, nor costed, as 0.
  const cost = typedMoney(box, 'amount');
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
          certificateExpected: box.querySelector('[name=certificateExpected]')?.checked ?? true,
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
          expectedMonthlyIncome: typedMoney(box, 'income'),
        },
      };
    case 'MATERIALS': {
      // Every item is priced per unit in the component's one currency; the gateway makes the
      // component's cost the sum of quantity × unit cost.
      const currency = value('currency') || 'EUR';
      return {
        ...base,
        materials: {
          items: [...box.querySelectorAll('.item')].map((row) => {
            const typed = (name) => row.querySelector(`[name=${name}]`).value;
            return {
              description: typed('item') || base.title,
              quantity: quantityOf(typed('quantity')),
              unitCost: { amount: unitCostOf(typed('unitCost'), currency), currency },
            };
          }),
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

/** The items of a materials component, one row each, priced per unit in one currency. */
function itemsEditor(items, currency, currencyList) {
  const rows = h('div', { class: 'items' });
  const picker = currencyPicker({ name: 'currency' }, currencyList, currency);

  // A component has at least one item; each unit cost steps by the currency's smallest unit.
  const sync = () => {
    const removers = rows.querySelectorAll('.remove-item');
    removers.forEach((b) => (b.disabled = removers.length === 1));
    rows.querySelectorAll('[name=unitCost]').forEach((i) => i.setAttribute('step', amountStep(picker.value)));
  };
  const changed = () => rows.dispatchEvent(new Event('change', { bubbles: true }));
  const addItem = (item) => {
    const row = h(
      'div',
      { class: 'row item' },
      field(t('plan.f.item'), h('input', { name: 'item', value: item?.description ?? '', maxlength: 300 })),
      field(
        t('plan.f.quantity'),
        h('input', {
          name: 'quantity',
          type: 'number',
          min: '1',
          max: '100000',
          step: '1',
          required: true,
          value: item?.quantity ?? 1,
        }),
      ),
      field(
        t('plan.f.unitCost'),
        h('input', {
          name: 'unitCost',
          type: 'number',
          min: '0',
          inputmode: 'decimal',
          required: true,
          value: item ? fromMinorUnits(item.unitCost.amount, item.unitCost.currency) : '',
        }),
      ),
      h(
        'button',
        {
          type: 'button',
          class: 'secondary remove-item',
          onclick: () => {
            if (rows.children.length === 1) return;
            row.remove();
            sync();
            changed();
          },
        },
        t('plan.removeItem'),
      ),
    );
    rows.append(row);
    sync();
    return row;
  };
  for (const item of items) addItem(item);
  picker.addEventListener('change', sync);
  const editor = h(
    'div',
    { class: 'materials' },
    field(t('plan.f.currency'), picker),
    rows,
    h(
      'button',
      {
        type: 'button',
        class: 'secondary add-item',
        onclick: () => {
          addItem(null).querySelector('input').focus();
          changed();
        },
      },
      t('plan.addItem'),
    ),
  );
  /** Makes the rows `count` (at least one): new rows are empty, rows beyond it go from the end. */
  editor.resize = (count) => {
    while (rows.children.length < count) addItem(null);
    while (rows.children.length > Math.max(count, 1)) rows.lastElementChild.remove();
    sync();
  };
  return editor;
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
  let asked = 0;

  async function check() {
    const mine = (asked += 1);
    const boxes = [...list.querySelectorAll('.component')].map((box, i) => {
      const title = box.querySelector('[name=title]').value.trim();
      const name = title ? data(title) : t('plan.componentNumber', { n: i + 1 });
      // A component the gateway would refuse for a field not filled in yet is not asked about:
      // it would refuse the whole plan. Its items' quantities and unit costs: forCosting.
      const missing = missingIn(box);
      if (!missing.onlyItems) return { box, name, unfinished: missing.labels };
      // Nor one with an amount that is not one: it is said as a refusal would say it.
      const notAmounts = notAmountsIn(box);
      if (notAmounts.length) return { box, name, refused: true, notAmounts };
      return { box, name, ...forCosting(componentInput(box)) };
    });
    const show = (box, eur) => replace(box.querySelector('output'), eur ? tx('plan.inEur', { amount: money(eur) }) : null);
    const say = (box, key, values) => replace(box.querySelector('output'), tx(key, values));
    for (const { box, eur, incomplete, unfinished, notAmounts } of boxes) {
      if (unfinished) say(box, 'plan.costUnfinished', { fields: listOf(unfinished) });
      else if (notAmounts) say(box, 'plan.costRefused', { fields: listOf(notAmounts) });
      else if (incomplete) replace(box.querySelector('output'), t('plan.costIncomplete'));
      else if (eur) show(box, eur);
    }
    let costed = boxes.filter((b) => b.input);
    let p = null;
    while (costed.length) {
      try {
        const components = costed.map((b) => b.input);
        ({ planCosting: p } = await gql(PlanCosting, { caseId: c.id, plan: { components } }));
        if (mine !== asked) return; // the figures of what was typed before: a newer check gives them
        break;
      } catch (error) {
        if (mine !== asked) return;
        // Refused as typed (a rule the browser does not know): said where it is, and the rest is costed.
        const refused = refusedIn(error, costed);
        if (refused) {
          for (const [i, fields] of refused) {
            const b = costed[i];
            b.refused = true;
            if (fields.size) say(b.box, 'plan.costRefused', { fields: listOf([...fields]) });
            else replace(b.box.querySelector('output'), t('plan.costRefusedAll'));
          }
          costed = costed.filter((b) => !b.refused);
          continue;
        }
        // No figure is better than a stale one.
        for (const { box } of costed) show(box, null);
        const why =
          error instanceof OfflineError
            ? t('plan.costingOffline')
            : error instanceof ApiError && error.code === 'BAD_USER_INPUT'
              ? tx('plan.costingRefused', { message: data(error.message) })
              : t('plan.costingUnavailable');
        return replace(costing, h('p', { class: 'hint' }, why));
      }
    }
    if (p) costed.forEach(({ box }, i) => show(box, p.components[i]?.costEur));
    // A total left incomplete is not given: a part of it would read as the whole. Said of what.
    const names = (which) => listOf(boxes.filter(which).map((b) => b.name));
    const notYet = [
      boxes.some((b) => b.unfinished) ? tx('plan.costingUnfinished', { components: names((b) => b.unfinished) }) : null,
      boxes.some((b) => b.refused) ? tx('plan.costingRefusedSome', { components: names((b) => b.refused) }) : null,
      boxes.some((b) => b.incomplete) ? t('plan.costingIncomplete') : null,
    ]
      .filter(Boolean)
      .map((text) => h('p', {}, text));
    if (!p) return replace(costing, notYet);
    // Over budget (or without a rate) already: what is still missing can only add to it.
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
      notYet.length
        ? notYet
        : h(
            'p',
            {},
            tx('plan.costing', { total: money(p.totalEur), entitlement: money(p.entitlement), remaining: money(p.remaining) }),
          ),
      problem,
    );
  }
  const recheck = () => {
    clearTimeout(timer);
    timer = setTimeout(() => void check(), 700);
  };

  const defaultCurrency = c.entitlement.total?.currency ?? 'EUR';
  /**
   * Adds a component box: `existing` as shown (or as sent, when typed input is put back), or a
   * new one; `shape` (a kind and a number of items) is the one the person had given it.
   */
  const addComponent = (existing, shape) => {
    const kinds = keysOf('componentKind');
    const kind = h(
      'select',
      { name: 'kind' },
      kinds.map((k) => h('option', { value: k, selected: (shape?.kind ?? existing?.kind) === k }, t(`componentKind.${k}`))),
    );
    const details = h('div', { class: 'row' });
    const costOf = (k) => (k?.kind === 'BUSINESS_PLAN' ? k.businessPlan.startupCosts : k?.cost);
    const cost = h('div', {});
    const renderDetails = () => {
      const same = existing && existing.kind === kind.value;
      if (kind.value === 'MATERIALS') {
        const items = same ? existing.materials.items : [null];
        cost.replaceChildren(itemsEditor(items, same ? items[0].unitCost.currency : defaultCurrency, currencyList));
      } else {
        cost.replaceChildren(
          // A new component's cost is blank until typed, not 0: the browser asks for it.
          moneyInput({
            name: 'amount',
            label: t('plan.f.cost'),
            value: same ? costOf(existing) : null,
            currency: defaultCurrency,
            currencyList,
            required: true,
          }),
        );
      }
      details.replaceChildren(
        ...KIND_FIELDS[kind.value].map(([name, label, type, from]) => {
          const current = same ? from(existing) : undefined;
          // An expected income is needed by the gateway (0 is one; a blank is not): the browser asks for it.
          if (type === 'money')
            return moneyInput({ name, label: t(label), value: current, currency: defaultCurrency, currencyList, required: true });
          if (type === 'checkbox') return field(t(label), h('input', { name, type, checked: current ?? true }));
          if (type === 'text' || type === 'date' || type === 'number') {
            const limits =
              type === 'number' ? { min: '1', step: '1' } : type === 'text' ? { maxlength: maxLength(kind.value, name) } : {};
            // Every text and date of a component is needed by the gateway: the browser asks for it.
            const required = type === 'text' || type === 'date';
            return field(t(label), h('input', { name, type, value: current ?? '', required, ...limits }));
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
    // The rows the person had, whether they added some or removed some (their values go back by position).
    if (shape) cost.querySelector('.materials')?.resize(shape.items);
    const box = h(
      'fieldset',
      {
        class: 'component',
        dataset: { id: existing?.id ?? '', original: existing?.id ? JSON.stringify(componentAsInput(existing)) : '' },
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
    return box;
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
  /** The components as stored, none of them touched. */
  const showStored = () => {
    list.replaceChildren();
    for (const component of c.plan?.components ?? []) addComponent(component);
    if (!c.plan) addComponent();
  };
  showStored();
  // Emptied once a save waits in the outbox: the editor shows the plan as stored again (the fields
  // are then reset to it), not the components added or changed, which the outbox now holds.
  form.addEventListener('reset', () => {
    showStored();
    recheck();
  });
  const shownIds = (c.plan?.components ?? []).map((k) => k.id);
  /**
   * In place of a component the person changed while someone else removed it: the removal
   * stands (saving does not bring the component back under its old id), and the person is told
   * and may add it back as typed, as a new component. `kept` is the box as save() kept it.
   */
  const removedMeanwhile = (kept) => {
    const { id: _, ...shown } = JSON.parse(kept.original);
    const title = kept.fields.find((f) => f.name === 'title')?.value || shown.title;
    const notice = h(
      'p',
      { class: 'hint removed-meanwhile' },
      tx('plan.removedMeanwhile', { title: data(title) }),
      ' ',
      h(
        'button',
        {
          type: 'button',
          class: 'secondary add-back',
          onclick: () => {
            const box = addComponent(shown, kept);
            putBack(() => [...box.querySelectorAll('[name]')], kept.fields);
            box.dataset.dirty = 'true';
            notice.replaceWith(box);
            box.querySelector('[name=title]').focus();
            recheck();
          },
        },
        t('plan.addBack'),
      ),
    );
    notice.kept = kept;
    return notice;
  };
  // Read again (after a conflict, or another write went out), the editor keeps what the person
  // changed or added as typed (in a component someone else changed too, only the fields the person
  // changed, when neither reshaped it), shows the rest as now stored, drops the components the
  // person removed, and adds those someone else added meanwhile. A component the person changed
  // and someone else removed stays removed, with a word and an offer to add it back.
  form.typed = {
    owns: (el) => list.contains(el),
    save: () => ({
      shownIds,
      // A component offered back is kept as it was kept when it was found removed.
      boxes: [...list.querySelectorAll('.component, .removed-meanwhile')].map(
        (box) =>
          box.kept ?? {
            id: box.dataset.id,
            original: box.dataset.original,
            dirty: box.dataset.dirty === 'true',
            kind: box.querySelector('[name=kind]').value,
            items: box.querySelectorAll('.item').length,
            // Every field of a changed component: its rows may no longer be where they were shown.
            fields: changedValues(box.querySelectorAll('[name]'), () => true),
            // And those the person changed from what was shown.
            changed: changedValues(box.querySelectorAll('[name]')),
          },
      ),
    }),
    restore: (saved) => {
      const stored = new Map([...list.querySelectorAll('.component')].map((box) => [box.dataset.id, box]));
      const shapeOf = (box) => `${box.querySelector('[name=kind]').value}/${box.querySelectorAll('.item').length}`;
      list.replaceChildren();
      for (const kept of saved.boxes) {
        if (!kept.dirty) {
          const box = stored.get(kept.id);
          if (box) list.append(box);
          continue;
        }
        const shown = kept.original ? JSON.parse(kept.original) : undefined;
        const now = stored.get(kept.id);
        if (kept.id && !now) {
          list.append(removedMeanwhile(kept));
          continue;
        }
        const shownShape = shown && `${shown.kind}/${shown.materials?.items.length ?? 0}`;
        if (now && kept.id && shownShape === `${kept.kind}/${kept.items}` && shownShape === shapeOf(now)) {
          // Changed by the person, and by someone else meanwhile, in the same shape: the fields the
          // person changed go onto the component as now stored, the others show the new values.
          list.append(now);
          putBack(() => [...now.querySelectorAll('[name]')], kept.changed);
          now.dataset.dirty = 'true';
          continue;
        }
        // Reshaped (a kind changed, items added or removed) or new: kept as typed, every field.
        const box = addComponent(shown, kept);
        putBack(() => [...box.querySelectorAll('[name]')], kept.fields);
        box.dataset.dirty = 'true';
      }
      for (const [id, box] of stored) if (id && !saved.shownIds.includes(id)) list.append(box);
      recheck();
    },
  };
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
