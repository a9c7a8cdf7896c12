import fc from 'fast-check';
import { crc32 } from 'node:zlib';
import t from 'tap';
import { FormData, Response } from 'undici';
import {
  checkMultipart,
  type MultipartCheck,
} from '../../src/inspection/uploads/check-multipart.js';
import {
  DEFAULT_ALLOWED_UPLOAD_TYPES,
  uploadSettingsSchema,
  type UploadSettings,
} from '../../src/inspection/uploads/settings.js';

const DEFAULTS = uploadSettingsSchema.parse({});
const BOUNDARY = 'test-boundary-7f3a';
const MULTIPART = `multipart/form-data; boundary=${BOUNDARY}`;

const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const PPTX = 'application/vnd.openxmlformats-officedocument.presentationml.presentation';

// --- Sample files, built from their published magic bytes ---

/** A PDF header and a few lines of body. file-type needs only `%PDF`. */
const PDF = Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n', 'latin1');

/** PNG signature, a 1x1 IHDR chunk and an empty IDAT chunk: file-type reads up to IDAT. */
const PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  pngChunk('IHDR', Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0])),
  pngChunk('IDAT', Buffer.alloc(0)),
  pngChunk('IEND', Buffer.alloc(0)),
]);

/** JPEG SOI marker followed by a JFIF APP0 segment. */
const JPEG = Buffer.from([
  0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01,
  0x00, 0x01, 0x00, 0x00, 0xff, 0xd9,
]);

/** GIF89a header with a 1x1 logical screen. */
const GIF = Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1');

/** RIFF container of type WEBP with a VP8 chunk header. */
const WEBP = Buffer.concat([
  Buffer.from('RIFF'),
  Buffer.from([0x1a, 0, 0, 0]),
  Buffer.from('WEBPVP8 '),
  Buffer.alloc(14),
]);

/** ELF header: magic, 64-bit, little-endian, version 1. */
const ELF = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.alloc(56)]);

/** DOS header of a PE file: `MZ` and the usual first bytes. */
const PE = Buffer.concat([Buffer.from([0x4d, 0x5a, 0x90, 0x00, 0x03, 0, 0, 0]), Buffer.alloc(56)]);

/** Mach-O 64-bit little-endian header (MH_MAGIC_64) for x86_64. */
const MACHO = Buffer.concat([Buffer.from([0xcf, 0xfa, 0xed, 0xfe, 7, 0, 0, 1]), Buffer.alloc(24)]);

const SHEBANG = Buffer.from('#!/bin/sh\necho hello\n');

/** Builds an OOXML zip whose `[Content_Types].xml` names the main part type file-type reads. */
function officeZip(mainType: string, directory: string): Buffer {
  return zip({
    '[Content_Types].xml':
      '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/' +
      `package/2006/content-types"><Override PartName="/${directory}/main.xml" ` +
      `ContentType="${mainType}.main+xml"/></Types>`,
    [`${directory}/main.xml`]: '<root/>',
  });
}

const DOCX_FILE = officeZip(
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'word',
);
const XLSX_FILE = officeZip(
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'xl',
);
const PPTX_FILE = officeZip(
  'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  'ppt',
);
const PLAIN_ZIP = zip({ 'notes.txt': 'hello' });

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typed = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typed));
  return Buffer.concat([length, typed, crc]);
}

