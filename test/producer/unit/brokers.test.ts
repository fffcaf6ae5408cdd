/**
 * A broker link's reconnect backoff, on a fake clock: a connection the broker closes before
 * answering anything past its handshake (a SASL listener dialled without `sasl`) is a
 * failed dial, so the waits grow as for a refused one; one that answered starts afresh.
 */
import { describe, expect, it, vi } from 'vitest';
import { ConnectionError } from '../../../src/errors.js';
import type { BrokerChannel } from '../../../src/producer/broker-channel.js';
import { BrokerLink } from '../../../src/producer/brokers.js';
import { resolveOptions } from '../../../src/producer/options.js';
import { FakeClock } from '../../helpers/fake-clock.js';

const options = resolveOptions({ bootstrap: 'h:1', retryBackoffMs: 100, retryBackoffMaxMs: 1000 });

/** A channel that closes at once: unanswered past its handshake, or not. */
function closingChannel(unanswered: boolean): BrokerChannel {
  const closedUnanswered = unanswered ? new ConnectionError('closed by the broker at its first request after ApiVersions') : undefined;
  return { isOpen: false, closed: Promise.resolve(), closedUnanswered } as unknown as BrokerChannel;
}

/** Opens `link` once with `channel`; the wait before the next dial (fake ms). */
async function waitAfter(link: BrokerLink, clock: FakeClock, channel: BrokerChannel): Promise<number> {
  await link.open(() => Promise.resolve(channel), clock, options);
  await Promise.resolve();
  await Promise.resolve();
  return link.reconnectAt - clock.now();
}

describe('BrokerLink reconnect backoff', () => {
  it('connections closed before any answer past the handshake: the waits grow to retryBackoffMaxMs', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5); // no jitter
    try {
      const clock = new FakeClock();
      const link = new BrokerLink({ host: 'h', port: 1 }, 1);
      const waits: number[] = [];
      for (let i = 0; i < 6; i++) waits.push(await waitAfter(link, clock, closingChannel(true)));
      expect(waits).toEqual([100, 200, 400, 800, 1000, 1000]);
      expect(link.backingOff(clock.now())?.message).toMatch(/first request after ApiVersions/);
      // One that answered something: a new start, nothing to wait out.
      await waitAfter(link, clock, closingChannel(false));
      expect(link.failures).toBe(0);
      expect(link.backingOff(clock.now())).toBeUndefined();
    } finally {
      vi.restoreAllMocks();
    }
  });

  it('a close the SASL probe explains: the link keeps the explanation for later messages, not the first guess', async () => {
    const clock = new FakeClock();
    const link = new BrokerLink({ host: 'h', port: 1 }, 1);
    const guess = new ConnectionError('closed by the broker at its first request after ApiVersions (Metadata v12), unanswered: is this listener SASL_PLAINTEXT or SASL_SSL?');
    const explained = new ConnectionError('closed by the broker at its first request after ApiVersions (Metadata v12), unanswered: not for want of SASL');
    let answer!: (e: Error) => void;
    const channel = {
      isOpen: false,
      closed: Promise.resolve(),
      closedUnanswered: guess,
      explainedClose: () => new Promise<Error>((resolve) => (answer = resolve)),
    } as unknown as BrokerChannel;
    await waitAfter(link, clock, channel);
    expect(link.lastError).toBe(guess);
    answer(explained);
    await Promise.resolve();
    await Promise.resolve();
    expect(link.backingOff(clock.now())).toBe(explained);
  });
});
