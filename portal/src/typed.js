// What a person typed survives the page being read again (after a conflict, or when a change
// from the outbox went out meanwhile): the values of each form, found again by the form's id
// and each field's name and position, are put back into the new page.

/** The values typed into the forms (with an id) under `root`; `skip` leaves a form out. */
export function typedIn(root, skip = () => false) {
  const kept = new Map();
  for (const form of root.querySelectorAll('form[id]')) {
    if (skip(form)) continue;
    const seen = new Map();
    const fields = [];
    for (const el of form.elements) {
      if (!el.name || ['button', 'submit', 'reset'].includes(el.type)) continue;
      const index = seen.get(el.name) ?? 0;
      seen.set(el.name, index + 1);
      fields.push({ name: el.name, index, value: el.value, checked: el.checked, files: el.type === 'file' ? el.files : null });
    }
    kept.set(form.id, fields);
  }
  return kept;
}

/**
 * Puts kept values back into the forms of the same id under `root`. Each field changed is
 * announced (input, change) as if typed, so a form that tracks edits sees them; fields are looked
 * up one at a time because a change may rebuild part of a form (a plan component's kind).
 */
export function restoreTyped(root, kept) {
  for (const [id, fields] of kept) {
    const form = root.querySelector(`form[id="${CSS.escape(id)}"]`);
    if (!form) continue;
    for (const saved of fields) {
      const el = [...form.elements].filter((e) => e.name === saved.name)[saved.index];
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
}
