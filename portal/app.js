// ERIN Exchange partner portal: plain JavaScript, no framework, a few kilobytes, because
// partners often work on slow or intermittent links. Every write carries an idempotency
// key and the case version it was based on; a write that could not be sent stays in an
// outbox (in this browser's storage) and is retried with the same key, so it is applied
// once, and a conflicting change by someone else is shown instead of being overwritten.

const TOKEN_KEY = 'erin.token';
const OUTBOX_KEY = 'erin.outbox';
const view = document.getElementById('view');
const statusBar = document.getElementById('status');

// ---- small helpers -------------------------------------------------------------------

/** Builds an element; children are nodes or text (always text, never HTML). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function say(message, kind = 'info') {
  statusBar.textContent = message ?? '';
  statusBar.className = kind === 'error' ? 'error' : '';
}

function newKey() {
  return crypto.randomUUID ? `portal-${crypto.randomUUID()}` : `portal-${Date.now()}-${Math.random().toString(36).slice(2)}`;
}

const money = (m) => (m ? (m.formatted ?? `${m.amount} ${m.currency}`) : '—');

// ---- the API ---------------------------------------------------------------------------

class ApiError extends Error {
  constructor(errors) {
    super(errors.map((e) => e.message).join('; '));
    this.errors = errors;
    this.code = errors[0]?.extensions?.code;
  }
}

async function gql(query, variables = {}) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      authorization: `Bearer ${token}`,
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors?.length) {
    const error = new ApiError(body.errors);
    if (error.code === 'UNAUTHENTICATED') {
      sessionStorage.removeItem(TOKEN_KEY);
      route();
    }
    throw error;
  }
  return body.data;
}

// ---- the outbox: writes survive a dropped connection ------------------------------------

function outbox() {
  try {
    return JSON.parse(localStorage.getItem(OUTBOX_KEY) ?? '[]');
  } catch {
    return [];
  }
}

function saveOutbox(items) {
  localStorage.setItem(OUTBOX_KEY, JSON.stringify(items));
}

/**
 * Sends a mutation. Network failures and STORE_UNAVAILABLE keep it in the outbox for a
 * retry with the same idempotency key; answers from the gateway (done, refused,
 * conflict) take it out.
 */
async function write(label, mutation, variables) {
  const item = { id: newKey(), label, mutation, variables: { ...variables, key: variables.key ?? newKey() } };
  saveOutbox([...outbox(), item]);
  return flush(item.id);
}

async function flush(onlyId) {
  let result;
  for (const item of outbox()) {
    if (onlyId && item.id !== onlyId) continue;
    try {
      say(`Sending: ${item.label}…`);
      result = await gql(item.mutation, item.variables);
      saveOutbox(outbox().filter((i) => i.id !== item.id));
      say(`Done: ${item.label}.`);
    } catch (error) {
      // Unknown outcome or a busy gateway: the same key makes the retry safe.
      const retryable =
        !(error instanceof ApiError) ||
        ['STORE_UNAVAILABLE', 'RATE_LIMITED', 'INTERNAL_SERVER_ERROR'].includes(error.code) ||
        error.errors[0]?.extensions?.reason === 'REQUEST_IN_PROGRESS';
      if (retryable) {
        say(`Not sent yet (${error.message}); it will be retried with the same key.`, 'error');
        setTimeout(() => void flush(), 5000);
        throw error;
      }
      saveOutbox(outbox().filter((i) => i.id !== item.id));
      if (error.code === 'CONFLICT')
        say(
          `Someone changed this case meanwhile: your "${item.label}" was not applied. The page shows the current state; please check and redo it.`,
          'error',
        );
      else say(`${item.label}: ${error.message}`, 'error');
      throw error;
    }
  }
  return result;
}

// ---- views -------------------------------------------------------------------------------

async function showSignIn() {
  document.getElementById('signout').hidden = true;
  document.getElementById('who').textContent = '';
  view.replaceChildren(document.getElementById('signin-template').content.cloneNode(true));
  document.getElementById('signin').addEventListener('submit', (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, document.getElementById('token').value.trim());
    location.hash = '#/cases';
    route();
  });
}

