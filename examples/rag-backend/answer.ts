import { tokenize } from './retrieval.js';
import type { SearchHit } from './retrieval.js';

// Uploaded files may have no sentence punctuation at all, so a quoted sentence is cut to keep
// answers short.
const MAX_SENTENCE_CHARS = 300;

function splitSentences(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+/)
    .map((sentence) => sentence.trim())
    .filter((sentence) => sentence.length > 0);
}

/** Picks the sentence sharing the most terms with the query, or the first sentence on a tie. */
function selectSentence(text: string, queryTerms: ReadonlySet<string>): string {
  let best = '';
  let bestOverlap = -1;
  for (const sentence of splitSentences(text)) {
    const overlap = new Set(tokenize(sentence).filter((term) => queryTerms.has(term))).size;
    if (overlap > bestOverlap) {
      best = sentence;
      bestOverlap = overlap;
    }
  }
  const codePoints = [...best];
  if (codePoints.length > MAX_SENTENCE_CHARS) {
    return `${codePoints.slice(0, MAX_SENTENCE_CHARS).join('').trimEnd()}...`;
  }
  return best;
}

/**
 * Composes an extractive answer: one sentence from each hit, followed by the cited title in
 * brackets. The sample has no language model, so the answer only quotes the corpus.
 */
export function composeAnswer(
  query: string,
  collection: string,
  hits: readonly SearchHit[],
): string {
  if (hits.length === 0) {
    return `No document in the "${collection}" collection matches the query.`;
  }

  const queryTerms = new Set(tokenize(query));
  const citations = hits.map((hit) => {
    const sentence = selectSentence(hit.document.text, queryTerms);
    // A document can match on its title alone, for example an empty uploaded file.
    return sentence === '' ? `[${hit.document.title}]` : `${sentence} [${hit.document.title}]`;
  });
  return `From the "${collection}" collection: ${citations.join(' ')}`;
}
