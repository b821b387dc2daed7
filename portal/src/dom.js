// Building the page: elements from text, never from HTML, so nothing a case holds can run.

/** Builds an element; children are nodes or text (always text). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  // What is typed into a form is about a person (where their business is, what the cash is for):
  // the browser keeps none of it in its form history, which would offer it back to the next person
  // at a shared computer, in any field of the same name, on any site.
  if (tag === 'form') el.setAttribute('autocomplete', 'off');
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    // What a field shows at first is also its default: what was typed is what differs from it.
    else if (k === 'value' && (tag === 'input' || tag === 'textarea')) el.defaultValue = el.value = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/**
 * Data from the case (references, names, narratives): marked so translators and tests leave it alone,
 * and set apart from the text around it (dir=auto isolates it, as HTML does any element with a dir).
 * Another organisation wrote it: a bidi override it leaves open (U+202E) would otherwise run on
 * into the portal's own words and figures after it, showing €1,234.56 as 65.432,1€; isolated, it
 * ends with the data, which is also laid out in its own direction (an Arabic name in a French page).
 */
export const data = (text, tag = 'span', attrs = {}) => h(tag, { dir: 'auto', ...attrs, translate: 'no' }, text ?? '—');

let uid = 0;
/** A labelled form field: the label names it for screen readers, the hint is described-by. */
export function field(label, control, hint) {
  control.id ||= `f${(uid += 1)}`;
  const hintEl = hint ? h('span', { class: 'hint', id: `${control.id}-hint` }, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { for: control.id }, label), control, hintEl);
}

export function newKey() {
  return `portal-${crypto.randomUUID()}`;
}

/** Focus moves to the new view's heading, so screen readers announce the page. */
export function focusHeading(root) {
  const heading = root.querySelector('h1');
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus({ preventScroll: false });
  }
}

/** Like replaceChildren, leaving out what is null (which replaceChildren would write as "null"). */
export function replace(el, ...children) {
  el.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
}