const CASE_LIST = `query Cases($first: Int!, $after: String, $status: [CaseStatus!]) {
  me { subject roles organisation { code name kind } }
  cases(first: $first, after: $after, filter: { status: $status }) {
    edges { node { id reference status version originCountry updatedAt memberState { name } programme { code } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

let me = null;

async function showCases(params) {
  const status = params.get('status') || null;
  const data = await gql(CASE_LIST, { first: 20, after: params.get('after') || null, status: status ? [status] : null });
  me = data.me;
  document.getElementById('who').textContent = `${data.me.organisation.name} · ${data.me.roles.join(', ')}`;
  document.getElementById('signout').hidden = false;
  const filter = h(
    'select',
    {
      'aria-label': 'Status',
      onchange: (e) => (location.hash = e.target.value ? `#/cases?status=${e.target.value}` : '#/cases'),
    },
    h('option', { value: '' }, 'All statuses'),
    ...[
      'REFERRED',
      'ACCEPTED',
      'ARRIVED',
      'PLAN_SUBMITTED',
      'CHANGES_REQUESTED',
      'PLAN_APPROVED',
      'IN_IMPLEMENTATION',
      'FINAL_REPORTED',
      'CLOSED',
    ].map((s) => h('option', { value: s, selected: s === status }, s.replaceAll('_', ' ').toLowerCase())),
  );
  const rows = data.cases.edges.map(({ node }) =>
    h(
      'tr',
      {},
      h('td', {}, h('a', { href: `#/case/${node.id}` }, node.reference)),
      h('td', {}, h('span', { class: `badge ${node.status}` }, node.status.replaceAll('_', ' '))),
      h('td', {}, node.memberState.name),
      h('td', {}, node.originCountry),
      h('td', {}, node.programme.code),
      h('td', {}, new Date(node.updatedAt).toLocaleDateString()),
    ),
  );
  const next = data.cases.pageInfo.hasNextPage
    ? h(
        'a',
        { href: `#/cases?${new URLSearchParams({ ...(status ? { status } : {}), after: data.cases.pageInfo.endCursor })}` },
        'Next page →',
      )
    : null;
  view.replaceChildren(
    h(
      'section',
      { class: 'card' },
      h('h1', {}, 'Cases'),
      filter,
      rows.length
        ? h(
            'table',
            {},
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ...['Reference', 'Status', 'Member state', 'Country', 'Programme', 'Updated'].map((t) => h('th', {}, t)),
              ),
            ),
            h('tbody', {}, ...rows),
          )
        : h('p', {}, 'No cases.'),
      next,
    ),
  );
}

const CASE_DETAIL = `query Case($id: ID!) {
  case(id: $id) {
    id reference status version allowedTransitions originCountry returnType arrivedOn plannedArrivalDate referralDeadline declineReason
    memberState { name } partner { name } programme { code name }
    household { age gender relation }
    needsAssessment
    vulnerability { unaccompaniedMinor victimOfTrafficking medicalNeeds notes }
    consent { purpose expiresOn valid }
    entitlement { total { amount currency formatted } cashCap { formatted } }
    plan { planVersion status summary decisionComment totalEur { formatted } components { id kind title cost { amount currency formatted } costEur { formatted }
      training { provider course startDate endDate certificateExpected }
      businessPlan { sector description location startupCosts { amount currency } expectedMonthlyIncome { amount currency } }
      materials { supplier procurement items { description quantity unitCost { amount currency } } }
      service { category provider description } cash { purpose } } }
    planInForce { planVersion components { id kind title materials { procurement } } }
    budget { planned { formatted } actual { formatted } remaining { formatted } lines { component { id title } planned { formatted } actual { formatted } remaining { formatted } } }
    progress(first: 20) { edges { node { id kind narrative language occurredOn component { title } spend { amount { formatted } proof { id filename } } correctedBy { id } postedBy { organisation { name } } } } }
    shipments { id component { id title } status allowedNext carrier trackingReference destination events { status at place } }
    evidence { id kind filename size uploadedAt downloadUrl }
  }
}`;

const CASE_RESULT = 'id version status';

