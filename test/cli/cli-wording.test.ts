/**
 * The command line names its flags where the library's messages name its options: a user
 * who typed --tls-ca is told about --tls-ca, not `tls.ca`.
 */
import { describe, expect, it } from 'vitest';
import { inCliWords } from '../../src/cli/cli-wording.js';
import { failureText } from '../../src/cli/index.js';
import { ConfigError } from '../../src/errors.js';
import { resolveSasl, tlsFailure } from '../../src/net/security.js';

function tlsError(code: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`simulated ${code}`), { code, ...extra });
}

describe('messages on the command line', () => {
  it('TLS failures name the --tls-... flags', () => {
    const hostname = tlsFailure(tlsError('ERR_TLS_CERT_ALTNAME_INVALID', { host: 'broker-1' }), '127.0.0.1:9093')!;
    expect(failureText(hostname)).toMatch(/set --tls-servername to a name/);
    const unknownCa = tlsFailure(tlsError('UNABLE_TO_GET_ISSUER_CERT_LOCALLY'), '127.0.0.1:9093')!;
    expect(failureText(unknownCa)).toMatch(/does --tls-ca hold the CA/);
    const noClientCert = tlsFailure(tlsError('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED'), '127.0.0.1:9093')!;
    expect(failureText(noClientCert)).toMatch(/requires a client certificate \(--tls-cert and --tls-key\)/);
    for (const e of [hostname, unknownCa, noClientCert]) expect(failureText(e)).not.toMatch(/\btls\.\w/);
  });

  it('SASL hints name --sasl-mechanism and the password variable', () => {
    expect(inCliWords('127.0.0.1:9092 is a SASL listener (it offers PLAIN) and the producer has no `sasl` option: give it one with one of these mechanisms')).toBe(
      '127.0.0.1:9092 is a SASL listener (it offers PLAIN) and no --sasl-mechanism was given: give one of these with --sasl-username (the password in KAFKA_WIRE_SASL_PASSWORD)',
    );
    expect(inCliWords('unanswered: is this listener SASL_PLAINTEXT or SASL_SSL? then give the producer its `sasl` option')).toMatch(/then give --sasl-mechanism and --sasl-username$/);
    let refused: unknown;
    try {
      resolveSasl({ mechanism: 'PLAIN', username: 'u', password: '' } as never);
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(ConfigError);
    expect(failureText(refused)).toMatch(/KAFKA_WIRE_SASL_PASSWORD must be a non-empty string/);
  });

  it('a TLS listener dialled in plaintext is told about --tls', () => {
    expect(inCliWords('127.0.0.1:9093 closed the connection: the other end answers in TLS (a TLS listener: give the producer its `tls` option)')).toMatch(
      /a TLS listener: give --tls \(and --tls-ca for a private CA\)\)$/,
    );
  });

  it('leaves other text alone', () => {
    const text = 'topic orders.tls.ca has no partition 7; sasl.jaas.config is a Java setting';
    expect(inCliWords(text)).toBe(text);
  });
});
