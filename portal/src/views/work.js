// Carrying out the plan: the budget planned against spent, progress updates (spend with its
// receipt, in the currency paid), shipments from order to handover, and the case's files.
import { downloadEvidence, OfflineError, uploadEvidence } from '../api.js';
import { data, field, h, newKey, replace } from '../dom.js';
import { formatDate, formatNumber, fromMinorUnits, t, tx } from '../i18n.js';
import i18next from 'i18next';
import { say, signedInUser } from '../main.js';
import { PostProgressUpdate, RecordShipmentEvent } from '../../graphql/mutations.graphql';
import { act, Invalid, onSubmit } from './act.js';
import { COMPONENT_KINDS_FOR } from '../rules.js';
import { currencies, moneyFrom, moneyInput, offerCurrency, referenceData } from './money.js';
import { money, today } from './parts.js';

const keysOf = (group) => Object.keys(i18next.getResource(i18next.language, 'translation', group) ?? {});

/**
 * Files uploaded for a write that was not applied yet, by case, kind and file: sending the write
 * again (after a conflict or a refusal, the form kept) refers to the same evidence, not a copy.
 */
const uploadedFor = new Map();
const fileKey = (c, kind, file) => [c.id, kind, file.name, file.size, file.lastModified].join('|');

/** Uploads a file first (evidence needs a link); the write that refers to it goes through the outbox. */
async function upload(c, kind, file) {
  try {
    say('work.uploading', { name: data(file.name) });
    return await uploadEvidence(c.id, kind, file, newKey());
  } catch (error) {
    say(
      error instanceof OfflineError ? 'work.uploadOffline' : 'work.uploadFailed',
      { name: data(file.name), message: data(error.message) },
      'error',
    );
    return null;
  }
}

/** The evidence a write refers to: uploaded once, kept until the write is applied or queued. */
async function evidenceFor(c, kind, file, write) {
  const key = fileKey(c, kind, file);
  const evidence = uploadedFor.get(key) ?? (await upload(c, kind, file));
  if (!evidence) return null;
  uploadedFor.set(key, evidence);
  const result = await write(evidence.id);
  uploadedFor.delete(key);
  return result;
}

function budget(c) {
  if (!c.budget) return null;
  return h(
    'section',
    { class: 'card', id: 'budget' },
    h('h2', {}, tx('work.budget', { actual: money(c.budget.actual), planned: money(c.budget.planned) })),
    h(
      'table',
      {},
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['component', 'planned', 'spent', 'remaining'].map((k) => h('th', { scope: 'col' }, t(`work.col.${k}`))),
        ),
      ),
      h(
        'tbody',
        {},
        c.budget.lines.map((l) =>
          h(
            'tr',
            {},
            h('td', {}, data(l.component.title)),
            h('td', {}, money(l.planned)),
            h('td', {}, money(l.actual)),
            h('td', {}, money(l.remaining)),
          ),
        ),
      ),
    ),
  );
}

/**
 * Whether the signed-in person may correct an update: their organisation posted it, it is the
 * newest version (not corrected yet), it is not a monitoring visit (recorded again instead),
 * and its kind (and its spend, if any) may be posted now.
 */
function correctable(c, u, user) {
  return (
    !u.correctedBy &&
    u.kind !== 'MONITORING_VISIT' &&
    u.postedBy.organisation.code === user?.organisation.code &&
    c.allowedProgressKinds.includes(u.kind) &&
    // Spend is corrected only where the form can hold it (spend may be posted now): a correction
    // without it would take the spend out of the budget.
    (!u.spend || c.allowedProgressKinds.includes('PURCHASE'))
  );
}

function progressList(c, form, user) {
  const items = c.progress.edges.map(({ node: u }) =>
    h(
      'li',
      { class: u.correctedBy ? 'corrected' : null },
      h('strong', {}, formatDate(u.occurredOn), ' · ', t(`progressKind.${u.kind}`)),
      u.component ? h('span', {}, ' · ', data(u.component.title)) : null,
      u.spend
        ? h(
            'span',
            {},
            ' · ',
            money(u.spend.amount),
            u.spend.amount.currency !== 'EUR' ? h('span', {}, ' (', money(u.spend.amountEur), ')') : null,
          )
        : null,
      ' — ',
      data(u.narrative),
      u.correctedBy ? h('span', {}, ' ', t('work.corrected')) : null,
      form && correctable(c, u, user)
        ? h(
            'button',
            {
              type: 'button',
              class: 'secondary link correct',
              'aria-label': t('work.correctLabel', { date: formatDate(u.occurredOn), kind: t(`progressKind.${u.kind}`) }),
              onclick: () => form.correct(u),
            },
            t('work.correct'),
          )
        : null,
    ),
  );
  return items.length ? h('ul', { id: 'progress' }, items) : h('p', {}, t('work.noProgress'));
}

