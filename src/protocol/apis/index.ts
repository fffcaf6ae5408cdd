import { ApiVersions } from './api-versions.js';
import { CreateTopics } from './create-topics.js';
import { Metadata } from './metadata.js';
import type { ApiDefinition } from '../api.js';

export { ApiVersions, CreateTopics, Metadata };

/** Every API kafka-wire speaks, by key. */
export const API_BY_KEY: ReadonlyMap<number, ApiDefinition> = new Map(
  [ApiVersions, Metadata, CreateTopics].map((api) => [api.key, api as unknown as ApiDefinition]),
);
