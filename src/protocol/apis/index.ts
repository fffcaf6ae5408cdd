import type { ApiDefinition } from '../api.js';
import { AddOffsetsToTxn } from './add-offsets-to-txn.js';
import { AddPartitionsToTxn } from './add-partitions-to-txn.js';
import { AlterClientQuotas } from './alter-client-quotas.js';
import { ApiVersions } from './api-versions.js';
import { CreateTopics } from './create-topics.js';
import { DeleteTopics } from './delete-topics.js';
import { InitProducerId } from './init-producer-id.js';
import { EndTxn } from './end-txn.js';
import { Fetch } from './fetch.js';
import { FindCoordinator } from './find-coordinator.js';
import { ListOffsets } from './list-offsets.js';
import { Metadata } from './metadata.js';
import { Produce } from './produce.js';
import { SaslAuthenticate } from './sasl-authenticate.js';
import { SaslHandshake } from './sasl-handshake.js';
import { TxnOffsetCommit } from './txn-offset-commit.js';

export { AddOffsetsToTxn, AddPartitionsToTxn, AlterClientQuotas, ApiVersions, CreateTopics, DeleteTopics, EndTxn, Fetch, FindCoordinator, InitProducerId, ListOffsets, Metadata, Produce, SaslAuthenticate, SaslHandshake, TxnOffsetCommit };
export { COORDINATOR_GROUP, COORDINATOR_TRANSACTION } from './find-coordinator.js';
export { EARLIEST_TIMESTAMP, LATEST_TIMESTAMP } from './list-offsets.js';

/** Every API kafka-wire speaks, by key. */
export const API_BY_KEY: ReadonlyMap<number, ApiDefinition> = new Map(
  [Produce, Fetch, ListOffsets, Metadata, FindCoordinator, InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, TxnOffsetCommit, SaslHandshake, ApiVersions, SaslAuthenticate, CreateTopics, DeleteTopics, AlterClientQuotas].map((api) => [api.key, api as unknown as ApiDefinition]),
);
