/**
 * Secured listeners for test clusters: SASL_PLAINTEXT, SSL, mutual TLS, SASL_SSL and
 * OAUTHBEARER, each on its own loopback port beside the PLAINTEXT one.
 *
 * Inter-broker and controller traffic stays on PLAINTEXT, and so do Kafka's tools that
 * the harness runs (`cluster.bootstrap`): the secured listeners are for the client under
 * test only, so a broken client setting can never stop the cluster from starting.
 *
 * Users: PLAIN users live in the listener's JAAS config (`user_<name>="<password>"`),
 * SCRAM credentials are written into the metadata log at format time (`--add-scram`,
 * StorageTool on 3.9 and 4.x), so both exist before the first client connects.
 * OAUTHBEARER uses Kafka's unsecured validator: it accepts an unsigned JWT (`alg: none`)
 * whose `sub` is the principal and whose `exp` bounds the session.
 */
import path from 'node:path';
import { makeTestCertificates, type TestCertificates } from './certs.js';
import { LOOPBACK } from './ports.js';

export type SecuredListener = 'SASL_PLAINTEXT' | 'SSL' | 'MTLS' | 'SASL_SSL' | 'OAUTH' | 'OAUTH_SSL';

export interface SecurityUser {
  name: string;
  /** No `,`, `[`, `]`, `"` or `=`: StorageTool's `--add-scram` syntax has no escapes for them. */
  password: string;
}

export interface ClusterSecurityOptions {
  /** A SASL_PLAINTEXT listener (and SASL_SSL with `ssl`) offering PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512. */
  sasl?: boolean;
  /** An SSL listener (server certificate only) and MTLS (an SSL listener that requires a client certificate). */
  ssl?: boolean;
  /** An OAUTH listener (SASL_PLAINTEXT; and OAUTH_SSL with `ssl`) offering only OAUTHBEARER. */
  oauth?: boolean;
  /** PLAIN and SCRAM users; default one: alice / alice-secret. */
  users?: readonly SecurityUser[];
  /** `connections.max.reauth.ms` (KIP-368): the broker's session lifetime for SASL connections. */
  reauthMs?: number;
}

export interface ClusterSecurity {
  /** Bootstrap address per secured listener (every node), e.g. `listeners.SASL_SSL`. */
  readonly listeners: Readonly<Partial<Record<SecuredListener, string>>>;
  /** The certificates the SSL listeners use; undefined without `ssl`. */
  readonly certificates: TestCertificates | undefined;
  readonly users: readonly SecurityUser[];
  /** SASL mechanisms per SASL listener. */
  readonly mechanisms: Readonly<Partial<Record<SecuredListener, readonly string[]>>>;
}

const PROTOCOL: Record<SecuredListener, 'SASL_PLAINTEXT' | 'SSL' | 'SASL_SSL'> = {
  SASL_PLAINTEXT: 'SASL_PLAINTEXT',
  SSL: 'SSL',
  MTLS: 'SSL',
  SASL_SSL: 'SASL_SSL',
  OAUTH: 'SASL_PLAINTEXT',
  OAUTH_SSL: 'SASL_SSL',
};

const PASSWORD_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;

export const DEFAULT_USERS: readonly SecurityUser[] = [{ name: 'alice', password: 'alice-secret' }];

export interface ListenerPort {
  name: SecuredListener;
  port: number;
}

/** The secured listeners these options ask for, in a fixed order (so ports line up per node). */
export function securedListeners(options: ClusterSecurityOptions | undefined): SecuredListener[] {
  if (!options) return [];
  const out: SecuredListener[] = [];
  if (options.sasl) out.push('SASL_PLAINTEXT');
  if (options.ssl) out.push('SSL', 'MTLS');
  if (options.sasl && options.ssl) out.push('SASL_SSL');
  if (options.oauth) out.push('OAUTH');
  if (options.oauth && options.ssl) out.push('OAUTH_SSL');
  return out;
}

export interface SecurityPlan {
  /** Broker settings shared by every node (everything but the per-node ports). */
  config: Record<string, string>;
  /** Extra `kafka-storage format` arguments (SCRAM credentials). */
  formatArgs: string[];
  certificates: TestCertificates | undefined;
  users: readonly SecurityUser[];
  mechanisms: Partial<Record<SecuredListener, readonly string[]>>;
}