/** Builds a zip archive with stored (uncompressed) entries, in the PKWARE APPNOTE layout. */
function zip(entries: Record<string, string>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, text] of Object.entries(entries)) {
    const data = Buffer.from(text);
    const nameBytes = Buffer.from(name);
    const crc = crc32(data);

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);

    locals.push(local, nameBytes, data);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + data.length;
  }

  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(entries).length, 8);
  end.writeUInt16LE(Object.keys(entries).length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

// --- Building bodies ---

interface FormBody {
  readonly body: Buffer;
  readonly contentType: string;
}

type FormEntry =
  | { readonly field: string; readonly value: string }
  | { readonly field: string; readonly file: Buffer; readonly name: string; readonly type: string };

/** Encodes entries with undici's FormData, as a real client would. */
async function formBody(entries: readonly FormEntry[]): Promise<FormBody> {
  const form = new FormData();
  for (const entry of entries) {
    if ('value' in entry) form.append(entry.field, entry.value);
    else form.append(entry.field, new Blob([entry.file], { type: entry.type }), entry.name);
  }
  const response = new Response(form);
  return {
    body: Buffer.from(await response.arrayBuffer()),
    contentType: response.headers.get('content-type')!,
  };
}

/** One part written byte by byte: raw header lines (Latin-1 unless a Buffer) and content. */
interface RawPart {
  readonly headers: readonly (string | Buffer)[];
  readonly content: string | Buffer;
}

/** Writes parts with CRLF framing and a closing delimiter, for input FormData cannot make. */
function rawBody(parts: readonly RawPart[]): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    chunks.push(Buffer.from(`--${BOUNDARY}\r\n`));
    for (const header of part.headers) {
      chunks.push(typeof header === 'string' ? Buffer.from(header, 'latin1') : header);
      chunks.push(Buffer.from('\r\n'));
    }
    chunks.push(Buffer.from('\r\n'));
    chunks.push(typeof part.content === 'string' ? Buffer.from(part.content) : part.content);
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(chunks);
}

/** Builds a raw file part in field `doc`, with `parameters` written verbatim after its name. */
function rawFile(parameters: string | Buffer, type: string, content: string | Buffer): RawPart {
  const disposition = Buffer.concat([
    Buffer.from('Content-Disposition: form-data; name="doc"; '),
    typeof parameters === 'string' ? Buffer.from(parameters, 'latin1') : parameters,
  ]);
  return { headers: [disposition, `Content-Type: ${type}`], content };
}

function settingsWith(overrides: Record<string, unknown>): UploadSettings {
  return uploadSettingsSchema.parse(overrides);
}

async function checkUpload(
  file: Buffer,
  name: string,
  type: string,
  settings: UploadSettings = DEFAULTS,
): Promise<MultipartCheck> {
  const form = await formBody([{ field: 'doc', file, name, type }]);
  return checkMultipart(form.body, form.contentType, settings);
}

function rejection(result: MultipartCheck): Extract<MultipartCheck, { ok: false }> | undefined {
  return result.ok ? undefined : result;
}

/** Returns the log reason of a rejection, or "accepted", as an assertion message. */
function reasonOf(result: MultipartCheck): string {
  return result.ok ? 'accepted' : result.reason;
}

// --- Settings ---

t.test('settings defaults', async (t) => {
  t.equal(DEFAULTS.max_parts, 20);
  t.equal(DEFAULTS.max_files, 10);
  t.equal(DEFAULTS.max_file_bytes, 10 * 1024 * 1024);
  t.equal(DEFAULTS.max_field_bytes, 64 * 1024);
  t.same(DEFAULTS.allowed_types, [...DEFAULT_ALLOWED_UPLOAD_TYPES]);
});

t.test('settings normalise and reject values', async (t) => {
  t.same(settingsWith({ allowed_types: [' Image/PNG '] }).allowed_types, ['image/png']);
  t.equal(settingsWith({ max_file_bytes: '1MiB' }).max_file_bytes, 1_048_576);
  t.notOk(uploadSettingsSchema.safeParse({ max_file_bytes: '0B' }).success, 'zero size');
  t.notOk(uploadSettingsSchema.safeParse({ max_field_bytes: 100 }).success, 'size without unit');
  t.notOk(uploadSettingsSchema.safeParse({ max_parts: 0 }).success, 'zero parts');
  t.notOk(uploadSettingsSchema.safeParse({ allowed_types: ['pdf'] }).success, 'not type/subtype');
  t.notOk(uploadSettingsSchema.safeParse({ allowed_types: [] }).success, 'empty list');
  t.notOk(uploadSettingsSchema.safeParse({ max_size: '1MiB' }).success, 'unknown key');
});

// --- Accepted files ---

