// ERIN Exchange partner portal: the shell (header, language, outbox, sign-out), the router,
// and the start-up (finish a sign-in, load the language, show the view). Plain modules
// bundled by the gateway; views live in views/, one module each.
import { ApiError, forgetReads, OfflineError, prefetch, read, whenUnauthenticated } from './api.js';
import { Me } from '../graphql/me.graphql';
import { WorkList } from '../graphql/work-list.graphql';
import {
  completeSignIn,
  dropSession,
  holdPresence,
  loadConfig,
  owner,
  person,
  returnedFromProvider,
  scheduleRenewal,
  session,
  signedIn,
  signOut,
  timeoutSince,
  whenSessionExpires,
} from './auth.js';
import { data, focusHeading, h } from './dom.js';
import { resumeSession, setIdleLimit, signedInNow, stay, stopWatching, watchIdle } from './idle.js';
import { initI18n, LANGUAGES, language, onLanguageChange, setLanguage, t, tx } from './i18n.js';
import { discard, flush, onOutboxChange, pending } from './outbox.js';
import { restoreTyped, typedIn } from './typed.js';
import { bindTo, forgetKey, sessionEnded, wipe } from './vault.js';
import { renderCase } from './views/case.js';
import { renderCases } from './views/cases.js';
import { renderHome } from './views/home.js';
import { renderSignIn, showSignInProblem } from './views/signin.js';

const root = document.getElementById('app');
const view = h('main', { id: 'view', tabindex: '-1' });
const status = h('div', { id: 'status', role: 'status', 'aria-live': 'polite' });
const outboxBadge = h('span', { id: 'outbox', class: 'outbox', 'aria-live': 'polite' });
const offline = h('p', { id: 'offline', class: 'banner', hidden: true });
let me = null;

/** One message at a time in the live region: a catalogue key and its values (nodes stay nodes). */
export function say(key, values = {}, kind = 'info') {
  status.replaceChildren(...(key ? tx(key, values) : []));
  status.className = kind === 'error' ? 'error' : '';
}

let meRead = null;
/** The signed-in person, waiting for the first page's read of them when a view needs it before. */
export const signedInUser = async () => me ?? (await meRead?.then((r) => r.data.me).catch(() => null)) ?? null;

function header() {
  const languages = h(
    'select',
    { id: 'language', onchange: (e) => void setLanguage(e.target.value) },
    LANGUAGES.map((l) => h('option', { value: l.code, lang: l.code, translate: 'no', selected: l.code === language() }, l.name)),
  );
  const nav = signedIn()
    ? h(
        'nav',
        { 'aria-label': t('nav.label') },
        h('a', { href: '#/' }, t('nav.home')),
        h('a', { href: '#/cases' }, t('nav.cases')),
      )
    : null;
  return h(
    'header',
    {},
    h('a', { href: '#/', class: 'brand', translate: 'no' }, t('app.name')),
    nav,
    h('span', { class: 'spacer' }),
    me
      ? h(
          'span',
          { id: 'who', translate: 'no' },
          // The organisation's name is the network's data: isolated from the roles after it (dom.js data).
          data(me.organisation.name),
          ` · ${me.roles.map((r) => t(`role.${r}`)).join(', ')}`,
        )
      : null,
    signedIn() ? outboxBadge : null,
    h('label', { for: 'language', class: 'visually-hidden' }, t('language.label')),
    languages,
    signedIn()
      ? h(
          'button',
          { id: 'signout', type: 'button', class: 'secondary', onclick: () => void startSignOut() },
          t('signOut.button'),
        )
      : null,
  );
}

function renderShell() {
  root.replaceChildren(h('a', { href: '#view', class: 'skip' }, t('nav.skip')), header(), offline, status, view);
  void updateOutboxBadge();
  updateOffline();
}

async function updateOutboxBadge() {
  // Signed out, nothing is counted: leaving for the sign-in page must not be held up (beforeunload).
  if (!signedIn()) return void (outboxBadge.textContent = '');
  const waiting = (await pending().catch(() => [])).length;
  outboxBadge.textContent = waiting ? t('outbox.waiting', { count: waiting }) : '';
}

