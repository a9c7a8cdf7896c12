/**
 * Credentials that vendors publish in their documentation or SDK test sources, so that anyone can
 * read them. A response that quotes one discloses nothing, and reporting it would flag responses
 * that explain an SDK or its docs. Token detectors skip an exact match of one of these; a
 * custom pattern or literal list still reports it.
 */
const PUBLISHED_CREDENTIALS: ReadonlySet<string> = new Set([
  // AWS documentation's example access key id, used throughout the AWS CLI and SDK guides.
  'AKIAIOSFODNN7EXAMPLE',
  // Google API keys from the sources of the Firebase Android SDK, as gitleaks lists them in the
  // allowlist of its gcp-api-key rule. Several appear in the SDK's API key format tests (class
  // Utils) and in its messaging test constants.
  'AIzaSyabcdefghijklmnopqrstuvwxyz1234567',
  'AIzaSyAnLA7NfeLquW1tJFpx_eQCxoX-oo6YyIs',
  'AIzaSyCkEhVjf3pduRDt6d1yKOMitrUEke8agEM',
  'AIzaSyDMAScliyLx7F0NPDEJi1QmyCgHIAODrlU',
  'AIzaSyD3asb-2pEZVqMkmL6M9N6nHZRR_znhrh0',
  'AIzaSyAdOS2zB6NCsk1pCdZ4-P6GBdi_UUPwX7c',
  'AIzaSyASWm6HmTMdYWpgMnjRBjxcQ9CKctWmLd4',
  'AIzaSyANUvH9H9BsUccjsu2pCmEkOPjjaXeDQgY',
  'AIzaSyA5_iVawFQ8ABuTZNUdcwERLJv_a_p4wtM',
  'AIzaSyA4UrcGxgwQFTfaI3no3t7Lt1sjmdnP5sQ',
  'AIzaSyDSb51JiIcB6OJpwwMicseKRhhrOq1cS7g',
  'AIzaSyBF2RrAIm4a0mO64EShQfqfd2AFnzAvvuU',
  'AIzaSyBcE-OOIbhjyR83gm4r2MFCu4MJmprNXsw',
  'AIzaSyB8qGxt4ec15vitgn44duC5ucxaOi4FmqE',
  'AIzaSyA8vmApnrHNFE0bApF4hoZ11srVL_n0nvY',
]);

/** Returns true when `token` is, exactly, a credential its vendor has published. */
export function isPublishedCredential(token: string): boolean {
  return PUBLISHED_CREDENTIALS.has(token);
}
