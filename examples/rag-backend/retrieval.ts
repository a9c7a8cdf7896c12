import type { CorpusDocument } from './corpus.js';

/** A document with a positive relevance score for a query. */
export interface SearchHit {
  document: CorpusDocument;
  score: number;
}

interface IndexedDocument {
  document: CorpusDocument;
  termFrequencies: Map<string, number>;
  length: number;
  /** The subject that uploaded the document; bundled documents and anonymous uploads have none. */
  owner: string | undefined;
}

// Common BM25 defaults. K1 caps the gain from repeated terms, and B sets how strongly long
// documents are penalised.
const K1 = 1.2;
const B = 0.75;

// Words so common in questions that a match on them does not indicate relevance.
const STOP_WORDS = new Set([
  'a',
  'an',
  'and',
  'are',
  'as',
  'at',
  'be',
  'by',
  'can',
  'do',
  'does',
  'for',
  'from',
  'how',
  'i',
  'in',
  'is',
  'it',
  'its',
  'of',
  'on',
  'or',
  'the',
  'to',
  'what',
  'when',
  'which',
  'with',
]);

/** Splits text into lower-case words and numbers, without stop words. */
export function tokenize(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((token) => token.length > 0 && !STOP_WORDS.has(token));
}

// A title summarises its document, so each title word counts as this many occurrences.
const TITLE_WEIGHT = 2;

function indexDocument(document: CorpusDocument, owner: string | undefined): IndexedDocument {
  const titleTokens = tokenize(document.title);
  const tokens = [
    ...Array.from({ length: TITLE_WEIGHT }, () => titleTokens).flat(),
    ...tokenize(document.text),
  ];
  const termFrequencies = new Map<string, number>();
  for (const token of tokens) {
    termFrequencies.set(token, (termFrequencies.get(token) ?? 0) + 1);
  }
  return { document, termFrequencies, length: tokens.length, owner };
}

/**
 * In-memory document collections ranked with BM25.
 * Collection statistics are computed per search, which is cheap at the size of a sample corpus.
 */
export class DocumentStore {
  private readonly collections = new Map<string, IndexedDocument[]>();

  constructor(documents: Iterable<CorpusDocument> = []) {
    for (const document of documents) {
      this.add(document);
    }
  }

  /** Creates an empty collection so that queries to it succeed before any document arrives. */
  createCollection(name: string): void {
    if (!this.collections.has(name)) {
      this.collections.set(name, []);
    }
  }

  hasCollection(name: string): boolean {
    return this.collections.has(name);
  }

  collectionNames(): string[] {
    return [...this.collections.keys()];
  }

  /**
   * Indexes a document and creates its collection if needed. A document with an `owner` is
   * found only by that owner's searches.
   */
  add(document: CorpusDocument, owner?: string): void {
    this.createCollection(document.collection);
    this.collections.get(document.collection)?.push(indexDocument(document, owner));
  }

  /**
   * Returns up to `limit` documents of the collection, best first, that share a term with the
   * query and that `reader` may see: those without an owner and those `reader` owns.
   */
  search(collection: string, query: string, limit: number, reader?: string): SearchHit[] {
    const documents = (this.collections.get(collection) ?? []).filter(
      (indexed) => indexed.owner === undefined || indexed.owner === reader,
    );
    if (documents.length === 0) {
      return [];
    }

    const queryTerms = new Set(tokenize(query));
    const averageLength =
      documents.reduce((sum, indexed) => sum + indexed.length, 0) / documents.length;
    const inverseFrequencies = new Map<string, number>();
    for (const term of queryTerms) {
      const documentFrequency = documents.filter((indexed) =>
        indexed.termFrequencies.has(term),
      ).length;
      // Adding 1 inside the logarithm keeps the weight positive for terms that occur in more
      // than half of the documents.
      const idf = Math.log(
        1 + (documents.length - documentFrequency + 0.5) / (documentFrequency + 0.5),
      );
      inverseFrequencies.set(term, idf);
    }

    const hits: SearchHit[] = [];
    for (const indexed of documents) {
      let score = 0;
      for (const [term, idf] of inverseFrequencies) {
        const frequency = indexed.termFrequencies.get(term) ?? 0;
        if (frequency === 0) {
          continue;
        }
        const lengthNorm = 1 - B + (B * indexed.length) / averageLength;
        score += (idf * frequency * (K1 + 1)) / (frequency + K1 * lengthNorm);
      }
      if (score > 0) {
        hits.push({ document: indexed.document, score });
      }
    }

    hits.sort((left, right) => right.score - left.score);
    return hits.slice(0, limit);
  }
}