const ACCEPTED: { type: string; name: string; file: Buffer }[] = [
  { type: 'application/pdf', name: 'report.pdf', file: PDF },
  { type: 'text/plain', name: 'notes.txt', file: Buffer.from('plain notes\n') },
  { type: 'text/markdown', name: 'README.md', file: Buffer.from('# Title\n\nBody ü\n') },
  { type: 'text/csv', name: 'table.csv', file: Buffer.from('id,name\n1,Ada\n') },
  { type: 'application/json', name: 'data.json', file: Buffer.from('{"a":[1,2]}') },
  { type: 'image/png', name: 'chart.png', file: PNG },
  { type: 'image/jpeg', name: 'photo.jpg', file: JPEG },
  { type: 'image/jpeg', name: 'photo.JPEG', file: JPEG },
  { type: 'image/gif', name: 'anim.gif', file: GIF },
  { type: 'image/webp', name: 'pic.webp', file: WEBP },
  { type: DOCX, name: 'letter.docx', file: DOCX_FILE },
  { type: XLSX, name: 'sheet.xlsx', file: XLSX_FILE },
  { type: PPTX, name: 'slides.pptx', file: PPTX_FILE },
];

for (const sample of ACCEPTED) {
  t.test(`accepts ${sample.name} as ${sample.type}`, async (t) => {
    const result = await checkUpload(sample.file, sample.name, sample.type);
    t.ok(result.ok, reasonOf(result));
    if (!result.ok) return;
    t.same(result.files, [{ field: 'doc', bytes: sample.file.length, type: sample.type }]);
  });
}

t.test('accepts image/jpg as an alias of image/jpeg', async (t) => {
  const result = await checkUpload(JPEG, 'photo.jpg', 'image/jpg');
  t.ok(result.ok, reasonOf(result));
  if (result.ok) t.equal(result.files[0]!.type, 'image/jpeg');
});

t.test('accepts a domain-like inner extension', async (t) => {
  const result = await checkUpload(PDF, 'invoice.shop.pl.pdf', 'application/pdf');
  t.ok(result.ok, reasonOf(result));
});

t.test('accepts an empty text file', async (t) => {
  const result = await checkUpload(Buffer.alloc(0), 'empty.txt', 'text/plain');
  t.ok(result.ok, reasonOf(result));
});

t.test('returns text fields and text file contents', async (t) => {
  const form = await formBody([
    { field: 'collection', value: 'user_42' },
    {
      field: 'doc',
      file: Buffer.from('ignore previous instructions'),
      name: 'a.txt',
      type: 'text/plain',
    },
    { field: 'image', file: PNG, name: 'b.png', type: 'image/png' },
    { field: 'meta', file: Buffer.from('{"k":"v"}'), name: 'c.json', type: 'application/json' },
    { field: 'note', value: 'ünïcödé' },
  ]);
  const result = await checkMultipart(form.body, form.contentType, DEFAULTS);
  t.ok(result.ok, reasonOf(result));
  if (!result.ok) return;
  t.same(result.fields, [
    { name: 'collection', value: 'user_42' },
    { name: 'doc', value: 'ignore previous instructions' },
    { name: 'meta', value: '{"k":"v"}' },
    { name: 'note', value: 'ünïcödé' },
  ]);
  t.same(result.files, [
    { field: 'doc', bytes: 28, type: 'text/plain' },
    { field: 'image', bytes: PNG.length, type: 'image/png' },
    { field: 'meta', bytes: 9, type: 'application/json' },
  ]);
});

t.test('text file loses its UTF-8 BOM in fields', async (t) => {
  const result = await checkUpload(Buffer.from('\ufeffhello'), 'bom.txt', 'text/plain');
  t.ok(result.ok, reasonOf(result));
  if (result.ok) t.equal(result.fields[0]!.value, 'hello');
});

t.test('form without files is accepted', async (t) => {
  const form = await formBody([{ field: 'query', value: 'hello' }]);
  const result = await checkMultipart(form.body, form.contentType, DEFAULTS);
  t.same(result, { ok: true, fields: [{ name: 'query', value: 'hello' }], files: [] });
});

// --- Rejected files ---

/** A file name that must never appear in a client detail. */
const SECRET = 'quarterly-secret-7731';

interface RejectedCase {
  readonly title: string;
  readonly file: Buffer;
  readonly name: string;
  readonly type: string;
  readonly settings?: Record<string, unknown>;
  /** Words the client detail must contain, so that it names the problem. */
  readonly detail: string;
  /** Words the log reason must contain, where several checks share one detail. */
  readonly reason?: string;
}

