// What a file is, judged by its first bytes (its "magic number"), never by its name or the
// content type the client declared. Only PDF, JPEG and PNG are accepted as evidence.

export type FileType = { contentType: 'application/pdf' | 'image/jpeg' | 'image/png'; extension: 'pdf' | 'jpg' | 'png' };

const SIGNATURES: { bytes: number[]; type: FileType }[] = [
  { bytes: [0x25, 0x50, 0x44, 0x46, 0x2d], type: { contentType: 'application/pdf', extension: 'pdf' } }, // %PDF-
  { bytes: [0xff, 0xd8, 0xff], type: { contentType: 'image/jpeg', extension: 'jpg' } },
  { bytes: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], type: { contentType: 'image/png', extension: 'png' } },
];

/** Bytes needed to recognise every accepted type. */
export const SNIFF_BYTES = Math.max(...SIGNATURES.map((s) => s.bytes.length));

/** The accepted type the bytes start with, or null (executables, archives, HTML, anything else). */
export function sniff(head: Buffer): FileType | null {
  for (const { bytes, type } of SIGNATURES) {
    if (head.length >= bytes.length && bytes.every((b, i) => head[i] === b)) return type;
  }
  return null;
}

/** The accepted type of a stored content type (PDF for anything unknown, which the upload never stores). */
export function fileTypeOf(contentType: string): FileType {
  return SIGNATURES.find((s) => s.type.contentType === contentType)?.type ?? SIGNATURES[0]!.type;
}

/**
 * A file name safe to show and to put in a Content-Disposition header: no path, no
 * control or quoting characters, at most 120 characters, with the extension of the type
 * the content really is (a PNG uploaded as `receipt.pdf` is served as `receipt.png`).
 */
export function safeFilename(given: string | null | undefined, type: FileType, fallback: string): string {
  const base = (given ?? '').split(/[/\\]/).pop() ?? '';
  const cleaned = base
    .replace(/[^\p{L}\p{N} ._()-]/gu, '_')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^\.+/, '');
  const stem = cleaned.replace(/\.[A-Za-z0-9]{1,5}$/, '').slice(0, 110) || fallback;
  return `${stem}.${type.extension}`;
}
