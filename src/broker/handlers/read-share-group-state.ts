// ReadShareGroupState (KIP-932, Kafka's internal share-coordinator API): start offset and state
// batches of share-partitions; Fjord's CLI reads in-flight counts with it.
import { ApiKey } from '../../protocol/gen/index.js';
import type { ReadShareGroupStateRequest, ReadShareGroupStateResponseInput } from '../../protocol/gen/read-share-group-state.js';
import { defineHandler } from '../handler.js';

export default defineHandler<ReadShareGroupStateRequest, ReadShareGroupStateResponseInput>({
  apiKey: ApiKey.ReadShareGroupState,
  minVersion: 0,
  maxVersion: 0,
  async handle(req, ctx) {
    return { results: await ctx.broker.groups.shareGroups.readState(req.groupId, req.topics) };
  },
});
