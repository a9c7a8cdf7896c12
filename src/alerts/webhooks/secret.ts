import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { WebhookSettings } from '../settings.js';

/** Minimum secret length in characters: 32 hex digits carry 128 bits. */
export const MIN_WEBHOOK_SECRET_LENGTH = 32;

/**
 * Reads a webhook's signing secret from `secret_file` (relative to the configuration file's
 * folder, surrounding whitespace removed) or from the variable `secret_env`. Raises an Error
 * naming the setting, never the secret, when it is missing or shorter than 32 characters.
 */
export async function loadWebhookSecret(
  webhook: WebhookSettings,
  configDir: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<Buffer> {
  let secret: string | undefined;
  let origin: string;
  if (webhook.secret_file !== undefined) {
    const file = path.resolve(configDir, webhook.secret_file);
    origin = `alerts.webhooks "${webhook.name}" secret_file ${file}`;
    try {
      secret = (await readFile(file, 'utf8')).trim();
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new Error(`cannot read ${origin} (${reason})`, { cause: error });
    }
  } else {
    origin = `alerts.webhooks "${webhook.name}" secret_env ${webhook.secret_env}`;
    secret = env[webhook.secret_env!]?.trim();
    if (secret === undefined || secret === '') throw new Error(`${origin} is not set`);
  }
  if (secret.length < MIN_WEBHOOK_SECRET_LENGTH) {
    throw new Error(
      `${origin}: the secret must be at least ${MIN_WEBHOOK_SECRET_LENGTH} characters, ` +
        'for example the output of: openssl rand -hex 32',
    );
  }
  return Buffer.from(secret, 'utf8');
}
