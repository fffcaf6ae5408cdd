import { describe, expect, it } from 'vitest';
import { ERROR_TABLE, ErrorCode, errorCode, type ErrorCodeName } from '../../src/protocol/index.js';

describe('ErrorCode', () => {
  it('has exactly the names and codes of ERROR_TABLE', () => {
    expect(Object.entries(ErrorCode)).toEqual(ERROR_TABLE.map(([code, name]) => [name, code]));
  });

  it('agrees with errorCode()', () => {
    const names: ErrorCodeName[] = ['NONE', 'UNSUPPORTED_VERSION', 'NOT_LEADER_OR_FOLLOWER'];
    for (const name of names) expect(errorCode(name)).toBe(ErrorCode[name]);
    expect(ErrorCode.UNSUPPORTED_VERSION).toBe(35);
  });
});