function progressForm(c, currencyList) {
  const components = c.planInForce?.components ?? [];
  // Correcting an update: the form holds its values and says so; what is posted replaces it.
  const note = h(
    'p',
    { class: 'hint correcting', hidden: true },
    t('work.correcting'),
    ' ',
    h('button', { type: 'button', class: 'secondary link', onclick: () => correct(null) }, t('work.cancelCorrection')),
  );
  // The update corrected may be about a component the plan in force no longer has: said, as the
  // choice of component cannot show it.
  const componentGone = h('p', { class: 'hint component-gone', id: 'component-gone', hidden: true });
  const form = h(
    'form',
    {
      id: 'progress-form',
      onsubmit: onSubmit(async (f) => {
        const input = {
          kind: f.elements.kind.value,
          narrative: f.elements.narrative.value,
          language: document.documentElement.lang,
          occurredOn: f.elements.occurredOn.value,
          componentId: f.elements.component.value || null,
          ...(f.elements.corrects.value ? { corrects: f.elements.corrects.value } : {}),
        };
        const send = () => act(c, 'write.progress', PostProgressUpdate, { input });
        const spend = moneyFrom(f, 'spend');
        const spent = spend && spend.amount > 0;
        // What the gateway would refuse is said before anything is sent or uploaded.
        if (input.kind === 'PURCHASE' && !spent) throw new Invalid('work.spendNeeded');
        const about = COMPONENT_KINDS_FOR[input.kind];
        const component = components.find((k) => k.id === input.componentId);
        if (about && !about.includes(component?.kind))
          throw new Invalid('work.componentOfKind', {
            kind: t(`progressKind.${input.kind}`),
            kinds: about.map((k) => t(`componentKind.${k}`)).join(', '),
          });
        if (!spent) return send();
        if (!input.componentId) throw new Invalid('work.componentNeeded');
        const file = f.elements.receipt.files?.[0];
        // A correction keeps the receipt of the update it corrects unless another is chosen.
        if (!file && f.elements.proof.value) {
          input.spend = { amount: spend, proof: f.elements.proof.value };
          return send();
        }
        if (!file) throw new Invalid('work.receiptNeeded');
        return evidenceFor(c, 'RECEIPT', file, (proof) => {
          input.spend = { amount: spend, proof };
          return send();
        });
      }),
    },
    h('h3', {}, t('work.postTitle')),
    h('input', { type: 'hidden', name: 'corrects', value: '' }),
    h('input', { type: 'hidden', name: 'proof', value: '' }),
    note,
    componentGone,
    h(
      'div',
      { class: 'row' },
      field(
        t('work.kind'),
        h(
          'select',
          { name: 'kind' },
          c.allowedProgressKinds.map((k) => h('option', { value: k }, t(`progressKind.${k}`))),
        ),
      ),
      field(
        t('work.component'),
        h(
          'select',
          { name: 'component' },
          h('option', { value: '' }, t('work.noComponent')),
          components.map((k) => h('option', { value: k.id, translate: 'no' }, k.title)),
        ),
      ),
      field(t('work.occurredOn'), h('input', { type: 'date', name: 'occurredOn', required: true, max: today(), value: today() })),
    ),
    field(t('work.narrative'), h('textarea', { name: 'narrative', rows: 2, required: true, maxlength: 5000 })),
    c.allowedProgressKinds.includes('PURCHASE')
      ? h(
          'div',
          { class: 'row' },
          moneyInput({ name: 'spend', label: t('work.spent'), value: null, currencyList }),
          field(
            t('work.receipt'),
            h('input', { type: 'file', name: 'receipt', accept: 'application/pdf,image/jpeg,image/png' }),
            t('work.receiptHint'),
          ),
        )
      : null,
    h('button', { type: 'submit' }, t('work.post')),
  );
  const shown = () => (note.hidden = !form.elements.corrects.value);
  /** Holds the update being corrected (none: a new update): its id, its receipt, and its currency as a choice. */
  function holdCorrection({ id = '', proof = '', currency = null } = {}) {
    const el = form.elements;
    // A hidden field's value is its default: neither a reset nor typed.js would see it change.
    el.corrects.value = id;
    el.proof.value = proof;
    if (el.spendCurrency && currency) offerCurrency(el.spendCurrency, currency);
    shown();
    const about = c.progress.edges.find((e) => e.node.id === id)?.node.component;
    const gone = about && !components.some((k) => k.id === about.id) ? about : null;
    replace(componentGone, gone ? tx('work.componentLeftPlan', { title: data(gone.title) }) : null);
    componentGone.hidden = !gone;
    if (gone) el.component.setAttribute('aria-describedby', componentGone.id);
    else el.component.removeAttribute('aria-describedby');
  }
  // The form emptied (cancelled, or the correction waits in the outbox) is a new update again, and
  // its amount takes the steps of the currency it shows again.
  form.addEventListener('reset', () => {
    holdCorrection();
    setTimeout(() => form.elements.spendCurrency?.dispatchEvent(new Event('change', { bubbles: true })));
  });
  // Read again (a conflict, a change in language, another write gone out), the form is still the
  // correction it was: what was typed is put back by typed.js, the update corrected by this.
  form.typed = {
    owns: (el) => el.name === 'corrects' || el.name === 'proof',
    save: () => (form.elements.corrects.value ? { id: form.elements.corrects.value, proof: form.elements.proof.value } : null),
    restore: (held) => {
      if (!held) return;
      const u = c.progress.edges.find((e) => e.node.id === held.id)?.node;
      holdCorrection({ ...held, currency: u?.spend?.amount.currency });
    },
  };
  /** Fills the form with update `u` to correct it (its receipt kept unless another is chosen); null: a new update again. */
  function correct(u) {
    if (!u) return form.reset();
    const el = form.elements;
    holdCorrection({ id: u.id, proof: u.spend?.proof?.id, currency: u.spend?.amount.currency });
    el.kind.value = u.kind;
    el.component.value = u.component?.id ?? '';
    el.occurredOn.value = u.occurredOn;
    el.narrative.value = u.narrative;
    if (el.spend && u.spend) {
      const { amount, currency } = u.spend.amount;
      el.spendCurrency.value = currency;
      el.spendCurrency.dispatchEvent(new Event('change', { bubbles: true }));
      el.spend.value = String(fromMinorUnits(amount, currency));
    } else if (el.spend) el.spend.value = '';
    el.narrative.focus();
  }
  form.correct = correct;
  return form;
}

