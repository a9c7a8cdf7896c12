import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';

/**
 * Raised when a configured TLS file cannot be read or used. `setting` is the key path of the
 * file's setting, such as `listeners.public.tls.cert_file`. The message names the file, never
 * its content.
 */
export class TlsFileError extends Error {
  readonly setting: string;

  constructor(setting: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TlsFileError';
    this.setting = setting;
  }
}

/** A certificate chain and its private key, checked to belong together. */
export interface KeyPair {
  /** PEM text of the chain, leaf first, as Node's `cert` option takes it. */
  readonly cert: string;
  /** PEM text of the private key. */
  readonly key: string;
  /** The first certificate of the chain, which the key belongs to. */
  readonly leaf: X509Certificate;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;
const ENCRYPTED_KEY = /-----BEGIN ENCRYPTED PRIVATE KEY-----|^Proc-Type: 4,ENCRYPTED/m;

/**
 * Reads a certificate chain and its key, from the files of the settings `<prefix>.cert_file`
 * and `<prefix>.key_file`. Raises TlsFileError when a file cannot be read, contains no valid
 * PEM, contains an encrypted key, or when the key does not belong to the first certificate.
 */
export async function readKeyPair(
  prefix: string,
  certFile: string,
  keyFile: string,
): Promise<KeyPair> {
  const certSetting = `${prefix}.cert_file`;
  const keySetting = `${prefix}.key_file`;
  const cert = await readTlsFile(certSetting, certFile, 'certificate');
  const key = await readTlsFile(keySetting, keyFile, 'key');
  const leaf = parseCertificates(certSetting, certFile, cert)[0]!;
  const privateKey = parsePrivateKey(keySetting, keyFile, key);
  if (!leaf.checkPrivateKey(privateKey)) {
    throw new TlsFileError(
      keySetting,
      `key file ${keyFile} does not belong to the first certificate in ${certFile}`,
    );
  }
  return { cert, key, leaf };
}

/** Reads a PEM bundle of CA certificates. Raises TlsFileError unless every one of them parses. */
export async function readCaBundle(setting: string, file: string): Promise<string> {
  const text = await readTlsFile(setting, file, 'CA');
  parseCertificates(setting, file, text);
  return text;
}

async function readTlsFile(setting: string, file: string, kind: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new TlsFileError(setting, `cannot read ${kind} file ${file} (${reason})`, {
      cause: error,
    });
  }
}

function parseCertificates(setting: string, file: string, text: string): X509Certificate[] {
  const blocks = text.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) {
    throw new TlsFileError(
      setting,
      `${file} contains no PEM certificate (a -----BEGIN CERTIFICATE----- block)`,
    );
  }
  return blocks.map((block, index) => {
    try {
      return new X509Certificate(block);
    } catch (error) {
      throw new TlsFileError(setting, `certificate ${index + 1} in ${file} is invalid`, {
        cause: error,
      });
    }
  });
}

function parsePrivateKey(setting: string, file: string, text: string): KeyObject {
  try {
    return createPrivateKey(text);
  } catch (error) {
    // Node cannot ask for a passphrase at start, and a passphrase in the configuration would
    // protect nothing that file permissions do not. OpenSSL's error for a missing passphrase
    // does not name the cause, so the PEM headers of PKCS#8 and of older formats are checked.
    const encrypted = ENCRYPTED_KEY.test(text);
    const message = encrypted
      ? `key file ${file} is encrypted: give an unencrypted PEM key, ` +
        'and protect it with file permissions'
      : `key file ${file} is not a valid PEM private key`;
    throw new TlsFileError(setting, message, { cause: error });
  }
}