function updateOffline() {
  offline.hidden = navigator.onLine;
  offline.textContent = t('offline.banner');
}

// ---- routing ------------------------------------------------------------------------------

export function go(hash) {
  if (location.hash === hash) void route();
  else location.hash = hash;
}

let generation = 0;
let routing = Promise.resolve();
/** The route whose view is on screen: reading it again may keep what was typed. */
let shown = null;

/**
 * Shows the view the address names. `keep` reads the same page again without losing what was
 * typed: 'all' keeps every form's input (after a conflict), 'idle' all but a form being sent
 * (after a write went out: the form that sent it is shown empty).
 */
export function route({ keep = null } = {}) {
  routing = show(keep);
  return routing;
}

/** Resolves when the latest view asked for is on screen (or failed). */
export async function rendering() {
  let current;
  do {
    current = routing;
    await current;
  } while (current !== routing);
}

async function show(keep) {
  // Only the latest call shows its view: an earlier one that finishes later must not overwrite it.
  const mine = (generation += 1);
  if (!signedIn()) {
    me = null;
    shown = null;
    renderShell();
    view.replaceChildren(await renderSignIn());
    focusHeading(view);
    return;
  }
  const [path, query = ''] = (location.hash.slice(1) || '/').split('?');
  const params = new URLSearchParams(query);
  try {
    const who = me ? null : (meRead = read(Me, {}, 'me'));
    const caseMatch = /^\/case\/([^/]+)(?:\/([a-z]+))?$/.exec(path);
    const content = caseMatch
      ? await renderCase(decodeURIComponent(caseMatch[1]), caseMatch[2] ?? 'overview')
      : path === '/cases'
        ? await renderCases(params)
        : await renderHome();
    if (who) me = (await who).data.me;
    if (mine !== generation) return;
    const typed = keep && shown === location.hash ? typedIn(view, (form) => keep === 'idle' && form.dataset.busy) : null;
    renderShell();
    view.replaceChildren(content);
    if (typed) restoreTyped(view, typed);
    shown = location.hash;
    focusHeading(view);
  } catch (error) {
    if (mine !== generation) return;
    shown = null;
    renderShell();
    if (error instanceof ApiError && error.code === 'UNAUTHENTICATED') return;
    view.replaceChildren(
      h(
        'section',
        { class: 'card' },
        h('h1', {}, t('error.title')),
        h('p', {}, error instanceof OfflineError ? t('offline.nothingKept') : t('error.generic')),
        h('button', { id: 'retry', type: 'button', onclick: () => void route() }, t('error.retry')),
      ),
    );
    if (error instanceof ApiError) say('error.fromServer', { message: data(error.message) }, 'error');
  }
}

// ---- sign-out: nothing may be lost silently, nothing personal may stay ----------------------

/**
 * How long sign-out waits for the outbox to go out. On a stalled link a send hangs for minutes;
 * after this the person is told what has not gone and chooses (see startSignOut).
 */
const SIGN_OUT_WAIT_MS = 4_000;
let signingOut = false;

/**
 * Signing out on a shared computer must end the session within seconds whatever the link does,
 * and never lose a write silently. The outbox is sent for a few seconds; what is still not
 * confirmed then is named in a dialog: stay signed in (it keeps going out, and the person signs
 * out once the badge is empty) or discard it and sign out. Nothing is kept past a sign-out: the
 * store's key is this tab's, and a person who signed out expects the shared computer to hold
 * nothing of theirs (unsent writes stay sealed for the next sign-in only when a session ends
 * without a sign-out, vault.js).
 */
async function startSignOut() {
  if (signingOut) return;
  signingOut = true;
  try {
    if ((await pending().catch(() => [])).length) say('signOut.sending');
    await Promise.race([flush().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, SIGN_OUT_WAIT_MS))]);
    const left = await pending().catch(() => []);
    say(null);
    if (left.length && !(await confirmDiscard(left))) return;
    await discard().catch(() => undefined);
    await wipe({ lock: true });
    forgetKey();
    me = null;
    stopWatching();
    // The tokens go at once; the sign-in page is shown while the provider's sign-out page loads
    // (on a stalled link it may never come), so nothing of the person's stays on screen.
    const atProvider = signOut();
    await route();
    await atProvider;
  } finally {
    signingOut = false;
  }
}