function shipments(c) {
  const canRecord = c.allowedActions.includes('RECORD_SHIPMENT_EVENT');
  const step = (s) =>
    onSubmit(async (f, button) => {
      const status = button.value;
      const send = (evidence) =>
        act(c, 'write.shipmentStep', RecordShipmentEvent, {
          input: {
            shipmentId: s.id,
            status,
            at: new Date().toISOString(),
            place: f.elements.place.value || s.destination,
            evidence,
          },
        });
      if (status !== 'HANDED_OVER') return send(null);
      const file = f.elements.certificate?.files?.[0];
      if (!file) throw new Invalid('work.certificateNeeded');
      return evidenceFor(c, 'HANDOVER_CERTIFICATE', file, send);
    });
  const rows = c.shipments.map((s) => {
    const last = s.events.at(-1);
    return h(
      'div',
      { class: 'shipment', dataset: { shipment: s.id } },
      h('h3', {}, data(s.component.title), ' ', h('span', { class: 'badge' }, t(`shipmentStatus.${s.status}`))),
      h(
        'p',
        {},
        data(`${s.carrier} ${s.trackingReference}`),
        ' · ',
        data(s.origin),
        ' → ',
        data(s.destination),
        last ? h('span', {}, ' · ', t('work.lastStep', { date: formatDate(last.at) }), ' ', data(last.place)) : null,
      ),
      canRecord && s.allowedNext.length
        ? h(
            'form',
            { id: `step-${s.id}`, class: 'row step', onsubmit: step(s) },
            field(t('work.where'), h('input', { name: 'place', autocomplete: 'off', maxlength: 200 })),
            s.allowedNext.includes('HANDED_OVER')
              ? field(
                  t('work.certificate'),
                  h('input', { type: 'file', name: 'certificate', accept: 'application/pdf,image/jpeg,image/png' }),
                )
              : null,
            s.allowedNext.map((status) =>
              h(
                'button',
                { type: 'submit', value: status, class: ['LOST', 'RETURNED'].includes(status) ? 'secondary' : null },
                t(`shipmentStep.${status}`),
              ),
            ),
          )
        : null,
    );
  });
  const shippedComponents = (c.planInForce?.components ?? []).filter(
    (k) =>
      k.materials?.procurement === 'SHIPPED' &&
      !c.shipments.some((s) => s.component.id === k.id && !['LOST', 'RETURNED'].includes(s.status)),
  );
  const order =
    canRecord && shippedComponents.length
      ? h(
          'form',
          {
            id: 'order-shipment',
            onsubmit: onSubmit((f) => {
              const v = (n) => f.elements[n].value;
              return act(c, 'write.order', RecordShipmentEvent, {
                input: {
                  componentId: v('component'),
                  status: 'ORDERED',
                  at: new Date().toISOString(),
                  place: v('origin'),
                  shipment: {
                    carrier: v('carrier'),
                    trackingReference: v('trackingReference'),
                    origin: v('origin'),
                    destination: v('destination'),
                  },
                },
              });
            }),
          },
          h('h3', {}, t('work.orderTitle')),
          field(
            t('work.component'),
            h(
              'select',
              { name: 'component' },
              shippedComponents.map((k) => h('option', { value: k.id, translate: 'no' }, k.title)),
            ),
          ),
          h(
            'div',
            { class: 'row' },
            ['carrier', 'trackingReference', 'origin', 'destination'].map((n) =>
              field(
                t(`work.${n}`),
                h('input', { name: n, required: true, autocomplete: 'off', maxlength: n === 'trackingReference' ? 100 : 200 }),
              ),
            ),
          ),
          h('button', { type: 'submit' }, t('work.order')),
        )
      : null;
  if (!rows.length && !order) return null;
  return h('section', { class: 'card', id: 'shipments' }, h('h2', {}, t('work.shipments')), rows, order);
}