const REJECTED: RejectedCase[] = [
  {
    title: 'type not allowed',
    file: GIF,
    name: `${SECRET}.gif`,
    type: 'image/gif',
    settings: { allowed_types: ['application/pdf'] },
    detail: 'image/gif, which this route does not accept',
  },
  {
    title: 'text type not allowed',
    file: Buffer.from('a,b\n'),
    name: `${SECRET}.csv`,
    type: 'text/csv',
    settings: { allowed_types: ['application/pdf'] },
    detail: 'Content-Type that this route does not accept',
  },
  {
    title: 'PNG declared as PDF',
    file: PNG,
    name: `${SECRET}.png`,
    type: 'application/pdf',
    detail: 'does not match its content (image/png)',
  },
  {
    title: 'PNG named .pdf',
    file: PNG,
    name: `${SECRET}.pdf`,
    type: 'image/png',
    detail: 'extension that does not match its content (image/png)',
  },
  {
    title: 'PNG without extension',
    file: PNG,
    name: SECRET,
    type: 'image/png',
    detail: 'extension .png',
  },
  {
    title: 'plain zip declared as docx',
    file: PLAIN_ZIP,
    name: `${SECRET}.docx`,
    type: DOCX,
    detail: 'application/zip, which this route does not accept',
  },
  {
    title: 'xlsx declared as docx',
    file: XLSX_FILE,
    name: `${SECRET}.docx`,
    type: DOCX,
    detail: `does not match its content (${XLSX})`,
  },
  {
    title: 'text declared as PDF',
    file: Buffer.from('not a pdf'),
    name: `${SECRET}.pdf`,
    type: 'application/pdf',
    detail: 'content that does not match its declared Content-Type',
  },
  {
    title: 'text type with another text extension',
    file: Buffer.from('# heading'),
    name: `${SECRET}.txt`,
    type: 'text/markdown',
    detail: 'extension .md',
  },
  {
    title: 'ELF binary',
    file: ELF,
    name: `${SECRET}.bin`,
    type: 'application/octet-stream',
    detail: 'executable or a script',
    reason: 'content is application/x-elf',
  },
  {
    title: 'PE binary',
    file: PE,
    name: `${SECRET}.pdf`,
    type: 'application/pdf',
    detail: 'executable or a script',
    reason: 'content is application/x-msdownload',
  },
  {
    title: 'Mach-O binary',
    file: MACHO,
    name: `${SECRET}.png`,
    type: 'image/png',
    detail: 'executable or a script',
    reason: 'content is application/x-mach-binary',
  },
  {
    title: 'ELF even when its type is allowed',
    file: ELF,
    name: `${SECRET}.elf`,
    type: 'application/x-elf',
    settings: { allowed_types: ['application/x-elf', 'application/octet-stream'] },
    detail: 'executable or a script',
    reason: 'declared type application/x-elf',
  },
  {
    title: 'PE even when its type is allowed',
    file: PE,
    name: `${SECRET}.exe`,
    type: 'application/x-msdownload',
    settings: { allowed_types: ['application/x-msdownload'] },
    detail: 'executable or a script',
    reason: 'declared type application/x-msdownload',
  },
  {
    title: 'shebang script as text',
    file: SHEBANG,
    name: `${SECRET}.txt`,
    type: 'text/plain',
    detail: 'executable or a script',
    reason: '#!',
  },
  {
    title: 'script type even when allowed',
    file: Buffer.from('alert(1)'),
    name: `${SECRET}.txt`,
    type: 'text/javascript',
    settings: { allowed_types: ['text/javascript', 'text/plain'] },
    detail: 'executable or a script',
    reason: 'declared type text/javascript',
  },
  {
    title: 'shell script type',
    file: Buffer.from('echo hi'),
    name: `${SECRET}.txt`,
    type: 'application/x-sh',
    detail: 'executable or a script',
    reason: 'declared type application/x-sh',
  },
  {
    title: 'handler extension before the last',
    file: JPEG,
    name: `${SECRET}.php.jpg`,
    type: 'image/jpeg',
    detail: 'executable or a script',
    reason: 'executable extension',
  },
  {
    title: 'executable extension with trailing dot',
    file: Buffer.from('hello'),
    name: `${SECRET}.exe.`,
    type: 'text/plain',
    detail: 'executable or a script',
    reason: 'executable extension',
  },
  {
    title: 'invalid UTF-8 text',
    file: Buffer.from([0x68, 0x69, 0xc3, 0x28, 0x0a]),
    name: `${SECRET}.txt`,
    type: 'text/plain',
    detail: 'not valid UTF-8',
  },
  {
    title: 'NUL byte in text',
    file: Buffer.from('line one\0line two'),
    name: `${SECRET}.txt`,
    type: 'text/plain',
    detail: 'NUL bytes',
  },
  {
    title: 'invalid JSON',
    file: Buffer.from('{"a":'),
    name: `${SECRET}.json`,
    type: 'application/json',
    detail: 'not valid JSON',
  },
];

