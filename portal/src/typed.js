// What a person typed survives the page being read again (after a conflict, or when a change
// from the outbox went out meanwhile): the fields they changed, found again by the form's id and
// each field's name and position, are put back into the new page. A field left as it was shown
// takes what the new page shows, so a change someone else made meanwhile is not undone. A form
// whose shape the person changes (the plan editor adds and removes components) keeps and puts
// back its own part through `form.typed` ({ owns(el), save(), restore(saved) }).

/** Whether a field holds something other than what the page showed in it. */
function changed(el) {
  if (el.type === 'file') return Boolean(el.files?.length);
  if (el.type === 'radio' || el.type === 'checkbox') return el.checked !== el.defaultChecked;
  if (el.tagName === 'SELECT') {
    const shown = [...el.options].findLastIndex((o) => o.defaultSelected);
    return el.selectedIndex !== Math.max(shown, 0);
  }
  return el.value !== el.defaultValue;
}

/**
 * The fields among `elements` that were changed (or, with `keep`, those it picks), each by name and
 * position among its namesakes.
 */
export function changedValues(elements, keep = changed) {
  const seen = new Map();
  const fields = [];
  for (const el of elements) {
    if (!el.name || ['button', 'submit', 'reset', 'fieldset'].includes(el.type)) continue;
    const index = seen.get(el.name) ?? 0;
    seen.set(el.name, index + 1);
    if (!keep(el)) continue;
    fields.push({ name: el.name, index, value: el.value, checked: el.checked, files: el.type === 'file' ? el.files : null });
  }
  return fields;
}

/**
 * Puts kept values back into the fields of the same name and position among `elements()`. Each
 * field changed is announced (input, change) as if typed, so a form that tracks edits sees them;
 * fields are looked up one at a time because a change may rebuild part of a form.
 */
export function putBack(elements, fields) {
  for (const saved of fields) {
    const el = elements().filter((e) => e.name === saved.name)[saved.index];
    if (!el) continue;
    if (el.type === 'radio' || el.type === 'checkbox') {
      if (el.checked === saved.checked) continue;
      el.checked = saved.checked;
    } else if (el.type === 'file') {
      if (!saved.files?.length) continue;
      el.files = saved.files;
    } else {
      if (el.value === saved.value) continue;
      el.value = saved.value;
      if (el.value !== saved.value) continue; // a choice the new page no longer offers
    }
    el.dispatchEvent(new Event('input', { bubbles: true }));
    el.dispatchEvent(new Event('change', { bubbles: true }));
  }
}

/** What was typed into the forms (with an id) under `root`; `skip` leaves a form out. */
export function typedIn(root, skip = () => false) {
  const kept = new Map();
  for (const form of root.querySelectorAll('form[id]')) {
    if (skip(form)) continue;
    const own = form.typed;
    kept.set(form.id, {
      fields: changedValues([...form.elements].filter((el) => !own?.owns(el))),
      own: own?.save(),
    });
  }
  return kept;
}

/** Puts what was typed back into the forms of the same id under `root`. */
export function restoreTyped(root, kept) {
  for (const [id, { fields, own }] of kept) {
    const form = root.querySelector(`form[id="${CSS.escape(id)}"]`);
    if (!form) continue;
    if (own !== undefined) form.typed?.restore(own);
    putBack(() => [...form.elements], fields);
  }
}
