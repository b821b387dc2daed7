// Sign-in: one button per identity provider the trust configuration names for the portal.
// Pasting a token exists only in development, behind a clearly marked link.
import { loadConfig, owner, signIn, usePastedToken } from '../auth.js';
import { data, field, h } from '../dom.js';
import { language, t, tx } from '../i18n.js';
import { go } from '../main.js';
import { bindTo, unlock } from '../vault.js';

export async function renderSignIn() {
  const config = await loadConfig();
  const providers = config.providers.map((p) =>
    h(
      'li',
      {},
      h('button', { type: 'button', onclick: () => void signIn(p, language()) }, tx('signIn.with', { name: data(p.name) })),
    ),
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
              usePastedToken(event.target.elements.token.value.trim());
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
    h('p', {}, t('signIn.intro')),
    providers.length ? h('ul', { class: 'providers' }, providers) : h('p', {}, t('signIn.noProviders')),
    paste,
  );
}