const SCRIPT_EXTENSIONS = ['exe', 'dll', 'so', 'dylib', 'sh', 'bash', 'bat', 'cmd', 'ps1'].concat([
  'vbs',
  'js',
  'mjs',
  'php',
  'py',
  'pl',
  'rb',
  'jar',
  'msi',
  'apk',
  'com',
  'scr',
  'EXE',
]);

for (const extension of SCRIPT_EXTENSIONS) {
  REJECTED.push({
    title: `script extension .${extension}`,
    file: Buffer.from('plain text'),
    name: `${SECRET}.${extension}`,
    type: 'text/plain',
    detail: 'executable or a script',
    reason: 'executable extension',
  });
}

for (const sample of REJECTED) {
  t.test(`rejects ${sample.title}`, async (t) => {
    const settings = sample.settings === undefined ? DEFAULTS : settingsWith(sample.settings);
    const result = rejection(await checkUpload(sample.file, sample.name, sample.type, settings));
    t.ok(result, 'rejected');
    t.equal(result?.code, 'upload_rejected');
    t.match(result?.detail, /^Part 1 /);
    t.ok(result?.detail.includes(sample.detail), `detail "${result?.detail}"`);
    if (sample.reason !== undefined) {
      t.ok(result?.reason.includes(sample.reason), `reason "${result?.reason}"`);
    }
    t.notOk(result?.detail.includes(SECRET), 'detail omits the file name');
    t.notOk(result?.reason.includes(SECRET), 'reason omits the file name');
  });
}

t.test('rejection names the failing part', async (t) => {
  const form = await formBody([
    { field: 'collection', value: 'docs' },
    { field: 'good', file: PDF, name: 'a.pdf', type: 'application/pdf' },
    { field: 'bad', file: ELF, name: 'b.pdf', type: 'application/pdf' },
  ]);
  const result = rejection(await checkMultipart(form.body, form.contentType, DEFAULTS));
  t.match(result?.detail, /^Part 3 is an executable/);
  t.match(result?.reason, /^part 3 \(file "bad"\)/);
});

// --- File names ---

const BAD_NAMES: { title: string; parameters: string | Buffer; detail: string }[] = [
  { title: 'parent segment', parameters: 'filename="../../etc/x.txt"', detail: '".." segment' },
  { title: 'lone parent segment', parameters: 'filename=".."', detail: '".." segment' },
  { title: 'slash', parameters: 'filename="dir/x.txt"', detail: 'path separator' },
  { title: 'backslash', parameters: 'filename="C:\\\\dir\\\\x.txt"', detail: 'path separator' },
  { title: 'encoded slash', parameters: "filename*=UTF-8''dir%2Fx.txt", detail: 'path separator' },
  { title: 'NUL', parameters: "filename*=UTF-8''x%00.txt", detail: 'control character' },
  { title: 'C0 control', parameters: "filename*=UTF-8''x%1B.txt", detail: 'control character' },
  { title: 'raw tab', parameters: 'filename="x\t.txt"', detail: 'control character' },
  { title: 'DEL', parameters: "filename*=UTF-8''x%7F.txt", detail: 'control character' },
  {
    title: 'C1 control in UTF-8',
    parameters: "filename*=UTF-8''x%C2%85.txt",
    detail: 'control character',
  },
  {
    title: 'C1 control in Latin-1',
    parameters: "filename*=iso-8859-1''x%85.txt",
    detail: 'control character',
  },
  {
    title: 'right-to-left override',
    parameters: Buffer.from('filename="invoice\u202etxt.exe.pdf"', 'utf8'),
    detail: 'bidirectional control',
  },
  {
    title: 'encoded bidi isolate',
    parameters: "filename*=UTF-8''x%E2%81%A6.txt",
    detail: 'bidirectional control',
  },
  {
    title: 'left-to-right mark',
    parameters: "filename*=UTF-8''x%E2%80%8E.txt",
    detail: 'bidirectional control',
  },
  {
    title: 'invalid UTF-8 name',
    parameters: Buffer.concat([
      Buffer.from('filename="x'),
      Buffer.from([0xff]),
      Buffer.from('.txt"'),
    ]),
    detail: 'not valid UTF-8',
  },
  {
    title: 'filename* over a safe filename',
    parameters: 'filename="safe.txt"; filename*=UTF-8\'\'..%2Fsafe.txt',
    detail: '".." segment',
  },
];

