// The portal checks some of the gateway's rules before it sends (portal/src/rules.js), so a person
// hears of a mistake at once: its copies must say what the gateway says.
import { describe, expect, it } from 'vitest';
import { COMPONENT_KINDS_FOR } from '../src/modules/progress/progress.service.ts';

describe('the portal’s copies of the gateway’s rules', () => {
  it('name the same plan components for each kind of progress update', async () => {
    const rules = '../portal/src/rules.js'; // plain JavaScript of the browser's, without types
    const portal = (await import(rules)) as { COMPONENT_KINDS_FOR: unknown };
    expect(portal.COMPONENT_KINDS_FOR).toEqual(COMPONENT_KINDS_FOR);
  });
});
