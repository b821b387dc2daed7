// Writes from the case pages go through the outbox with the version the person saw.
import { ApiError } from '../api.js';
import { write } from '../outbox.js';

/** Sends a write about case `c`; the outbox shows the page again with what the gateway now holds. */
export async function act(c, labelKey, operation, variables = {}) {
  try {
    return await write({ key: labelKey, values: { reference: c.reference } }, operation, {
      id: c.id,
      v: c.version,
      ...variables,
    });
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    return null; // the outbox said what went wrong, and the page was read again
  }
}

/** A submit handler that keeps the form from posting and reports nothing twice. */
export const onSubmit = (handler) => (event) => {
  event.preventDefault();
  const button = event.submitter;
  if (button) button.disabled = true;
  void Promise.resolve(handler(event.target, event.submitter)).finally(() => {
    if (button) button.disabled = false;
  });
};
