import type { Detector } from './detector.js';
import { emailAddress } from './personal/email.js';
import { iban } from './personal/iban.js';
import { paymentCard } from './personal/payment-card.js';
import { nationalPhone } from './personal/national-phone.js';
import { internationalPhone } from './personal/phone.js';
import { usSsn } from './personal/us-ssn.js';
import {
  awsAccessKeyId,
  awsSecretAccessKey,
  azureClientSecret,
  azureConnectionString,
  googleApiKey,
} from './secrets/cloud.js';
import { credentialAssignment } from './secrets/credential-assignment.js';
import { jsonWebToken } from './secrets/jwt.js';
import { privateKey } from './secrets/private-key.js';
import { serviceTokenDetectors } from './secrets/service-tokens.js';
import { databaseUrl, urlCredentials } from './secrets/url-credentials.js';

/**
 * Creates every built-in detector, secrets first. The order decides which kind names a
 * redaction when two detectors match overlapping text at the same position.
 */
export function builtinDetectors(): Detector[] {
  return [
    awsAccessKeyId(),
    awsSecretAccessKey(),
    googleApiKey(),
    azureConnectionString(),
    azureClientSecret(),
    ...serviceTokenDetectors(),
    privateKey(),
    jsonWebToken(),
    databaseUrl(),
    urlCredentials(),
    credentialAssignment(),
    emailAddress(),
    paymentCard(),
    usSsn(),
    iban(),
    internationalPhone(),
    nationalPhone(),
  ];
}

let cached: readonly Detector[] | undefined;

/**
 * Returns the built-in detectors, created once per process: compiling their RE2 programs takes
 * milliseconds, and a detector keeps no per-response state (its only cache memoises a pure
 * function of the text).
 */
export function sharedBuiltinDetectors(): readonly Detector[] {
  cached ??= builtinDetectors();
  return cached;
}
