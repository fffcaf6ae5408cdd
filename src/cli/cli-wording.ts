/**
 * The library's errors name its options (`tls.ca`, the `sasl` option): right for code that
 * builds a Producer, the wrong advice on a command line, where the same settings are flags.
 * The command line shows those messages with the flags named instead.
 */

/** `name` (an option, or words naming options) as a whole word: not inside a topic name such as `audit.tls.ca` (dots and dashes join words there). */
function option(name: string): RegExp {
  return new RegExp(`(?<![\\w.-])${name.replace(/\./g, '\\.')}(?![\\w-]|\\.\\w)`, 'g');
}

/** Library wording, and what a command-line user types for the same thing. */
const AS_FLAGS: ReadonlyArray<readonly [RegExp, string]> = [
  [option('tls.cert and tls.key'), '--tls-cert and --tls-key'],
  [option('tls.servername'), '--tls-servername'],
  [option('tls.ca'), '--tls-ca'],
  [/\bthe producer has no `sasl` option: give it one with one of these mechanisms/g, 'no --sasl-mechanism was given: give one of these with --sasl-username (the password in KAFKA_WIRE_SASL_PASSWORD)'],
  [/\bthen give the producer its `sasl` option/g, 'then give --sasl-mechanism and --sasl-username'],
  [/\bgive the producer its `tls` option/g, 'give --tls (and --tls-ca for a private CA)'],
  [option('sasl.mechanism'), '--sasl-mechanism'],
  [option('sasl.username'), '--sasl-username'],
  [option('sasl.password'), 'KAFKA_WIRE_SASL_PASSWORD'],
];

/** `message` with the library's option names replaced by the flags that set them. */
export function inCliWords(message: string): string {
  let out = message;
  for (const [library, flags] of AS_FLAGS) out = out.replace(library, flags);
  return out;
}
