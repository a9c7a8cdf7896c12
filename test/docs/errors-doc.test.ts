import { readFileSync } from 'node:fs';
import t from 'tap';
import { ERROR_CATALOGUE, isErrorCode, type ErrorCode } from '../../src/errors/catalogue.js';
import { problemBody } from '../../src/errors/problem.js';

const DOC = readFileSync('docs/errors.md', 'utf8');

interface DocRow {
  code: string;
  status: number;
  title: string;
  when: string;
  action: string;
}

/** Reads the rows of the table whose first cell is a code in backticks. */
function documentedCodes(markdown: string): DocRow[] {
  const rows: DocRow[] = [];
  for (const line of markdown.split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    // A table row splits into ['', cell 1, ..., cell 5, ''].
    if (cells.length !== 7) continue;
    const code = /^`([a-z_]+)`$/.exec(cells[1]!)?.[1];
    if (code === undefined || !/^\d{3}$/.test(cells[2]!)) continue;
    rows.push({
      code,
      status: Number(cells[2]),
      title: cells[3]!,
      when: cells[4]!,
      action: cells[5]!,
    });
  }
  return rows;
}

const rows = documentedCodes(DOC);

t.test('errors doc lists every code', async (t) => {
  t.same(
    rows.map((row) => row.code).sort(),
    Object.keys(ERROR_CATALOGUE).sort(),
    'codes in docs/errors.md and ERROR_CATALOGUE',
  );
  const seen = new Set<string>();
  for (const row of rows) {
    t.notOk(seen.has(row.code), `${row.code} documented once`);
    seen.add(row.code);
  }
});

t.test('errors doc statuses and titles', async (t) => {
  for (const row of rows) {
    if (!isErrorCode(row.code)) continue;
    const entry = ERROR_CATALOGUE[row.code];
    t.equal(row.status, entry.status, `${row.code} status`);
    t.equal(row.title, entry.title, `${row.code} title`);
    t.not(row.when, '', `${row.code} has a "when"`);
    t.not(row.action, '', `${row.code} has a "what to do"`);
  }
});

t.test('errors doc example body', async (t) => {
  const example = /```http\n[\s\S]*?\n\n(\{[\s\S]*?\n\})\n```/.exec(DOC)?.[1];
  t.ok(example, 'docs/errors.md has an HTTP example with a JSON body');
  const body = JSON.parse(example ?? '{}') as { code: ErrorCode; request_id: string };
  t.same(body, problemBody(body.code, body.request_id), 'same fields as problemBody()');
});
