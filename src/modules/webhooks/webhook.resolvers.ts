import type { Resolvers } from '../../graphql/generated/types.ts';

export const webhookResolvers: Resolvers = {
  Query: {
    webhookEndpoints: (_, __, { services, principal }) => services.webhooks.endpoints(principal),
    webhookDeliveries: (_, args, { services, principal }) => services.webhooks.deliveries(principal, args),
  },
  Mutation: {
    registerWebhook: (_, { url, events, idempotencyKey }, { services, principal }) =>
      services.webhooks.register(principal, { url, events }, idempotencyKey),
    rotateWebhookSecret: (_, { idempotencyKey, ...args }, { services, principal }) =>
      services.webhooks.rotateSecret(principal, args, idempotencyKey),
    disableWebhook: (_, { idempotencyKey, ...args }, { services, principal }) =>
      services.webhooks.disable(principal, args, idempotencyKey),
    redeliver: (_, { id, idempotencyKey }, { services, principal }) => services.webhooks.redeliver(principal, id, idempotencyKey),
  },
  WebhookEndpoint: {
    id: (e) => e._id,
  },
  WebhookDelivery: {
    id: (d) => d._id,
    kind: (d) => d.kind as never,
    cursor: (d) => d.eventSeq,
  },
};