async function showCase(id) {
  const { case: c } = await gql(CASE_DETAIL, { id });
  const isPartner = me?.organisation.kind === 'PARTNER' || (await ensureMe()).organisation.kind === 'PARTNER';
  const roles = me.roles;
  const act = (label, mutation, variables) => async () => {
    try {
      await write(label, mutation, { id: c.id, v: c.version, ...variables });
    } finally {
      await showCase(id);
    }
  };
  const actions = [];
  if (isPartner && c.status === 'REFERRED') {
    actions.push(
      h(
        'button',
        {
          onclick: act(
            'Accept the referral',
            `mutation ($id: ID!, $v: Int!, $key: String) { respondToReferral(id: $id, decision: ACCEPT, expectedVersion: $v, idempotencyKey: $key) { ${CASE_RESULT} } }`,
            {},
          ),
        },
        'Accept referral',
      ),
    );
    const reason = h('input', { id: 'decline-reason', placeholder: 'Reason for declining' });
    actions.push(
      h('span', {}, reason),
      h(
        'button',
        {
          class: 'secondary',
          onclick: () =>
            act(
              'Decline the referral',
              `mutation ($id: ID!, $v: Int!, $r: String, $key: String) { respondToReferral(id: $id, decision: DECLINE, reason: $r, expectedVersion: $v, idempotencyKey: $key) { ${CASE_RESULT} } }`,
              { r: reason.value },
            )(),
        },
        'Decline',
      ),
    );
  }
  if (isPartner && c.status === 'ACCEPTED') {
    const day = h('input', { type: 'date', id: 'arrived-on', value: new Date().toISOString().slice(0, 10) });
    actions.push(
      h('label', { for: 'arrived-on' }, 'Arrived on'),
      day,
      h(
        'button',
        {
          onclick: () =>
            act(
              'Confirm arrival',
              `mutation ($id: ID!, $v: Int!, $d: Date!, $key: String) { confirmArrival(id: $id, arrivedOn: $d, expectedVersion: $v, idempotencyKey: $key) { ${CASE_RESULT} } }`,
              { d: day.value },
            )(),
        },
        'Confirm arrival',
      ),
    );
  }
  if (isPartner && c.plan?.status === 'DRAFT') {
    actions.push(
      h(
        'button',
        {
          onclick: act(
            'Submit the plan',
            `mutation ($id: ID!, $v: Int!, $key: String) { submitPlan(caseId: $id, expectedVersion: $v, idempotencyKey: $key) { ${CASE_RESULT} } }`,
            {},
          ),
        },
        'Submit plan for approval',
      ),
    );
  }
  if (roles.includes('coordinator') && c.plan?.status === 'SUBMITTED') {
    const comment = h('input', { id: 'decision-comment', placeholder: 'Comment (required to request changes)' });
    actions.push(
      comment,
      h(
        'button',
        {
          onclick: () =>
            act(
              'Approve the plan',
              `mutation ($id: ID!, $v: Int!, $c: String, $key: String) { decidePlan(caseId: $id, decision: APPROVE, comment: $c, expectedVersion: $v, idempotencyKey: $key) { ${CASE_RESULT} } }`,
              { c: comment.value || null },
            )(),
        },
        'Approve',
      ),
      h(
        'button',
        {
          class: 'secondary',
          onclick: () =>
            act(
              'Request changes',
              `mutation ($id: ID!, $v: Int!, $c: String, $key: String) { decidePlan(caseId: $id, decision: REQUEST_CHANGES, comment: $c, expectedVersion: $v, idempotencyKey: $key) { ${CASE_RESULT} } }`,
              { c: comment.value },
            )(),
        },
        'Request changes',
      ),
    );
  }
  const canDraft =
    isPartner &&
    ['ACCEPTED', 'ARRIVED', 'CHANGES_REQUESTED', 'PLAN_APPROVED', 'IN_IMPLEMENTATION'].includes(c.status) &&
    c.plan?.status !== 'SUBMITTED';

  view.replaceChildren(
    h('p', {}, h('a', { href: '#/cases' }, '← All cases')),
    h(
      'section',
      { class: 'card' },
      h('h1', {}, `${c.reference} `, h('span', { class: `badge ${c.status}` }, c.status.replaceAll('_', ' '))),
      h(
        'dl',
        {},
        h('dt', {}, 'Member state'),
        h('dd', {}, c.memberState.name),
        h('dt', {}, 'Programme'),
        h('dd', {}, `${c.programme.name} (${c.returnType.toLowerCase().replace('_', '-')})`),
        h('dt', {}, 'Country of return'),
        h('dd', {}, c.originCountry),
        h('dt', {}, 'Household'),
        h('dd', {}, c.household.map((m) => `${m.relation.toLowerCase()} ${m.gender.toLowerCase()} ${m.age}`).join(' · ')),
        h('dt', {}, 'Entitlement'),
        h('dd', {}, `${money(c.entitlement.total)} (cash at most ${money(c.entitlement.cashCap)})`),
        h('dt', {}, 'Arrival'),
        h('dd', {}, c.arrivedOn ?? `planned ${c.plannedArrivalDate ?? '—'}`),
        c.referralDeadline && c.status === 'REFERRED'
          ? [h('dt', {}, 'Answer by'), h('dd', {}, new Date(c.referralDeadline).toLocaleString())]
          : null,
        h('dt', {}, 'Consent'),
        h('dd', {}, `${c.consent.purpose} — until ${c.consent.expiresOn}${c.consent.valid ? '' : ' (NOT VALID)'}`),
      ),
      h('div', { class: 'actions' }, ...actions),
    ),
    c.needsAssessment || c.vulnerability
      ? h(
          'section',
          { class: 'card sensitive' },
          h('h2', {}, 'Needs and vulnerability (special-category data)'),
          c.needsAssessment ? h('p', {}, c.needsAssessment) : null,
          c.vulnerability
            ? h(
                'p',
                {},
                [
                  c.vulnerability.unaccompaniedMinor && 'unaccompanied minor',
                  c.vulnerability.victimOfTrafficking && 'victim of trafficking',
                  c.vulnerability.medicalNeeds && 'medical needs',
                ]
                  .filter(Boolean)
                  .join(', ') || 'No flags',
                c.vulnerability.notes ? ` — ${c.vulnerability.notes}` : '',
              )
            : null,
        )
      : null,
    planSection(c, canDraft),
    c.planInForce ? implementationSection(c, isPartner) : null,
    c.evidence?.length ? evidenceSection(c) : null,
  );
}