function confirmDiscard(entries) {
  return new Promise((resolve) => {
    const dialog = h(
      'dialog',
      { id: 'discard-dialog', 'aria-labelledby': 'discard-title' },
      h('h2', { id: 'discard-title' }, t('signOut.unsentTitle', { count: entries.length })),
      h('p', {}, t('signOut.unsentText')),
      h(
        'ul',
        {},
        entries.map((e) => h('li', {}, labelOf(e))),
      ),
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', class: 'danger', onclick: () => close(true) }, t('signOut.discard')),
        h('button', { type: 'button', class: 'secondary', autofocus: true, onclick: () => close(false) }, t('signOut.stay')),
      ),
    );
    const close = (answer) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    dialog.addEventListener('cancel', (e) => (e.preventDefault(), close(false)));
    document.body.append(dialog);
    dialog.showModal();
  });
}

// ---- start -------------------------------------------------------------------------------

/** What an outbox entry does, in the current language, its case reference kept as data. */
export const labelOf = (entry) => h('span', {}, tx(entry.label.key, { reference: data(entry.label.values.reference) }));

onOutboxChange((event) => {
  void updateOutboxBadge();
  const label = event.entry ? labelOf(event.entry) : '';
  if (event.type === 'queued') say('outbox.sending', { label });
  if (event.type === 'sent') say('outbox.sent', { label });
  if (event.type === 'waiting') say('outbox.notSent', { label }, 'error');
  if (event.type === 'conflict') say('outbox.conflict', { label }, 'error');
  if (event.type === 'refused') say('outbox.refused', { label, message: data(event.error.message) }, 'error');
  // The page is read again to show what the gateway now holds, keeping what was typed; a refused
  // write changed nothing, so its form stays as it is, with the reason beside it (views/act.js).
  if (event.type === 'sent') void route({ keep: 'idle' });
  if (event.type === 'conflict') void route({ keep: 'all' });
});

/**
 * The session ended without a sign-out: the gateway refused its token, it was spent and not
 * renewed, or nobody used the portal for the idle time (`reason` says which to the person).
 * What was on screen goes at once (a view being read is not shown), and so do any dialogs (the
 * unsent writes they name) and what was read ahead; unsent writes stay sealed for the same
 * person's next sign-in (vault.js).
 */
function sessionOver(reason = 'signIn.expired') {
  generation += 1;
  shown = null;
  me = null;
  view.replaceChildren();
  stopWatching(); // first: the warning's answer is no longer the person's input
  for (const dialog of document.querySelectorAll('dialog')) {
    dialog.dispatchEvent(new Event('cancel', { cancelable: true })); // a pending question is answered "stay"
    dialog.remove();
  }
  forgetReads();
  dropSession();
  say(reason, {}, 'error');
  // The next person at this computer may be someone else: the offline copy goes now.
  return sessionEnded().finally(() => route());
}
whenUnauthenticated(() => void sessionOver());
whenSessionExpires(() => void sessionOver());

// ---- nobody at the computer: the session ends after the idle time (idle.js) ----------------

let idleWarning = null;

/** Shortly before the end, in the person's language: a button to stay signed in (in every tab). */
function warnIdle() {
  idleWarning?.remove();
  idleWarning = h(
    'dialog',
    { id: 'idle-dialog', 'aria-labelledby': 'idle-title', 'aria-describedby': 'idle-text' },
    h('h2', { id: 'idle-title' }, t('idle.title')),
    h('p', { id: 'idle-text' }, t('idle.text')),
    h(
      'div',
      { class: 'actions' },
      h('button', { id: 'idle-stay', type: 'button', autofocus: true, onclick: stay }, t('idle.stay')),
    ),
  );
  // Escape is the person's answer too: they are here.
  idleWarning.addEventListener('cancel', (e) => (e.preventDefault(), stay()));
  document.body.append(idleWarning);
  idleWarning.showModal();
}

