import type { ApiDefinition } from '../api.js';
import { ApiVersions } from './api-versions.js';
import { CreateTopics } from './create-topics.js';
import { InitProducerId } from './init-producer-id.js';
import { Fetch } from './fetch.js';
import { ListOffsets } from './list-offsets.js';
import { Metadata } from './metadata.js';
import { Produce } from './produce.js';

export { ApiVersions, CreateTopics, Fetch, InitProducerId, ListOffsets, Metadata, Produce };
export { EARLIEST_TIMESTAMP, LATEST_TIMESTAMP } from './list-offsets.js';

/** Every API kafka-wire speaks, by key. */
export const API_BY_KEY: ReadonlyMap<number, ApiDefinition> = new Map(
  [Produce, Fetch, ListOffsets, Metadata, InitProducerId, ApiVersions, CreateTopics].map((api) => [api.key, api as unknown as ApiDefinition]),
);
