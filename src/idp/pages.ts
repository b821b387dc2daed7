// The development identity provider's pages: plain HTML, no script. The login page lists the
// demo users and their password, which is why the provider never runs in production.
import { DEMO_PASSWORD, type DemoUser } from './demo-users.ts';

const STYLE = `body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1b1f24}
label{display:block;margin:.6rem 0 .2rem;font-weight:600}input{font:inherit;padding:.45rem;width:100%;max-width:22rem;border:1px solid #57606a;border-radius:4px}
button{font:inherit;margin:.8rem .4rem 0 0;padding:.5rem 1rem;border:0;border-radius:4px;background:#0b5cad;color:#fff;cursor:pointer}
button.secondary{background:#57606a}.warn{background:#fff4ce;border:1px solid #9a6700;padding:.6rem;border-radius:4px}
.error{color:#a40e26;font-weight:600}table{border-collapse:collapse;margin-top:.5rem}td,th{text-align:start;padding:.25rem .6rem;border-bottom:1px solid #d0d7de}
code{background:#f6f8fa;padding:0 .2rem}`;

export function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · ERIN development sign-in</title><style>${STYLE}</style></head><body><main>${body}</main></body></html>`;
}

export function loginPage(options: { action: string; users: DemoUser[]; failed?: boolean }): string {
  const rows = options.users
    .map(
      (u) =>
        `<tr><td><code>${escapeHtml(u.username)}</code></td><td>${escapeHtml(u.organisation.name)}</td><td>${escapeHtml(u.roles.join(', '))}</td></tr>`,
    )
    .join('');
  return page(
    'Sign in',
    `<h1>ERIN Exchange: development sign-in</h1>
<p class="warn">A development identity provider with demo users. It never runs in production, where each organisation signs in at its own provider.</p>
${options.failed ? '<p class="error" role="alert">Unknown user name or wrong password.</p>' : ''}
<form method="post" action="${escapeHtml(options.action)}">
<label for="username">User name</label><input id="username" name="username" autocomplete="username" required autofocus>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>
<h2>Demo users</h2>
<p>Every demo user's password is <code>${escapeHtml(DEMO_PASSWORD)}</code>.</p>
<table><thead><tr><th scope="col">User name</th><th scope="col">Organisation</th><th scope="col">Role</th></tr></thead><tbody>${rows}</tbody></table>`,
  );
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
