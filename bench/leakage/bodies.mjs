// Response bodies for the leak scanning benchmarks: prose from the sample backend's corpus, a
// RAG answer as JSON, and chat completion chunk streams. Imports dist/, so build first.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { CORPUS } = await import(path.join(root, 'dist/examples/rag-backend/corpus.js')).catch(
  (error) => {
    console.error(`cannot load the sample corpus from dist/ (${error.message}): run npm run build`);
    process.exit(2);
  },
);

/** Fake personal data planted in the prose, one item every PLANT_EVERY bytes. */
const PLANTED = ['jane.doe@example.test', '4111 1111 1111 1111', '+49 30 12345678'];
export const PLANT_EVERY = 32 * 1024;

/**
 * Returns about `bytes` bytes of English prose: the corpus documents in turn, with one of
 * PLANTED after every PLANT_EVERY bytes, so that the scanner redacts now and then.
 */
export function prose(bytes) {
  const parts = [];
  let length = 0;
  let sincePlanted = 0;
  let planted = 0;
  for (let index = 0; length < bytes; index += 1) {
    let part = `${CORPUS[index % CORPUS.length].text} `;
    sincePlanted += part.length;
    if (sincePlanted >= PLANT_EVERY) {
      part += `Contact: ${PLANTED[planted % PLANTED.length]}. `;
      planted += 1;
      sincePlanted = 0;
    }
    parts.push(part);
    length += part.length;
  }
  return parts.join('').slice(0, bytes);
}

/** Returns a RAG answer of the sample backend's shape whose `answer` has about `bytes` bytes. */
export function answerJson(bytes) {
  return JSON.stringify({
    id: 'rag-3f9c2a71-8d4e-4b6a-9c1f-0e7d5a2b4c68',
    object: 'rag.answer',
    collection: 'docs',
    answer: prose(bytes),
    sources: CORPUS.slice(0, 3).map((document, index) => ({
      id: document.id,
      title: document.title,
      score: 1 - index / 10,
    })),
  });
}

/**
 * Splits text into the content pieces of a chat completion stream. `words`: three words with
 * the whitespace after them, as the sample backend streams. `tokens`: one word with the space
 * before it, as model tokenizers usually split, so a piece never ends with whitespace.
 */
export function contentPieces(text, style) {
  if (style === 'tokens') return text.match(/\s*\S+/g) ?? [];
  const words = text.match(/\S+\s*/g) ?? [];
  const pieces = [];
  for (let start = 0; start < words.length; start += 3) {
    pieces.push(words.slice(start, start + 3).join(''));
  }
  return pieces;
}

/** Returns the `data:` JSON of one OpenAI chat completion chunk. */
export function chatChunk(content, index = 0) {
  return JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion.chunk',
    created: 1_700_000_000,
    model: 'bench-model',
    choices: [{ index: 0, delta: index === 0 ? { role: 'assistant', content } : { content } }],
  });
}

/** Returns a whole chat completion event stream of about `bytes` bytes of content. */
export function chatStream(bytes, style) {
  const events = contentPieces(prose(bytes), style).map(
    (content, index) => `data: ${chatChunk(content, index)}\n\n`,
  );
  return `${events.join('')}data: [DONE]\n\n`;
}
