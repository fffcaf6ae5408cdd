/** The release the code names (ApiVersions' client_software_version) is package.json's. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ApiVersions } from '../../src/protocol/apis/index.js';
import { encodeRequest } from '../../src/protocol/frame.js';
import { VERSION } from '../../src/version.js';

describe('VERSION', () => {
  it('is package.json\'s version, and what ApiVersions v3+ sends as client_software_version', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(VERSION).toBe(pkg.version);
    // KIP-511: name and version must match [a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?, or the broker refuses them.
    expect(VERSION).toMatch(/^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$/);
    const frame = encodeRequest(ApiVersions, 3, 1, 'c', {});
    expect(frame.includes(Buffer.from(`kafka-wire\x06${VERSION}`))).toBe(true);
  });
});
