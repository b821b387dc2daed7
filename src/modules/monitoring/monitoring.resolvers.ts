import type { Resolvers } from '../../graphql/generated/types.ts';
import { deadlinesOf, deadlineStatus } from '../deadlines/deadline.rules.ts';

export const monitoringResolvers: Resolvers = {
  Query: {
    sustainabilitySurvey: (_, __, { services }) => services.monitoring.definition,
  },
  Case: {
    monitoring: (c) => c,
  },
  Monitoring: {
    schedule: (c, _, { services }) => {
      const now = services.clock.now();
      const deadlines = deadlinesOf(c);
      return c.monitoringSchedule.map((v) => {
        const deadline = deadlines.find((d) => d.kind === 'MONITORING_VISIT' && d.visit === v.visit);
        return { ...v, caseId: c._id, status: deadline ? deadlineStatus(deadline, now).status : 'LAPSED' };
      });
    },
    surveys: (c, _, { loaders }) => {
      loaders.case.prime(c._id, c); // the answers' consent check finds the case without a query
      return loaders.surveysOfCase.load(c._id);
    },
    latestScores: (c) => c.latestScores,
  },
  ScheduledVisit: {
    survey: async (v, _, { loaders }) =>
      v.surveyId ? ((await loaders.surveysOfCase.load(v.caseId)).find((s) => s._id === v.surveyId) ?? null) : null,
  },
  Survey: {
    id: (s) => s._id,
    answers: async (s, _, { services, principal, access, loaders }) =>
      services.monitoring.answersOf(principal, await loaders.case.load(s.caseId), s, access),
    progressUpdate: async (s, _, { loaders }) =>
      (await loaders.progressOfCase.load(s.caseId)).find((u) => u._id === s.progressUpdateId) ?? null,
  },
  Mutation: {
    recordMonitoringVisit: (_, { idempotencyKey, ...args }, { services, principal }) =>
      services.monitoring.recordVisit(principal, args, idempotencyKey),
  },
};
