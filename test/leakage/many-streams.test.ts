import t from 'tap';
import { chatChunk, chunksOf, policyOf, runTransform, sseData } from './helpers.js';

const SSE = { 'content-type': 'text/event-stream' };
const policy = policyOf({});
const CHOICES = 512;

/**
 * Builds events where every choice first sends a piece that does not end in a space, so its
 * scanner does not release it yet and every later event waits. Then every choice sends another.
 */
function manyChoices(second: (choice: number) => string): string {
  let body = '';
  for (let choice = 0; choice < CHOICES; choice += 1) body += chatChunk(`word${choice}`, choice);
  for (let choice = 0; choice < CHOICES; choice += 1) body += chatChunk(second(choice), choice);
  return `${body}data: [DONE]\n\n`;
}

/** Returns the content pieces of each choice, in the order the events carry them. */
function piecesByChoice(text: string): Map<number, string[]> {
  const pieces = new Map<number, string[]>();
  for (const data of sseData(text)) {
    if (!data.startsWith('{')) continue;
    const chunk = JSON.parse(data) as { choices: { index: number; delta: { content: string } }[] };
    for (const { index, delta } of chunk.choices) {
      pieces.set(index, [...(pieces.get(index) ?? []), delta.content]);
    }
  }
  return pieces;
}

t.test('many held choices pass in order', async (t) => {
  const body = manyChoices(() => ' next');
  for (const chunks of [[body], chunksOf(body, 1_000)]) {
    const run = await runTransform(policy, SSE, chunks);
    const text = run.output.toString();
    t.equal(text, body, `${chunks.length} chunks pass unchanged`);
    const pieces = piecesByChoice(text);
    t.equal(pieces.size, CHOICES);
    const wrong = [...Array(CHOICES).keys()].filter(
      (choice) => pieces.get(choice)?.join('|') !== `word${choice}| next`,
    );
    t.same(wrong, [], 'every choice has its two pieces in order');
    t.same(run.detections, []);
  }
});

t.test('secret split in one choice is redacted', async (t) => {
  const body = manyChoices((choice) => (choice === 300 ? ' ghp_FAKEfake01234' : ' next'));
  const withRest = `${body.slice(0, -'data: [DONE]\n\n'.length)}${chatChunk(
    '56789FAKEfake0123456789 done',
    300,
  )}data: [DONE]\n\n`;
  const run = await runTransform(policy, SSE, chunksOf(withRest, 997));
  const pieces = piecesByChoice(run.output.toString());
  t.same(pieces.get(300), ['word300', ' [REDACTED:github]', ' done']);
  t.same(pieces.get(299), ['word299', ' next']);
  t.same(pieces.get(511), ['word511', ' next']);
  t.equal(run.detections.length, 1);
});
