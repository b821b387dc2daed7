// Writes from the case pages go through the outbox with the version the person saw. A form or
// button is disabled from the press until the page shows the answer (the write and the reading
// again), so one press is one write; a write that is refused or in conflict leaves what was typed
// in place, with the reason beside it.
import { ApiError } from '../api.js';
import { data, h } from '../dom.js';
import { t, tx } from '../i18n.js';
import { labelOf, rendering, say } from '../main.js';
import { write } from '../outbox.js';

/** A check of the portal's own that failed before anything was sent: a catalogue key and its values. */
export class Invalid extends Error {
  constructor(key, values = {}) {
    super(key);
    this.key = key;
    this.values = values;
  }
}

/**
 * Sends a write about case `c`. Resolves once the page shows what the gateway now holds (or with
 * { queued: true } when the write waits for the link); rejects with the gateway's ApiError when it
 * refused the write or another change came first (then after the page was read again).
 */
export async function act(c, labelKey, operation, variables = {}) {
  try {
    const result = await write({ key: labelKey, values: { reference: c.reference } }, operation, {
      id: c.id,
      v: c.version,
      ...variables,
    });
    if (!result?.queued) await rendering();
    return result;
  } catch (error) {
    if (error instanceof ApiError && error.code === 'CONFLICT') await rendering();
    throw error;
  }
}

/** Text fields that are required but hold only spaces, or hold more than they may: the browser says so. */
function typedProperly(form) {
  for (const el of form.querySelectorAll('textarea, input:not([type]), input[type=text]')) {
    const max = Number(el.getAttribute('maxlength') || Infinity);
    const problem =
      el.required && !el.value.trim()
        ? t('form.required')
        : el.value.trim().length > max
          ? t('form.tooLong', { max, length: el.value.trim().length })
          : '';
    if (!problem) continue;
    el.setCustomValidity(problem);
    el.addEventListener('input', () => el.setCustomValidity(''), { once: true });
    el.reportValidity();
    return false;
  }
  return true;
}

/** The reason a write was not applied, beside the form that holds what was typed. */
function showProblem(form, error) {
  form.querySelector('.form-error')?.remove();
  if (!error) return;
  const text =
    error instanceof Invalid
      ? tx(error.key, error.values)
      : error.code === 'CONFLICT'
        ? tx('outbox.conflict', { label: labelOf(error.entry) })
        : tx('outbox.refused', { label: labelOf(error.entry), message: data(error.message) });
  form.append(h('p', { class: 'error form-error' }, text));
}

/**
 * A submit handler: keeps the form from posting, checks what was typed, and disables the form's
 * buttons until the handler (a write and the page read again) is done. On success the page is
 * shown anew, without what was sent; a write waiting for the link empties the form, the outbox
 * holds it. A refusal or conflict is shown beside the form, whose input stays.
 */
export const onSubmit = (handler) => (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  if (form.dataset.busy || !typedProperly(form)) return;
  const buttons = [...form.querySelectorAll('button')].filter((b) => !b.disabled);
  form.dataset.busy = 'true';
  buttons.forEach((b) => (b.disabled = true));
  showProblem(form, null);
  void (async () => {
    try {
      const result = await handler(form, event.submitter);
      if (result?.queued) form.reset();
    } catch (error) {
      if (!(error instanceof ApiError || error instanceof Invalid)) throw error;
      if (error instanceof Invalid) say(error.key, error.values, 'error');
      // After a conflict the page was read again: the form now shown (kept as typed) has the same id.
      showProblem((form.id && document.getElementById(form.id)) || form, error);
    } finally {
      delete form.dataset.busy;
      buttons.forEach((b) => (b.disabled = false));
    }
  })();
};

/** A button that makes one write: disabled from the press until the page shows the answer. */
export function actionButton(attrs, label, run) {
  const button = h(
    'button',
    {
      type: 'button',
      ...attrs,
      onclick: () => {
        if (button.disabled) return;
        button.disabled = true;
        void Promise.resolve()
          .then(run)
          .catch((error) => {
            if (!(error instanceof ApiError)) throw error; // the outbox said what went wrong
          })
          .finally(() => (button.disabled = false));
      },
    },
    label,
  );
  return button;
}
