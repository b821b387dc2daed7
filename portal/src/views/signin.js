// Sign-in: one button per identity provider the trust configuration names for the portal, and
// why the last sign-in did not finish (a stalled link, a provider's answer that is no use, a
// return that answers no sign-in under way), with a button to try again. Pasting a token exists
// only in development, behind a clearly marked link.
import { loadConfig, owner, signIn, usePastedToken } from '../auth.js';
import { data, field, h } from '../dom.js';
import { signedInNow } from '../idle.js';
import { language, t, tx } from '../i18n.js';
import { go, route, say } from '../main.js';
import { bindTo, unlock } from '../vault.js';

/** Why the last sign-in did not finish: a reason (SignInError's) and the provider it was at. */
let problem = null;

/** Shown on the sign-in page until the next attempt. */
export function showSignInProblem(error) {
  problem = { reason: error?.reason ?? 'invalid', issuer: error?.issuer ?? null };
}

/**
 * Starts a sign-in at a provider. Its buttons are disabled until the page is left or the person
 * is told why not (within the portal's timeout, whatever the link does).
 */
async function start(provider) {
  problem = null;
  const buttons = [...document.querySelectorAll('.providers button, #signin-retry')];
  buttons.forEach((b) => (b.disabled = true));
  document.getElementById('signin-problem')?.remove();
  say('signIn.opening');
  try {
    await signIn(provider, language());
  } catch (error) {
    if (error?.name === 'AbortError') return;
    showSignInProblem(error);
    say(null);
    await route();
  }
}

function problemShown(providers) {
  const again = providers.find((p) => p.issuer === problem.issuer) ?? (providers.length === 1 ? providers[0] : null);
  return h(
    'div',
    { id: 'signin-problem', class: 'problem', role: 'alert' },
    h('p', {}, h('strong', {}, t('signIn.failed')), ' ', t(`signIn.problem.${problem.reason}`)),
    h(
      'button',
      {
        id: 'signin-retry',
        type: 'button',
        onclick: () => {
          if (again) return void start(again);
          problem = null;
          // The settings did not come: asked for again (only now, not at every showing of this page).
          loadConfig(true).catch(() => undefined);
          void route();
        },
      },
      t('signIn.retry'),
    ),
  );
}

export async function renderSignIn() {
  let config;
  try {
    config = await loadConfig();
  } catch {
    problem = { reason: 'config', issuer: null };
    config = { providers: [], tokenPaste: false };
  }
  const providers = config.providers.map((p) =>
    h('li', {}, h('button', { type: 'button', onclick: () => void start(p) }, tx('signIn.with', { name: data(p.name) }))),
  );
  const paste = config.tokenPaste
    ? h(
        'details',
        { class: 'dev' },
        h('summary', {}, t('signIn.devPaste')),
        h('p', { class: 'hint' }, t('signIn.devPasteHint')),
        h(
          'form',
          {
            id: 'paste-token',
            onsubmit: (event) => {
              event.preventDefault();
              problem = null;
              usePastedToken(event.target.elements.token.value.trim());
              signedInNow();
              unlock();
              void bindTo(owner()).then(() => go('#/'));
            },
          },
          field(
            t('signIn.token'),
            h('textarea', { name: 'token', rows: 4, required: true, autocomplete: 'off', spellcheck: 'false' }),
          ),
          h('button', { type: 'submit' }, t('signIn.usePasted')),
        ),
      )
    : null;
  return h(
    'section',
    { class: 'card narrow' },
    h('h1', {}, t('signIn.title')),
    problem ? problemShown(config.providers) : null,
    h('p', {}, t('signIn.intro')),
    providers.length ? h('ul', { class: 'providers' }, providers) : problem ? null : h('p', {}, t('signIn.noProviders')),
    paste,
  );
}