function evidence(c) {
  const list = c.evidence.map((e) =>
    h(
      'tr',
      {},
      h('td', {}, t(`evidenceKind.${e.kind}`)),
      h(
        'td',
        {},
        h(
          'button',
          {
            type: 'button',
            class: 'link',
            onclick: () => void downloadEvidence(e).catch(() => say('work.downloadFailed', { name: data(e.filename) }, 'error')),
          },
          data(e.filename),
        ),
      ),
      h('td', {}, t('work.size', { size: formatNumber(Math.ceil(e.size / 1024)) })),
      h('td', {}, formatDate(e.uploadedAt)),
    ),
  );
  const uploadForm = c.allowedActions.includes('UPLOAD_EVIDENCE')
    ? h(
        'form',
        {
          id: 'upload',
          class: 'row',
          onsubmit: onSubmit(async (f) => {
            const file = f.elements.file.files?.[0];
            if (file && (await upload(c, f.elements.kind.value, file))) {
              say('work.uploaded', { name: data(file.name) });
              const { route } = await import('../main.js');
              await route();
            }
          }),
        },
        field(
          t('work.evidenceKind'),
          h(
            'select',
            { name: 'kind' },
            keysOf('evidenceKind').map((k) => h('option', { value: k }, t(`evidenceKind.${k}`))),
          ),
        ),
        field(
          t('work.file'),
          h('input', { type: 'file', name: 'file', required: true, accept: 'application/pdf,image/jpeg,image/png' }),
        ),
        h('button', { type: 'submit' }, t('work.upload')),
      )
    : null;
  return h(
    'section',
    { class: 'card', id: 'evidence' },
    h('h2', {}, t('work.evidence')),
    list.length
      ? h(
          'table',
          {},
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['kind', 'file', 'size', 'uploaded'].map((k) => h('th', { scope: 'col' }, t(`work.evidenceCol.${k}`))),
            ),
          ),
          h('tbody', {}, list),
        )
      : h('p', {}, t('work.noEvidence')),
    uploadForm,
  );
}

export async function renderWork(c) {
  const reference = c.allowedProgressKinds.includes('PURCHASE') ? await referenceData() : null;
  const form =
    c.allowedActions.includes('POST_PROGRESS') && c.allowedProgressKinds.length
      ? progressForm(c, reference ? currencies(reference) : ['EUR'])
      : null;
  return h(
    'div',
    {},
    budget(c),
    h(
      'section',
      { class: 'card', id: 'implementation' },
      h('h2', {}, t('work.progress')),
      progressList(c, form, form ? await signedInUser() : null),
      form,
    ),
    shipments(c),
    evidence(c),
  );
}
