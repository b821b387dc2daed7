// Partner staff use shared computers: a tab left open would stay signed in, showing returnees'
// cases to the next person, for as long as the provider renews the session (hours). The session
// ends after a while without any input from the person (ERIN_PORTAL_IDLE, config.json's idleMs),
// with a warning shortly before that offers to stay signed in.
//
// Input in any of the portal's tabs of this browser counts for all of them: the time of the last
// one is kept in localStorage (a time, nothing personal), and each tab reads it whenever it checks
// and hears of it through storage events. Timers are never trusted to measure the time: a
// background tab's are throttled (once a minute, or not at all while the computer sleeps), so every
// check compares wall-clock times, and a tab checks again the moment it is woken or shown.
//
// Inputs belong to a run: the inputs that follow each other with less than the idle time between
// them. A tab is signed in within one run; once a gap ends that run (nobody did anything for the
// idle time), an input that starts a new one (someone signing in again in another tab) does not
// bring this tab's session back, even if this tab was asleep when the gap happened.

const ACTIVITY = 'erin.activity';
/** ERIN_PORTAL_IDLE's default, until config.json says (or when it cannot be read). */
const DEFAULT_IDLE_MS = 15 * 60_000;
/** How long before the end the warning comes (a quarter of the idle time when that is shorter). */
const WARN_BEFORE_MS = 60_000;
/** The longest a tab sleeps between checks while signed in (a timer may still fire late: the check compares clocks). */
const CHECK_EVERY_MS = 5_000;
/** Input is written down at most this often (a moving pointer sends many events). */
const RECORD_EVERY_MS = 1_000;
/** A last input later than this ahead of the clock is not believed (a clock set back, a forged value). */
const SKEW_MS = 60_000;
/** What counts as the person's input. */
const INPUTS = ['keydown', 'pointerdown', 'pointermove', 'wheel', 'touchstart'];

let limitMs = DEFAULT_IDLE_MS;
/** The run this tab's session belongs to; null when not signed in. */
let myRun = null;
/** The last record this tab read or wrote: used when localStorage cannot be read. */
let known = null;
let timer = null;
let warned = false;
let lastHandled = 0;
let hooks = { warn: () => undefined, unwarn: () => undefined, end: () => undefined };

/** The idle time config.json gives (ERIN_PORTAL_IDLE), in milliseconds; an unusable value keeps the default. */
export function setIdleLimit(ms) {
  if (Number.isFinite(ms) && ms > 0) limitMs = ms;
  check();
}

const warnBefore = () => Math.min(WARN_BEFORE_MS, limitMs / 4);

function stored() {
  try {
    const record = JSON.parse(localStorage.getItem(ACTIVITY) ?? 'null');
    if (Number.isFinite(record?.at) && typeof record?.run === 'string') known = record;
  } catch {
    // unreadable: the last one known here
  }
  return known;
}

function store(record) {
  known = record;
  try {
    localStorage.setItem(ACTIVITY, JSON.stringify(record));
  } catch {
    // kept in this tab only
  }
}

/** Whether the run of `record` is still going at `now`: its last input within the idle time. */
const live = (record, now = Date.now()) => Boolean(record) && now - record.at < limitMs && record.at - now < SKEW_MS;

/**
 * Whether someone used the portal in this browser within the idle time. If not, a session the
 * provider holds is that of someone who has gone: the next sign-in asks for the password.
 */
export const recentlyActive = () => live(stored());

/** Whether this tab's session is over: its run ended (a gap), whatever has happened since. */
function over() {
  if (!myRun) return false;
  const record = stored();
  return !record || record.run !== myRun || !live(record);
}

const newRun = () => crypto.randomUUID();

/**
 * A sign-in finished in this tab (the person is here now): it joins the run going on in this
 * browser, or starts a new one.
 */
export function signedInNow() {
  const record = stored();
  const now = Date.now();
  myRun = live(record, now) ? record.run : newRun();
  store({ at: now, run: myRun });
  check();
}

/**
 * The page was loaded signed in (a reload, a duplicated or restored tab): loading it is not the
 * person's input. Returns false when the session had already been idle too long (a browser that
 * restored a tab hours later): then it is ended before anything of it is shown.
 */
export function resumeSession() {
  const record = stored();
  if (!live(record)) {
    myRun = null;
    return false;
  }
  myRun = record.run;
  check();
  return true;
}

/** The session ended here (sign-out, refused, idle): nothing is watched until the next sign-in. */
export function stopWatching() {
  myRun = null;
  clearTimeout(timer);
  unwarn();
}

/** The person's input in this tab. While the warning is up, only its button keeps the session. */
function noteInput(event) {
  if (!myRun || !event.isTrusted || warned) return;
  const now = Date.now();
  if (now - lastHandled < RECORD_EVERY_MS) return;
  lastHandled = now;
  // A tab that slept through the end of its session is not woken back into it by a key press.
  if (over()) return end();
  store({ at: now, run: myRun });
  check();
}

/** The person is here (the warning's button): the session goes on in every tab. */
export function stay() {
  if (!myRun) return;
  if (over()) return end();
  store({ at: Date.now(), run: myRun });
  unwarn();
  check();
}

function unwarn() {
  if (!warned) return;
  warned = false;
  hooks.unwarn();
}

function end() {
  const had = myRun;
  stopWatching();
  if (had) hooks.end();
}

/** Compares the clock with the last input anywhere: ends, warns, or sleeps until the next thing to do. */
function check() {
  clearTimeout(timer);
  if (!myRun) return;
  if (over()) return end();
  const now = Date.now();
  const endsAt = known.at + limitMs;
  const warnAt = endsAt - warnBefore();
  if (now >= warnAt && !warned) {
    warned = true;
    hooks.warn();
  } else if (now < warnAt) unwarn();
  const next = now < warnAt ? warnAt : endsAt;
  timer = setTimeout(check, Math.max(50, Math.min(next - now, CHECK_EVERY_MS)));
}

/**
 * Watches this tab: `warn()` shows the warning, `unwarn()` takes it away (input here or in another
 * tab), `end()` ends the session (each at most once per run).
 */
export function watchIdle(handlers) {
  hooks = handlers;
  for (const type of INPUTS) addEventListener(type, noteInput, { capture: true, passive: true });
  // Input in another tab, or this tab woken (shown again, unfrozen, focused): compare clocks now.
  addEventListener('storage', (event) => {
    if (event.key === ACTIVITY || event.key === null) check();
  });
  document.addEventListener('visibilitychange', check);
  document.addEventListener('resume', check);
  addEventListener('focus', check);
  addEventListener('pageshow', check);
}