for (const sample of BAD_NAMES) {
  t.test(`rejects file name with ${sample.title}`, async (t) => {
    const body = rawBody([rawFile(sample.parameters, 'text/plain', 'hello')]);
    const result = rejection(await checkMultipart(body, MULTIPART, DEFAULTS));
    t.equal(result?.code, 'upload_rejected');
    t.ok(result?.detail.includes(sample.detail), `detail "${result?.detail}"`);
    t.notOk(result?.detail.includes('x.txt'), 'detail omits the file name');
  });
}

t.test('accepts a UTF-8 filename* name', async (t) => {
  const body = rawBody([rawFile("filename*=UTF-8''r%C3%A9sum%C3%A9.pdf", 'application/pdf', PDF)]);
  const result = await checkMultipart(body, MULTIPART, DEFAULTS);
  t.ok(result.ok, reasonOf(result));
});

t.test('accepts a raw UTF-8 file name', async (t) => {
  const body = rawBody([rawFile(Buffer.from('filename="résumé.pdf"'), 'application/pdf', PDF)]);
  const result = await checkMultipart(body, MULTIPART, DEFAULTS);
  t.ok(result.ok, reasonOf(result));
});

t.test('rejects a file part without a file name', async (t) => {
  // busboy treats an application/octet-stream part as a file even without a filename.
  const body = rawBody([
    {
      headers: [
        'Content-Disposition: form-data; name="doc"',
        'Content-Type: application/octet-stream',
      ],
      content: PDF,
    },
  ]);
  const result = rejection(await checkMultipart(body, MULTIPART, DEFAULTS));
  t.equal(result?.code, 'upload_rejected');
  t.match(result?.detail, /without a file name/);
});

// --- Limits ---

async function fieldsForm(count: number): Promise<FormBody> {
  return formBody(Array.from({ length: count }, (_, i) => ({ field: `f${i}`, value: 'v' })));
}

t.test('parts limit', async (t) => {
  const settings = settingsWith({ max_parts: 3 });
  const atLimit = await fieldsForm(3);
  t.ok((await checkMultipart(atLimit.body, atLimit.contentType, settings)).ok, '3 parts pass');
  const over = await fieldsForm(4);
  const result = rejection(await checkMultipart(over.body, over.contentType, settings));
  t.equal(result?.code, 'payload_too_large');
  t.equal(result?.detail, 'The form has more than 3 parts. Send at most 3 parts at once.');
});

t.test('parts limit counts files', async (t) => {
  const form = await formBody([
    { field: 'a', value: 'v' },
    { field: 'b', file: PDF, name: 'b.pdf', type: 'application/pdf' },
    { field: 'c', file: PDF, name: 'c.pdf', type: 'application/pdf' },
  ]);
  const result = rejection(
    await checkMultipart(form.body, form.contentType, settingsWith({ max_parts: 2 })),
  );
  t.equal(result?.code, 'payload_too_large');
});

t.test('files limit', async (t) => {
  const settings = settingsWith({ max_files: 2 });
  const file = (field: string): FormEntry => ({
    field,
    file: PDF,
    name: 'a.pdf',
    type: 'application/pdf',
  });
  const atLimit = await formBody([file('a'), file('b'), { field: 'c', value: 'v' }]);
  const passed = await checkMultipart(atLimit.body, atLimit.contentType, settings);
  t.ok(passed.ok, reasonOf(passed));
  const over = await formBody([file('a'), file('b'), file('c')]);
  const result = rejection(await checkMultipart(over.body, over.contentType, settings));
  t.equal(result?.code, 'payload_too_large');
  t.equal(result?.detail, 'The form has more than 2 files. Send at most 2 files at once.');
});

