import {
  createHash,
  generateKeyPairSync,
  randomBytes,
  sign,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { isIP } from 'node:net';

/**
 * X.509 certificates for tests, built with node:crypto alone, so that tests need neither an
 * `openssl` binary nor a certificate package. Keys are ECDSA P-256 and certificates are signed
 * with ecdsa-with-SHA256 (RFC 5280 and RFC 5758). Only the fields that TLS peers check are
 * written: names, validity, basic constraints, key usage, extended key usage, subject
 * alternative names and key identifiers.
 */

export interface TestCertificate {
  /** The certificate in PEM. */
  cert: string;
  /** The PKCS#8 private key in PEM. */
  key: string;
  /** Serial number in upper-case hex, as `X509Certificate.serialNumber` and `tls` return it. */
  serial: string;
  /** SHA-256 fingerprint as `AB:CD:…`, as `getPeerCertificate().fingerprint256` returns it. */
  fingerprint256: string;
  /** Private key and name, for issuing further certificates. */
  readonly issuer: Issuer;
}

interface Issuer {
  readonly privateKey: KeyObject;
  readonly name: Buffer;
  readonly keyId: Buffer;
}

export interface CertificateOptions {
  commonName: string;
  /** Signing certificate; absent for a self-signed one. */
  issuer?: TestCertificate;
  /** A CA certificate may sign others; a leaf may not. */
  isCa?: boolean;
  /** DNS names and IP addresses the certificate is valid for. */
  altNames?: readonly string[];
  /** Extended key usages of a leaf; both server and client authentication by default. */
  usages?: readonly ('server' | 'client')[];
  /** Start and end of validity; one day back to one day ahead by default. */
  notBefore?: Date;
  notAfter?: Date;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const SERIAL_BYTES = 16;

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

/** Key usage bits (RFC 5280 section 4.2.1.3), numbered from the most significant bit. */
const KEY_USAGE_BIT = { digitalSignature: 0, keyCertSign: 5, cRLSign: 6 } as const;

/** Creates a key pair and a certificate for it. */
export function createCertificate(options: CertificateOptions): TestCertificate {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const keyId = createHash('sha1').update(spki).digest();

  const subject = distinguishedName(options.commonName);
  const signer: Issuer = options.issuer?.issuer ?? { privateKey, name: subject, keyId };
  const serialBytes = randomBytes(SERIAL_BYTES);
  // A positive serial without a leading zero byte, so that its hex matches what Node prints.
  serialBytes[0] = (serialBytes[0]! & 0x7f) | 0x10;

  const now = Date.now();
  const signatureAlgorithm = sequence(objectIdentifier(OID.ecdsaWithSha256));
  const tbs = sequence(
    explicit(0, integer(Buffer.from([2]))),
    integer(serialBytes),
    signatureAlgorithm,
    signer.name,
    sequence(
      time(options.notBefore ?? new Date(now - DAY_MS)),
      time(options.notAfter ?? new Date(now + DAY_MS)),
    ),
    subject,
    spki,
    explicit(3, sequence(...extensions(options, keyId, signer.keyId))),
  );

  const signature = sign('sha256', tbs, { key: signer.privateKey, dsaEncoding: 'der' });
  const der = sequence(tbs, signatureAlgorithm, bitString(signature));
  const cert = toPem('CERTIFICATE', der);
  const parsed = new X509Certificate(cert);
  return {
    cert,
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    serial: parsed.serialNumber,
    fingerprint256: parsed.fingerprint256,
    issuer: { privateKey, name: subject, keyId },
  };
}

/** Creates a self-signed CA and a leaf it signed for 127.0.0.1 and localhost. */
export function createCaAndLeaf(name: string): { ca: TestCertificate; leaf: TestCertificate } {
  const ca = createCertificate({ commonName: `${name} CA`, isCa: true });
  const leaf = createCertificate({
    commonName: name,
    issuer: ca,
    altNames: ['127.0.0.1', 'localhost'],
  });
  return { ca, leaf };
}

function extensions(options: CertificateOptions, keyId: Buffer, issuerKeyId: Buffer): Buffer[] {
  const list = [
    extension(OID.basicConstraints, true, sequence(...(options.isCa ? [boolean(true)] : []))),
    extension(
      OID.keyUsage,
      true,
      keyUsage(
        options.isCa
          ? [KEY_USAGE_BIT.keyCertSign, KEY_USAGE_BIT.cRLSign]
          : [KEY_USAGE_BIT.digitalSignature],
      ),
    ),
    extension(OID.subjectKeyIdentifier, false, octetString(keyId)),
    extension(OID.authorityKeyIdentifier, false, sequence(tagged(0x80, issuerKeyId))),
  ];
  if (!options.isCa) {
    const usages = options.usages ?? ['server', 'client'];
    const oids = usages.map((usage) => (usage === 'server' ? OID.serverAuth : OID.clientAuth));
    list.push(extension(OID.extKeyUsage, false, sequence(...oids.map(objectIdentifier))));
  }
  if (options.altNames !== undefined && options.altNames.length > 0) {
    list.push(extension(OID.subjectAltName, false, sequence(...options.altNames.map(altName))));
  }
  return list;
}

function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  return sequence(objectIdentifier(oid), ...(critical ? [boolean(true)] : []), octetString(value));
}

/** Encodes a GeneralName: iPAddress [7] for an address, dNSName [2] otherwise. */
function altName(name: string): Buffer {
  const version = isIP(name);
  if (version === 4) return tagged(0x87, Buffer.from(name.split('.').map(Number)));
  if (version === 6) throw new Error('IPv6 subject alternative names are not supported');
  return tagged(0x82, Buffer.from(name, 'ascii'));
}

function keyUsage(bits: readonly number[]): Buffer {
  let value = 0;
  for (const bit of bits) value |= 0x80 >> bit;
  // DER drops the unused trailing zero bits of the last byte and stores how many there are.
  let unused = 0;
  while (unused < 7 && (value & (1 << unused)) === 0) unused += 1;
  return tagged(0x03, Buffer.from([unused, value]));
}

function distinguishedName(commonName: string): Buffer {
  return sequence(
    tagged(0x31, sequence(objectIdentifier(OID.commonName), tagged(0x0c, Buffer.from(commonName)))),
  );
}

/** UTCTime for years before 2050, GeneralizedTime after (RFC 5280 section 4.1.2.5). */
function time(date: Date): Buffer {
  const text = date
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:T]/g, '');
  return date.getUTCFullYear() < 2050
    ? tagged(0x17, Buffer.from(text.slice(2), 'ascii'))
    : tagged(0x18, Buffer.from(text, 'ascii'));
}

