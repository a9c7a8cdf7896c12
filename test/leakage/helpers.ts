import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import {
  compileLeakagePolicy,
  LeakageTransform,
  leakagePolicySchema,
} from '../../src/leakage/index.js';
import type {
  BlockCause,
  CompiledLeakagePolicy,
  Detection,
  LimitEvent,
  ScanCounters,
  ScannedResponseHeaders,
} from '../../src/leakage/index.js';

/** Compiles a policy written as it would appear in YAML. */
export function policyOf(input: unknown = {}): CompiledLeakagePolicy {
  return compileLeakagePolicy(leakagePolicySchema.parse(input));
}

/** The result of sending chunks through a LeakageTransform. */
export interface TransformRun {
  output: Buffer;
  detections: Detection[];
  limits: LimitEvent[];
  blocked: BlockCause | undefined;
  counters: ScanCounters;
  /** Output chunks in the order the transform pushed them. */
  chunks: Buffer[];
}

/** Pipes `chunks` through a LeakageTransform and collects everything it reports. */
export async function runTransform(
  policy: CompiledLeakagePolicy,
  headers: ScannedResponseHeaders,
  chunks: readonly (string | Buffer)[],
): Promise<TransformRun> {
  const detections: Detection[] = [];
  const limits: LimitEvent[] = [];
  const transform = new LeakageTransform(policy, headers, {
    onDetection: (detection) => detections.push(detection),
    onLimit: (event) => limits.push(event),
  });
  const output: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      output.push(chunk);
      callback();
    },
  });
  const source = Readable.from(chunks.map((chunk) => Buffer.from(chunk)));
  await pipeline(source, transform, sink);
  return {
    output: Buffer.concat(output),
    detections,
    limits,
    blocked: transform.blocked,
    counters: transform.counters,
    chunks: output,
  };
}

/** Splits text into chunks of `size` characters. */
export function chunksOf(text: string, size: number): string[] {
  const chunks: string[] = [];
  for (let index = 0; index < text.length; index += size)
    chunks.push(text.slice(index, index + size));
  return chunks;
}

/** Appends the Luhn check digit to a partial card number. */
export function withLuhnDigit(partial: string): string {
  for (let digit = 0; digit <= 9; digit += 1) {
    const candidate = `${partial}${digit}`;
    let sum = 0;
    for (let index = 0; index < candidate.length; index += 1) {
      let value = Number(candidate[candidate.length - 1 - index]);
      if (index % 2 === 1) value = value * 2 > 9 ? value * 2 - 9 : value * 2;
      sum += value;
    }
    if (sum % 10 === 0) return candidate;
  }
  throw new Error('unreachable');
}

/** Builds an IBAN from a country and BBAN by computing the ISO 13616 check digits. */
export function ibanOf(country: string, bban: string): string {
  const digits = `${bban}${country}00`.replace(/[A-Z]/g, (letter) =>
    String(letter.charCodeAt(0) - 55),
  );
  let remainder = 0;
  for (const digit of digits) remainder = (remainder * 10 + Number(digit)) % 97;
  return `${country}${String(98 - remainder).padStart(2, '0')}${bban}`;
}

/** Encodes a JSON value as base64url, as in JWT segments. */
export function base64UrlJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Returns a fake JWT with a valid header and payload. */
export function fakeJwt(): string {
  const header = base64UrlJson({ alg: 'HS256', typ: 'JWT' });
  const payload = base64UrlJson({ sub: 'fake-user-0000', name: 'Test Fake', iat: 1_700_000_000 });
  return `${header}.${payload}.ZmFrZS1zaWduYXR1cmUtbm90LXJlYWwtMDEyMzQ1Njc4OQ`;
}

/** Returns an OpenAI-style chat completion chunk event carrying `content`. */
export function chatChunk(content: string, choice = 0): string {
  const chunk = {
    id: 'chatcmpl-fake',
    object: 'chat.completion.chunk',
    model: 'fake-model',
    choices: [{ index: choice, delta: { content }, finish_reason: null }],
  };
  return `data: ${JSON.stringify(chunk)}\n\n`;
}

/** Parses an event stream and returns the `data` of each event. */
export function sseData(text: string): string[] {
  return text
    .split(/\r?\n\r?\n/)
    .filter((event) => event.trim() !== '')
    .map((event) =>
      event
        .split(/\r?\n/)
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).replace(/^ /, ''))
        .join('\n'),
    );
}

/** Concatenates `choices[choice].delta.content` of every JSON event in an event stream. */
export function chatContent(text: string, choice = 0): string {
  return sseData(text)
    .filter((data) => data.startsWith('{'))
    .map(
      (data) => JSON.parse(data) as { choices?: { index: number; delta?: { content?: string } }[] },
    )
    .flatMap((chunk) => chunk.choices ?? [])
    .filter((entry) => entry.index === choice)
    .map((entry) => entry.delta?.content ?? '')
    .join('');
}