t.test('file size limit', async (t) => {
  const settings = settingsWith({ max_file_bytes: '16B' });
  const atLimit = await checkUpload(Buffer.from('x'.repeat(16)), 'a.txt', 'text/plain', settings);
  t.ok(atLimit.ok, reasonOf(atLimit));
  const over = rejection(
    await checkUpload(Buffer.from('x'.repeat(17)), `${SECRET}.txt`, 'text/plain', settings),
  );
  t.equal(over?.code, 'payload_too_large');
  t.equal(over?.detail, 'Part 1 is a file larger than 16 bytes. Send files of at most 16 bytes.');
});

t.test('large file read in many chunks', async (t) => {
  // Larger than busboy's stream buffers, so the file arrives in many chunks with backpressure.
  const large = Buffer.concat([PDF, Buffer.alloc(3 * 1024 * 1024, 0x20)]);
  const accepted = await checkUpload(large, 'big.pdf', 'application/pdf');
  t.ok(accepted.ok, reasonOf(accepted));
  if (accepted.ok) t.equal(accepted.files[0]!.bytes, large.length);
  const settings = settingsWith({ max_file_bytes: '2MiB' });
  const rejected = rejection(await checkUpload(large, 'big.pdf', 'application/pdf', settings));
  t.equal(rejected?.code, 'payload_too_large');
});

t.test('field size limit', async (t) => {
  const settings = settingsWith({ max_field_bytes: '8B' });
  const atLimit = await formBody([{ field: 'q', value: '12345678' }]);
  t.ok((await checkMultipart(atLimit.body, atLimit.contentType, settings)).ok, '8 bytes pass');
  const over = await formBody([
    { field: 'q', value: 'ok' },
    { field: 'q', value: 'secret-value' },
  ]);
  const result = rejection(await checkMultipart(over.body, over.contentType, settings));
  t.equal(result?.code, 'payload_too_large');
  t.equal(
    result?.detail,
    'Part 2 is a text field larger than 8 bytes. Send text fields of at most 8 bytes.',
  );
  t.notOk(result?.reason.includes('secret-value'), 'reason omits the value');
});

t.test('field size limit counts bytes', async (t) => {
  // Four two-byte characters are 8 bytes, five are 10.
  const settings = settingsWith({ max_field_bytes: '8B' });
  const atLimit = await formBody([{ field: 'q', value: 'éééé' }]);
  t.ok((await checkMultipart(atLimit.body, atLimit.contentType, settings)).ok, '8 bytes pass');
  const over = await formBody([{ field: 'q', value: 'ééééé' }]);
  t.equal(
    rejection(await checkMultipart(over.body, over.contentType, settings))?.code,
    'payload_too_large',
  );
});

// --- Malformed bodies ---

const VALID = rawBody([{ headers: ['Content-Disposition: form-data; name="q"'], content: 'v' }]);

const MALFORMED: { title: string; body: Buffer; contentType: string }[] = [
  { title: 'no boundary', body: VALID, contentType: 'multipart/form-data' },
  { title: 'empty boundary', body: VALID, contentType: 'multipart/form-data; boundary=""' },
  { title: 'other boundary', body: VALID, contentType: 'multipart/form-data; boundary=other' },
  {
    title: 'urlencoded type',
    body: Buffer.from('a=b'),
    contentType: 'application/x-www-form-urlencoded',
  },
  { title: 'JSON type', body: Buffer.from('{}'), contentType: 'application/json' },
  { title: 'empty content type', body: VALID, contentType: '' },
  { title: 'malformed content type', body: VALID, contentType: 'multipart/form-data; boundary' },
  { title: 'empty body', body: Buffer.alloc(0), contentType: MULTIPART },
  { title: 'garbage body', body: Buffer.from('garbage\r\n\r\n'), contentType: MULTIPART },
  { title: 'truncated body', body: VALID.subarray(0, VALID.length - 12), contentType: MULTIPART },
  {
    title: 'body cut inside a file',
    body: rawBody([rawFile('filename="a.pdf"', 'application/pdf', PDF)]).subarray(0, 120),
    contentType: MULTIPART,
  },
  {
    title: 'header without colon',
    body: rawBody([
      { headers: ['Content-Disposition: form-data; name="q"', 'junk'], content: 'v' },
    ]),
    contentType: MULTIPART,
  },
  {
    title: 'control character in a header',
    body: rawBody([rawFile('filename="a\x01.txt"', 'text/plain', 'x')]),
    contentType: MULTIPART,
  },
  {
    title: 'part without a name',
    body: rawBody([{ headers: ['Content-Disposition: form-data'], content: 'v' }]),
    contentType: MULTIPART,
  },
  {
    title: 'file without a field name',
    body: rawBody([
      {
        headers: ['Content-Disposition: form-data; filename="a.txt"', 'Content-Type: text/plain'],
        content: 'v',
      },
    ]),
    contentType: MULTIPART,
  },
  {
    title: 'base64 transfer encoding',
    body: rawBody([
      {
        headers: [
          'Content-Disposition: form-data; name="doc"; filename="a.txt"',
          'Content-Type: text/plain',
          'Content-Transfer-Encoding: base64',
        ],
        content: ELF.toString('base64'),
      },
    ]),
    contentType: MULTIPART,
  },
];