function unwarnIdle() {
  idleWarning?.close();
  idleWarning?.remove();
  idleWarning = null;
}

watchIdle({ warn: warnIdle, unwarn: unwarnIdle, end: () => void sessionOver('signIn.idle') });

onLanguageChange(() => void route({ keep: 'all' }));
addEventListener('hashchange', () => {
  say(null); // a message belongs to the page it was said on
  void route();
});
addEventListener('online', updateOffline);
addEventListener('offline', updateOffline);
// Back after a sign-out can bring this page back from the browser's memory (the back-forward
// cache) as it was left, a case on screen: what it showed goes, and the session is checked again
// (signed out, the sign-in page; still signed in, the page is read again).
addEventListener('pageshow', (event) => {
  if (!event.persisted) return;
  view.replaceChildren();
  say(null);
  void route();
});
addEventListener('beforeunload', (event) => {
  // Closing the tab forgets the session key: unsent writes would be lost.
  if (outboxBadge.textContent) event.preventDefault();
});

/**
 * Without its words the portal cannot say anything in the person's language: said in all three
 * (as index.html's noscript), with a button that loads the page again.
 */
function startFailed() {
  root.replaceChildren(
    h(
      'section',
      { id: 'start-failed', class: 'card narrow', role: 'alert' },
      h('p', { lang: 'en', dir: 'ltr' }, 'The portal could not be loaded: the connection is too slow or down.'),
      h('p', { lang: 'fr', dir: 'ltr' }, 'Le portail n’a pas pu être chargé : la connexion est trop lente ou coupée.'),
      h('p', { lang: 'ar', dir: 'rtl' }, 'تعذّر تحميل البوابة: الاتصال بطيء جدًا أو مقطوع.'),
      h('button', { type: 'button', onclick: () => location.reload() }, 'Try again · Réessayer · أعد المحاولة'),
    ),
  );
}

async function start() {
  // On a slow link every round trip counts: the words, the sign-in configuration and (when
  // signed in) the home page's data are all asked for at once. Each is waited for a bounded time.
  const started = Date.now();
  const config = loadConfig();
  config.catch(() => undefined); // the sign-in page says so, with a retry
  const words = initI18n(timeoutSince(started));
  const returned = returnedFromProvider();
  const finishing = completeSignIn().then(
    (done) => ({ done, error: null }),
    (error) => ({ done: false, error }),
  );
  // Back from the provider, the page says what it waits for rather than staying blank.
  void words
    .then(() => {
      if (returned && !signedIn()) {
        renderShell();
        say('signIn.finishing');
      }
    })
    .catch(() => undefined);
  const finished = await finishing;
  if (finished.error) showSignInProblem(finished.error);
  try {
    await words;
  } catch {
    return startFailed();
  }
  say(null);
  // The idle time is the gateway's: known before this tab joins the browser's run of input, and
  // before anything of a session that has been idle too long (a tab restored hours later) is read.
  await config.then((c) => setIdleLimit(c.idleMs)).catch(() => undefined);
  if (finished.done) signedInNow();
  else if (signedIn() && !resumeSession()) await sessionOver('signIn.idle');
  // The offline store is this person's, or what another left in this tab is deleted first, and
  // the page the other was on is not where this person starts.
  if (signedIn() && (await bindTo(owner()))) history.replaceState(null, '', location.pathname);
  if (signedIn()) {
    prefetch(Me, {}, 'me');
    if (!location.hash || location.hash === '#/') prefetch(WorkList, {}, 'work-list');
  }
  // A tab signed in before this page loaded (a reload) is still one of this browser's signed-in tabs.
  if (signedIn()) holdPresence();
  if (session()?.refreshToken) scheduleRenewal();
  if (person()) void flush();
  await route();
  if ('serviceWorker' in navigator) navigator.serviceWorker.register('sw.js', { scope: './' }).catch(() => undefined);
}

void start();
