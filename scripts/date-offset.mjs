// Moves this process's clock DATE_OFFSET_DAYS days ahead, for `npm run test:later`: the suite run
// as if it were a later day finds tests that hold only until a fixed date passes (a deadline that
// falls due, a consent that expires, a year in a reference). Loaded with `node --import`, so the
// tests and the gateways they start share the moved clock; the store's own clock is not moved,
// and the browser tests move the page's (test/helpers/browser.ts).
const OFFSET = Number(process.env.DATE_OFFSET_DAYS ?? 0) * 86_400_000;
if (OFFSET) {
  const RealDate = Date;
  const now = () => RealDate.now() + OFFSET;
  // A proxy, not a subclass: libraries that recognise Date by identity or name still do.
  globalThis.Date = new Proxy(RealDate, {
    construct(target, args, newTarget) {
      return Reflect.construct(target, args.length === 0 ? [now()] : args, newTarget);
    },
    apply() {
      return new RealDate(now()).toString();
    },
    get(target, prop, receiver) {
      if (prop === 'now') return now;
      return Reflect.get(target, prop, receiver);
    },
  });
}
