// Rules of the gateway that the portal applies before it sends anything, so a person hears of a
// mistake at once and in their language. The gateway checks them again; test/portal-rules.test.ts
// keeps these copies equal to the gateway's.

/** The kinds of plan component a progress update of each kind is about (src/modules/progress/progress.service.ts). */
export const COMPONENT_KINDS_FOR = {
  PURCHASE: ['TRAINING', 'BUSINESS_PLAN', 'MATERIALS', 'SERVICE'],
  TRAINING_ATTENDANCE: ['TRAINING'],
  TRAINING_COMPLETED: ['TRAINING'],
  BUSINESS_STARTED: ['BUSINESS_PLAN'],
};
