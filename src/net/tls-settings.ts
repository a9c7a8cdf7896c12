import { isIP } from 'node:net';
import { z } from 'zod';

/**
 * Protocol versions a listener can require as its minimum. TLS 1.0 and 1.1 are not among them,
 * so clients that offer only those fail the handshake.
 */
export const TLS_MIN_VERSIONS = ['TLSv1.2', 'TLSv1.3'] as const;

/** A file path, resolved against the folder of the configuration file. */
const filePath = () => z.string().min(1);

const listenerTlsFields = {
  /** PEM certificate chain: the listener's certificate first, then any intermediates. */
  cert_file: filePath(),
  /** Unencrypted PEM private key of the certificate. */
  key_file: filePath(),
  min_version: z.enum(TLS_MIN_VERSIONS).default('TLSv1.2'),
  /** OpenSSL cipher list, TLS 1.3 suites included. Node's default list applies when unset. */
  ciphers: z.string().min(1).optional(),
};

/** TLS termination on the public listener. */
export const publicListenerTlsSchema = z.strictObject(listenerTlsFields);

/** TLS on the admin listener, with optional client certificate checks (mutual TLS). */
export const adminListenerTlsSchema = z
  .strictObject({
    ...listenerTlsFields,
    /** PEM bundle of the CAs whose client certificates are accepted. */
    client_ca_file: filePath().optional(),
    /** Unset: required whenever `client_ca_file` is set. */
    require_client_cert: z.boolean().optional(),
  })
  .refine(
    (settings) => settings.require_client_cert !== true || settings.client_ca_file !== undefined,
    {
      path: ['require_client_cert'],
      message: 'needs client_ca_file, the CAs that client certificates are checked against',
    },
  );

/** TLS towards an `https://` upstream. */
export const upstreamTlsSchema = z
  .strictObject({
    /** PEM bundle of the CAs trusted for the upstream. It replaces Node's built-in CA list. */
    ca_file: filePath().optional(),
    /** Name sent as SNI and checked against the upstream's certificate. */
    server_name: z
      .string()
      .min(1)
      .refine((name) => isIP(name) === 0, {
        message: 'must be a DNS name: SNI does not carry IP addresses (RFC 6066 section 3)',
      })
      .optional(),
    /** Client certificate chain for mutual TLS with the upstream. */
    cert_file: filePath().optional(),
    key_file: filePath().optional(),
    /** `false` skips the upstream certificate checks: an explicit fail-open setting. */
    reject_unauthorized: z.boolean().default(true),
  })
  .refine((settings) => (settings.cert_file === undefined) === (settings.key_file === undefined), {
    path: ['key_file'],
    message: 'cert_file and key_file must be set together',
  });

export type ListenerTlsSettings = z.output<typeof publicListenerTlsSchema> &
  Partial<Pick<z.output<typeof adminListenerTlsSchema>, 'client_ca_file' | 'require_client_cert'>>;
export type UpstreamTlsSettings = z.output<typeof upstreamTlsSchema>;

/**
 * Client certificate policy of a listener: not requested, checked when presented, or required.
 * `require_client_cert` defaults to true once `client_ca_file` is set.
 */
export type ClientCertMode = 'none' | 'optional' | 'required';

export function clientCertModeOf(settings: ListenerTlsSettings): ClientCertMode {
  if (settings.client_ca_file === undefined) return 'none';
  return settings.require_client_cert === false ? 'optional' : 'required';
}