function toPem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

// DER encoding (ITU-T X.690): each value is tag, length and content.

function tagged(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), encodeLength(content.length), content]);
}

function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function sequence(...items: Buffer[]): Buffer {
  return tagged(0x30, Buffer.concat(items));
}

function explicit(tagNumber: number, content: Buffer): Buffer {
  return tagged(0xa0 | tagNumber, content);
}

function integer(bytes: Buffer): Buffer {
  // A set top bit would make the integer negative, so a zero byte goes in front.
  return tagged(0x02, bytes[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
}

function boolean(value: boolean): Buffer {
  return tagged(0x01, Buffer.from([value ? 0xff : 0]));
}

function octetString(content: Buffer): Buffer {
  return tagged(0x04, content);
}

function bitString(content: Buffer): Buffer {
  return tagged(0x03, Buffer.concat([Buffer.from([0]), content]));
}

function objectIdentifier(oid: string): Buffer {
  const [first = 0, second = 0, ...rest] = oid.split('.').map(Number);
  const bytes = [first * 40 + second];
  for (const arc of rest) {
    // Base 128, most significant group first, with the top bit set on all but the last.
    const groups = [arc & 0x7f];
    for (let value = Math.floor(arc / 128); value > 0; value = Math.floor(value / 128)) {
      groups.unshift((value & 0x7f) | 0x80);
    }
    bytes.push(...groups);
  }
  return tagged(0x06, Buffer.from(bytes));
}