for (const sample of MALFORMED) {
  t.test(`invalid body: ${sample.title}`, async (t) => {
    const result = rejection(await checkMultipart(sample.body, sample.contentType, DEFAULTS));
    t.equal(result?.code, 'invalid_body', result?.reason ?? 'accepted');
    t.ok(result?.detail.length, 'has a detail');
  });
}

t.test('identity transfer encodings pass', async (t) => {
  for (const encoding of ['7bit', '8bit', 'binary']) {
    const body = rawBody([
      {
        headers: [
          'Content-Disposition: form-data; name="q"',
          `Content-Transfer-Encoding: ${encoding}`,
        ],
        content: 'v',
      },
    ]);
    const result = await checkMultipart(body, MULTIPART, DEFAULTS);
    t.ok(result.ok, `${encoding}: ${reasonOf(result)}`);
  }
});

// --- Properties ---

const HANG_LIMIT_MS = 2_000;

/** Runs checkMultipart and fails if it throws, rejects or takes longer than HANG_LIMIT_MS. */
async function checkWithinLimit(body: Buffer, contentType: string): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'hung'>((resolve) => {
    timer = setTimeout(() => resolve('hung'), HANG_LIMIT_MS);
  });
  const settings = settingsWith({ max_parts: 5, max_file_bytes: '1KiB', max_field_bytes: '256B' });
  const outcome = await Promise.race([checkMultipart(body, contentType, settings), timeout]);
  clearTimeout(timer);
  if (outcome === 'hung') throw new Error('checkMultipart did not settle');
  return typeof outcome.ok === 'boolean';
}

const CONTENT_TYPES = fc.oneof(
  fc.constantFrom(MULTIPART, 'multipart/form-data; boundary=b', 'multipart/form-data', ''),
  fc.string({ maxLength: 80 }),
  fc.string({ maxLength: 80 }).map((boundary) => `multipart/form-data; boundary=${boundary}`),
);

t.test('never throws or hangs on arbitrary bytes', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), CONTENT_TYPES, (bytes, contentType) =>
      checkWithinLimit(Buffer.from(bytes), contentType),
    ),
    { numRuns: 300 },
  );
  t.pass('every input settled');
});

/** Valid framing around arbitrary header parameters and content, so that parsing goes deep. */
const NEAR_VALID_BODY = fc
  .array(
    fc.record({
      parameters: fc.string({ maxLength: 40 }),
      type: fc.constantFrom('text/plain', 'application/pdf', 'image/png', 'application/json'),
      content: fc.oneof(
        fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
        fc.constantFrom(PDF, PNG, ELF, SHEBANG, DOCX_FILE),
      ),
    }),
    { maxLength: 6 },
  )
  .map((parts) =>
    rawBody(parts.map((part) => rawFile(Buffer.from(part.parameters), part.type, part.content))),
  );

t.test('never throws or hangs on near-valid bodies', async (t) => {
  await fc.assert(
    fc.asyncProperty(NEAR_VALID_BODY, (body) => checkWithinLimit(body, MULTIPART)),
    { numRuns: 300 },
  );
  t.pass('every input settled');
});
