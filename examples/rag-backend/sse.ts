import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';

/** Model name reported in every chunk, so clients can tell sample output from a real model. */
export const STREAM_MODEL = 'agentflow-rag-sample';

const WORDS_PER_CHUNK = 3;

interface ChunkDelta {
  role?: 'assistant';
  content?: string;
}

export interface StreamOptions {
  /** Pause between two events, in milliseconds. */
  delayMs: number;
}

/** Splits text into pieces of a few words each. Joining the pieces gives back the text. */
export function splitIntoChunks(text: string, wordsPerChunk = WORDS_PER_CHUNK): string[] {
  // Each match carries the whitespace around its word, so no character is lost.
  const words = text.match(/\s*\S+\s*/g) ?? [];
  const chunks: string[] = [];
  for (let start = 0; start < words.length; start += wordsPerChunk) {
    chunks.push(words.slice(start, start + wordsPerChunk).join(''));
  }
  return chunks;
}

/** Builds the `data:` payloads of one streamed answer, ending with the `[DONE]` sentinel. */
function buildEvents(answer: string): string[] {
  const id = `chatcmpl-${randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  const encodeChunk = (delta: ChunkDelta, finishReason: 'stop' | null): string =>
    JSON.stringify({
      id,
      object: 'chat.completion.chunk',
      created,
      model: STREAM_MODEL,
      choices: [{ index: 0, delta, finish_reason: finishReason }],
    });

  return [
    encodeChunk({ role: 'assistant' }, null),
    ...splitIntoChunks(answer).map((content) => encodeChunk({ content }, null)),
    encodeChunk({}, 'stop'),
    '[DONE]',
  ];
}

/**
 * Sends an answer as server-sent events shaped like OpenAI chat completion chunks, one event
 * per timer tick. Stops writing and clears the timer when the client disconnects.
 */
export function streamChatCompletion(
  res: ServerResponse,
  answer: string,
  options: StreamOptions,
): void {
  const events = buildEvents(answer);
  let next = 0;
  let timer: NodeJS.Timeout | undefined;

  res.writeHead(200, {
    'Content-Type': 'text/event-stream',
    'Cache-Control': 'no-cache',
    // Asks buffering proxies in front of the backend to pass each event on at once.
    'X-Accel-Buffering': 'no',
  });
  res.flushHeaders();

  // 'close' also fires after a normal end, when there is no timer left to clear.
  res.once('close', () => {
    clearTimeout(timer);
    timer = undefined;
  });

  const schedule = (): void => {
    timer = setTimeout(writeNext, options.delayMs);
  };

  function writeNext(): void {
    timer = undefined;
    if (res.destroyed || res.writableEnded) {
      return;
    }

    const flushed = res.write(`data: ${events[next]}\n\n`);
    next += 1;
    if (next === events.length) {
      res.end();
      return;
    }

    if (flushed) {
      schedule();
    } else {
      // The socket buffer is full, so wait for the client to read before queueing more.
      res.once('drain', schedule);
    }
  }

  writeNext();
}