/** Makes certificates (when asked for TLS) and the broker settings of every secured listener. */
export async function planSecurity(options: ClusterSecurityOptions, clusterDir: string): Promise<SecurityPlan> {
  const users = options.users ?? DEFAULT_USERS;
  for (const user of users) {
    if (/[,[\]"=\s]/.test(user.name) || /[,[\]"=\s]/.test(user.password)) {
      throw new Error(`test user ${JSON.stringify(user.name)}: names and passwords may not contain , [ ] " = or spaces`);
    }
  }
  const listeners = securedListeners(options);
  const certificates = options.ssl ? await makeTestCertificates(path.join(clusterDir, 'certs')) : undefined;
  const config: Record<string, string> = {};
  const mechanisms: Partial<Record<SecuredListener, readonly string[]>> = {};

  if (certificates) {
    // Broker-wide SSL settings; the MTLS listener only overrides client auth.
    config['ssl.keystore.type'] = 'PEM';
    config['ssl.keystore.location'] = certificates.brokerKeystoreFile;
    config['ssl.truststore.type'] = 'PEM';
    config['ssl.truststore.location'] = certificates.ca.certFile;
    config['ssl.client.auth'] = 'none';
    config['listener.name.mtls.ssl.client.auth'] = 'required';
  }

  const plainUsers = users.map((u) => `user_${u.name}="${u.password}"`).join(' ');
  for (const listener of listeners) {
    const prefix = `listener.name.${listener.toLowerCase()}`;
    if (listener === 'SASL_PLAINTEXT' || listener === 'SASL_SSL') {
      mechanisms[listener] = PASSWORD_MECHANISMS;
      config[`${prefix}.sasl.enabled.mechanisms`] = PASSWORD_MECHANISMS.join(',');
      config[`${prefix}.plain.sasl.jaas.config`] = `org.apache.kafka.common.security.plain.PlainLoginModule required ${plainUsers};`;
      for (const scram of ['scram-sha-256', 'scram-sha-512']) {
        config[`${prefix}.${scram}.sasl.jaas.config`] = 'org.apache.kafka.common.security.scram.ScramLoginModule required;';
      }
    } else if (listener === 'OAUTH' || listener === 'OAUTH_SSL') {
      mechanisms[listener] = ['OAUTHBEARER'];
      config[`${prefix}.sasl.enabled.mechanisms`] = 'OAUTHBEARER';
      // The broker's own login needs a subject even though no broker logs in over this listener.
      config[`${prefix}.oauthbearer.sasl.jaas.config`] =
        'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="broker";';
      // Named explicitly: it is the default on 3.9 and 4.x, but a default that changes would fail quietly.
      config[`${prefix}.oauthbearer.sasl.server.callback.handler.class`] =
        'org.apache.kafka.common.security.oauthbearer.internals.unsecured.OAuthBearerUnsecuredValidatorCallbackHandler';
    }
  }
  // Some releases insist on a broker-wide list when any listener speaks SASL.
  if (listeners.some((l) => PROTOCOL[l] !== 'SSL')) {
    const all = new Set(Object.values(mechanisms).flat());
    config['sasl.enabled.mechanisms'] = [...all].join(',');
  }
  if (options.reauthMs !== undefined) config['connections.max.reauth.ms'] = String(options.reauthMs);

  const formatArgs: string[] = [];
  if (options.sasl) {
    for (const user of users) {
      for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-512']) {
        formatArgs.push('--add-scram', `${mechanism}=[name=${user.name},password=${user.password}]`);
      }
    }
  }
  return { config, formatArgs, certificates, users, mechanisms };
}

/** One node's `listeners`, `advertised.listeners` and protocol map with its secured ports. */
export function listenerConfig(port: number, controllerPort: number, secured: readonly ListenerPort[]): Record<string, string> {
  const client = [`PLAINTEXT://${LOOPBACK}:${port}`, ...secured.map((l) => `${l.name}://${LOOPBACK}:${l.port}`)];
  return {
    listeners: [...client, `CONTROLLER://${LOOPBACK}:${controllerPort}`].join(','),
    'advertised.listeners': client.join(','),
    'listener.security.protocol.map': ['PLAINTEXT:PLAINTEXT', 'CONTROLLER:PLAINTEXT', ...secured.map((l) => `${l.name}:${PROTOCOL[l.name]}`)].join(','),
  };
}