// ---- carrying out the plan: progress, spend with receipts, shipments, evidence -----------

/** Uploads a file as evidence of a case (retried with the same key if the link drops). */
async function uploadEvidence(caseId, kind, file) {
  const key = newKey();
  for (let attempt = 0; ; attempt += 1) {
    try {
      say(`Uploading ${file.name}…`);
      const response = await fetch(`/evidence?${new URLSearchParams({ caseId, kind, filename: file.name })}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY)}`,
          'idempotency-key': key,
          'content-type': file.type || 'application/octet-stream',
        },
        body: file,
      });
      const body = await response.json();
      if (!response.ok)
        throw new ApiError(
          body.errors ?? [{ message: `upload failed (${response.status})`, extensions: { code: 'BAD_USER_INPUT' } }],
        );
      return body.evidence;
    } catch (error) {
      if (error instanceof ApiError || attempt >= 4) {
        say(`Upload of ${file.name}: ${error.message}`, 'error');
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 2000 * (attempt + 1)));
    }
  }
}

async function downloadEvidence(item) {
  const response = await fetch(item.downloadUrl, { headers: { authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY)}` } });
  if (!response.ok) return say(`Download of ${item.filename} failed (${response.status}).`, 'error');
  const url = URL.createObjectURL(await response.blob());
  const link = h('a', { href: url, download: item.filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function evidenceSection(c) {
  return h(
    'section',
    { class: 'card', id: 'evidence' },
    h('h2', {}, 'Evidence'),
    h(
      'table',
      {},
      h(
        'tbody',
        {},
        ...c.evidence.map((e) =>
          h(
            'tr',
            {},
            h('td', {}, e.kind.replaceAll('_', ' ').toLowerCase()),
            h('td', {}, h('a', { href: '#', onclick: (ev) => (ev.preventDefault(), void downloadEvidence(e)) }, e.filename)),
            h('td', {}, `${Math.ceil(e.size / 1024)} KiB`),
            h('td', {}, new Date(e.uploadedAt).toLocaleDateString()),
          ),
        ),
      ),
    ),
  );
}

function implementationSection(c, isPartner) {
  const section = h('section', { class: 'card', id: 'implementation' }, h('h2', {}, 'Carrying out the plan'));
  if (c.budget) {
    section.append(
      h('h3', {}, `Budget: ${c.budget.actual.formatted} spent of ${c.budget.planned.formatted}`),
      h(
        'table',
        {},
        h('thead', {}, h('tr', {}, ...['Component', 'Planned', 'Spent', 'Remaining'].map((t) => h('th', {}, t)))),
        h(
          'tbody',
          {},
          ...c.budget.lines.map((l) =>
            h(
              'tr',
              {},
              h('td', {}, l.component.title),
              h('td', {}, l.planned.formatted),
              h('td', {}, l.actual.formatted),
              h('td', {}, l.remaining.formatted),
            ),
          ),
        ),
      ),
    );
  }
  section.append(h('h3', {}, 'Progress'));
  const updates = c.progress.edges.map(({ node: u }) =>
    h(
      'li',
      { class: u.correctedBy ? 'hint' : null },
      `${u.occurredOn} · ${u.kind.replaceAll('_', ' ').toLowerCase()}${u.component ? ` · ${u.component.title}` : ''}${u.spend ? ` · ${u.spend.amount.formatted}` : ''} — ${u.narrative}${u.correctedBy ? ' (corrected)' : ''}`,
    ),
  );
  section.append(updates.length ? h('ul', { id: 'progress' }, ...updates) : h('p', {}, 'No progress yet.'));
  if (isPartner && ['PLAN_APPROVED', 'IN_IMPLEMENTATION'].includes(c.status)) section.append(progressForm(c));
  if (c.shipments.length || c.planInForce.components.some((k) => k.materials?.procurement === 'SHIPPED'))
    section.append(shipmentsPart(c, isPartner));
  return section;
}

function progressForm(c) {
  const kind = h(
    'select',
    { name: 'kind', 'aria-label': 'Kind of update' },
    ...[
      'PURCHASE',
      'ARRIVAL_SUPPORT',
      'COUNSELLING',
      'TRAINING_ATTENDANCE',
      'TRAINING_COMPLETED',
      'BUSINESS_STARTED',
      'CONCERN',
      'OTHER',
    ].map((k) => h('option', { value: k }, k.replaceAll('_', ' ').toLowerCase())),
  );
  const component = h(
    'select',
    { name: 'component', 'aria-label': 'Plan component' },
    h('option', { value: '' }, '(no component)'),
    ...c.planInForce.components.map((k) => h('option', { value: k.id }, k.title)),
  );
  const narrative = h('textarea', { name: 'narrative', rows: 2, required: true, 'aria-label': 'What happened' });
  const occurredOn = h('input', {
    name: 'occurredOn',
    type: 'date',
    value: new Date().toISOString().slice(0, 10),
    'aria-label': 'Day',
  });
  const amount = h('input', {
    name: 'amount',
    type: 'number',
    min: '0',
    placeholder: 'Spent (minor units)',
    'aria-label': 'Amount spent in minor units',
  });
  const currency = h('input', { name: 'currency', value: 'EUR', maxlength: '3', 'aria-label': 'Currency' });
  const receipt = h('input', {
    name: 'receipt',
    type: 'file',
    accept: 'application/pdf,image/jpeg,image/png',
    'aria-label': 'Receipt or invoice',
  });
  const form = h(
    'form',
    {
      id: 'progress-form',
      onsubmit: async (event) => {
        event.preventDefault();
        try {
          const input = {
            kind: kind.value,
            narrative: narrative.value,
            language: document.documentElement.lang || 'en',
            occurredOn: occurredOn.value,
            componentId: component.value || null,
          };
          if (amount.value) {
            const file = receipt.files?.[0];
            if (!file) return say('Spend needs its receipt or invoice.', 'error');
            const proof = await uploadEvidence(c.id, 'RECEIPT', file);
            input.spend = { amount: { amount: Number(amount.value), currency: currency.value.toUpperCase() }, proof: proof.id };
          }
          await write(
            'Post the update',
            `mutation ($id: ID!, $v: Int!, $input: ProgressUpdateInput!, $key: String) { postProgressUpdate(caseId: $id, input: $input, expectedVersion: $v, idempotencyKey: $key) { case { ${CASE_RESULT} } } }`,
            { id: c.id, v: c.version, input },
          );
        } catch {
          // the status bar says what went wrong
        } finally {
          await showCase(c.id);
        }
      },
    },
    h('h3', {}, 'Post an update'),
    h('div', { class: 'row' }, kind, component, occurredOn),
    narrative,
    h('div', { class: 'row' }, amount, currency, receipt),
    h('button', { type: 'submit' }, 'Post update'),
  );
  return form;
}

function shipmentsPart(c, isPartner) {
  const part = h('div', { id: 'shipments' }, h('h3', {}, 'Shipments'));
  const step = (s, status) => async () => {
    const place = document.getElementById(`place-${s.id}`).value || s.destination;
    let evidence = null;
    if (status === 'HANDED_OVER') {
      const file = document.getElementById(`cert-${s.id}`).files?.[0];
      if (!file) return say('The handover needs its signed certificate.', 'error');
      evidence = (await uploadEvidence(c.id, 'HANDOVER_CERTIFICATE', file)).id;
    }
    try {
      await write(
        `Shipment: ${status.replaceAll('_', ' ').toLowerCase()}`,
        `mutation ($id: ID!, $v: Int!, $input: ShipmentEventInput!, $key: String) { recordShipmentEvent(caseId: $id, input: $input, expectedVersion: $v, idempotencyKey: $key) { case { ${CASE_RESULT} } } }`,
        {
          id: c.id,
          v: c.version,
          input: { shipmentId: s.id, status, at: new Date().toISOString(), place, evidence },
        },
      );
    } finally {
      await showCase(c.id);
    }
  };
  for (const s of c.shipments) {
    const last = s.events.at(-1);
    part.append(
      h(
        'div',
        { class: 'component', dataset: { shipment: s.id } },
        h('strong', {}, `${s.component.title}: `),
        h('span', { class: 'badge' }, s.status.replaceAll('_', ' ')),
        ` ${s.carrier} ${s.trackingReference} → ${s.destination}${last ? ` (last: ${last.place}, ${new Date(last.at).toLocaleDateString()})` : ''}`,
        isPartner && s.allowedNext.length
          ? h(
              'div',
              { class: 'actions' },
              h('input', { id: `place-${s.id}`, placeholder: 'Where', 'aria-label': 'Where' }),
              s.allowedNext.includes('HANDED_OVER')
                ? h('input', {
                    id: `cert-${s.id}`,
                    type: 'file',
                    accept: 'application/pdf,image/jpeg,image/png',
                    'aria-label': 'Handover certificate',
                  })
                : null,
              ...s.allowedNext.map((status) =>
                h(
                  'button',
                  { class: status === 'LOST' || status === 'RETURNED' ? 'secondary' : null, onclick: step(s, status) },
                  status.replaceAll('_', ' ').toLowerCase(),
                ),
              ),
            )
          : null,
      ),
    );
  }
  const unshipped = c.planInForce.components.filter(
    (k) =>
      k.materials?.procurement === 'SHIPPED' &&
      !c.shipments.some((s) => s.component.id === k.id && !['LOST', 'RETURNED'].includes(s.status)),
  );
  if (isPartner && unshipped.length) {
    const component = h(
      'select',
      { 'aria-label': 'Component to ship' },
      ...unshipped.map((k) => h('option', { value: k.id }, k.title)),
    );
    const fields = ['carrier', 'trackingReference', 'origin', 'destination'].map((name) =>
      h('input', { name, placeholder: name.replace(/([A-Z])/g, ' $1').toLowerCase(), 'aria-label': name }),
    );
    part.append(
      h(
        'form',
        {
          id: 'order-shipment',
          onsubmit: async (event) => {
            event.preventDefault();
            const [carrier, trackingReference, origin, destination] = fields.map((f) => f.value);
            try {
              await write(
                'Order the shipment',
                `mutation ($id: ID!, $v: Int!, $input: ShipmentEventInput!, $key: String) { recordShipmentEvent(caseId: $id, input: $input, expectedVersion: $v, idempotencyKey: $key) { case { ${CASE_RESULT} } } }`,
                {
                  id: c.id,
                  v: c.version,
                  input: {
                    componentId: component.value,
                    status: 'ORDERED',
                    at: new Date().toISOString(),
                    place: origin,
                    shipment: { carrier, trackingReference, origin, destination },
                  },
                },
              );
            } finally {
              await showCase(c.id);
            }
          },
        },
        h('h4', {}, 'Order a shipment'),
        component,
        h('div', { class: 'row' }, ...fields),
        h('button', { type: 'submit' }, 'Order'),
      ),
    );
  }
  return part;
}

function planSection(c, canDraft) {
  const plan = c.plan;
  const section = h(
    'section',
    { class: 'card', id: 'plan' },
    h(
      'h2',
      {},
      plan
        ? `Reintegration plan, version ${plan.planVersion} — ${plan.status.replaceAll('_', ' ').toLowerCase()}`
        : 'Reintegration plan',
    ),
    plan?.decisionComment ? h('p', { class: 'hint' }, `Coordinator: ${plan.decisionComment}`) : null,
    plan
      ? h(
          'table',
          {},
          h('thead', {}, h('tr', {}, h('th', {}, 'Component'), h('th', {}, 'Kind'), h('th', {}, 'Cost'), h('th', {}, 'In EUR'))),
          h(
            'tbody',
            {},
            ...plan.components.map((k) =>
              h(
                'tr',
                {},
                h('td', {}, k.title),
                h('td', {}, k.kind),
                h('td', {}, money(k.cost)),
                h('td', {}, k.costEur ? money(k.costEur) : '—'),
              ),
            ),
          ),
        )
      : h('p', {}, 'No plan yet.'),
    plan?.totalEur ? h('p', {}, `Total: ${money(plan.totalEur)}`) : null,
  );
  if (canDraft) {
    const editor = planEditor(c);
    // An amendment is the exception: keep it folded until asked for.
    section.append(c.plan?.status === 'APPROVED' ? h('details', {}, h('summary', {}, 'Propose an amendment'), editor) : editor);
  }
  return section;
}

/** The detail fields of each kind: name, label, input type (or the options of a select), and where an existing component keeps it. */
const KIND_FIELDS = {
  TRAINING: [
    ['provider', 'Training provider', 'text', (k) => k.training?.provider],
    ['course', 'Course', 'text', (k) => k.training?.course],
    ['startDate', 'Start', 'date', (k) => k.training?.startDate],
    ['endDate', 'End', 'date', (k) => k.training?.endDate],
  ],
  BUSINESS_PLAN: [
    ['sector', 'Sector', 'text', (k) => k.businessPlan?.sector],
    ['description', 'Description', 'text', (k) => k.businessPlan?.description],
    ['location', 'Location', 'text', (k) => k.businessPlan?.location],
    ['income', 'Expected monthly income (minor units)', 'number', (k) => k.businessPlan?.expectedMonthlyIncome.amount],
  ],
  MATERIALS: [
    ['item', 'Item', 'text', (k) => k.materials?.items[0]?.description],
    ['quantity', 'Quantity', 'number', (k) => k.materials?.items[0]?.quantity],
    ['supplier', 'Supplier', 'text', (k) => k.materials?.supplier],
    ['procurement', 'Procurement', ['LOCAL', 'SHIPPED'], (k) => k.materials?.procurement],
  ],
  SERVICE: [
    [
      'category',
      'Category',
      ['HOUSING', 'MEDICAL', 'SCHOOLING', 'PSYCHOSOCIAL', 'JOB_PLACEMENT', 'LEGAL', 'OTHER'],
      (k) => k.service?.category,
    ],
    ['provider', 'Provider', 'text', (k) => k.service?.provider],
    ['description', 'Description', 'text', (k) => k.service?.description],
  ],
  CASH: [['purpose', 'Purpose', 'text', (k) => k.cash?.purpose]],
};

/** A component as shown, turned back into the input that would save it unchanged. */
function componentAsInput(k) {
  const money = (m) => ({ amount: m.amount, currency: m.currency });
  const base = { id: k.id, kind: k.kind, title: k.title };
  switch (k.kind) {
    case 'TRAINING':
      return { ...base, cost: money(k.cost), training: { ...k.training } };
    case 'BUSINESS_PLAN':
      return {
        ...base,
        businessPlan: {
          ...k.businessPlan,
          startupCosts: money(k.businessPlan.startupCosts),
          expectedMonthlyIncome: money(k.businessPlan.expectedMonthlyIncome),
        },
      };
    case 'MATERIALS':
      return {
        ...base,
        materials: {
          supplier: k.materials.supplier,
          procurement: k.materials.procurement,
          items: k.materials.items.map((i) => ({
            description: i.description,
            quantity: i.quantity,
            unitCost: money(i.unitCost),
          })),
        },
      };
    case 'SERVICE':
      return { ...base, cost: money(k.cost), service: { ...k.service } };
    default:
      return { ...base, cost: money(k.cost), cash: { ...k.cash } };
  }
}

function planEditor(c) {
  const list = h('div', {});
  const addComponent = (existing) => {
    const kind = h(
      'select',
      { name: 'kind', 'aria-label': 'Kind' },
      ...Object.keys(KIND_FIELDS).map((k) => h('option', { value: k, selected: existing?.kind === k }, k)),
    );
    const title = h('input', { name: 'title', placeholder: 'Title', value: existing?.title ?? '', 'aria-label': 'Title' });
    const amount = h('input', {
      name: 'amount',
      type: 'number',
      min: '0',
      placeholder: 'Cost (minor units)',
      value: existing?.cost.amount ?? '',
      'aria-label': 'Cost in minor units',
    });
    const currency = h('input', {
      name: 'currency',
      placeholder: 'EUR',
      value: existing?.cost.currency ?? c.entitlement.total.currency,
      maxlength: '3',
      'aria-label': 'Currency',
    });
    const details = h('div', { class: 'row' });
    const renderDetails = () =>
      details.replaceChildren(
        ...KIND_FIELDS[kind.value].map(([name, label, type, from]) => {
          const current = existing && existing.kind === kind.value ? from(existing) : undefined;
          return Array.isArray(type)
            ? h(
                'select',
                { name, 'aria-label': label },
                ...type.map((o) => h('option', { value: o, selected: o === current }, o.replaceAll('_', ' ').toLowerCase())),
              )
            : h('input', { name, type, placeholder: label, 'aria-label': label, value: current ?? '' });
        }),
      );
    kind.addEventListener('change', renderDetails);
    renderDetails();
    const box = h(
      'div',
      {
        class: 'component',
        dataset: { id: existing?.id ?? '', original: existing ? JSON.stringify(componentAsInput(existing)) : '' },
      },
      h('div', { class: 'row' }, kind, title, amount, currency),
      details,
      h('button', { type: 'button', class: 'secondary', onclick: () => box.remove() }, 'Remove'),
    );
    // Any edit makes the box the source of the component (see componentInput).
    box.addEventListener('input', () => (box.dataset.dirty = 'true'));
    box.addEventListener('change', () => (box.dataset.dirty = 'true'));
    list.append(box);
  };
  const form = h(
    'form',
    {
      onsubmit: async (event) => {
        event.preventDefault();
        const components = [...list.querySelectorAll('.component')].map((box) => componentInput(box));
        try {
          await write(
            'Save the draft plan',
            `mutation ($id: ID!, $v: Int!, $p: PlanInput!, $key: String) { saveDraftPlan(caseId: $id, plan: $p, expectedVersion: $v, idempotencyKey: $key) { ${CASE_RESULT} } }`,
            {
              id: c.id,
              v: c.version,
              p: { summary: form.querySelector('[name=summary]').value || null, components },
            },
          );
        } finally {
          await showCase(c.id);
        }
      },
    },
    h(
      'h3',
      {},
      c.plan?.status === 'DRAFT' ? 'Edit the draft' : c.plan?.status === 'APPROVED' ? 'Propose an amendment' : 'Draft a plan',
    ),
    h('label', { for: 'summary' }, 'Summary'),
    h('textarea', { id: 'summary', name: 'summary', rows: 2 }, c.plan?.summary ?? ''),
    list,
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'button', class: 'secondary', onclick: () => addComponent() }, 'Add component'),
      h('button', { type: 'submit' }, 'Save draft'),
    ),
  );
  for (const component of c.plan?.components ?? []) addComponent(component);
  if (!c.plan) addComponent();
  return form;
}

function componentInput(box) {
  // A component nobody touched is saved exactly as it was (the simple form cannot show, say, several items).
  if (box.dataset.original && box.dataset.dirty !== 'true') return JSON.parse(box.dataset.original);
  const value = (name) => box.querySelector(`[name=${name}]`)?.value ?? '';
  const kind = value('kind');
  const cost = { amount: Number(value('amount') || 0), currency: value('currency').toUpperCase() || 'EUR' };
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
          expectedMonthlyIncome: { amount: Number(value('income') || 0), currency: cost.currency },
        },
      };
    case 'MATERIALS': {
      const quantity = Math.max(1, Number(value('quantity') || 1));
      return {
        ...base,
        materials: {
          items: [
            {
              description: value('item') || base.title,
              quantity,
              unitCost: { amount: Math.round(cost.amount / quantity), currency: cost.currency },
            },
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

async function ensureMe() {
  if (!me) me = (await gql('{ me { subject roles organisation { code name kind } } }')).me;
  return me;
}

// ---- routing -----------------------------------------------------------------------------

async function route() {
  if (!sessionStorage.getItem(TOKEN_KEY)) return showSignIn();
  const [path, query = ''] = (location.hash.slice(1) || '/cases').split('?');
  const params = new URLSearchParams(query);
  try {
    await ensureMe();
    const match = /^\/case\/([^/]+)$/.exec(path);
    if (match) await showCase(decodeURIComponent(match[1]));
    else await showCases(params);
  } catch (error) {
    if (error instanceof ApiError && error.code === 'UNAUTHENTICATED') return;
    say(error.message, 'error');
  }
}

document.getElementById('signout').addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  me = null;
  location.hash = '';
  route();
});
window.addEventListener('hashchange', () => void route());
window.addEventListener('online', () => void flush().catch(() => undefined));
void route();
if (outbox().length) void flush().catch(() => undefined);
