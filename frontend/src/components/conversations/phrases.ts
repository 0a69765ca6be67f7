// What a canned phrase or a knowledge-base article becomes in a chat's reply box.

/** The phrase with `{客户称呼}` filled by how the customer is addressed (empty when unknown). */
export function fillPhrase(text: string, salutation: string): string {
  return text.replaceAll('{客户称呼}', salutation)
}

/** An article's first paragraph, cut at the last sentence end that fits in `room` characters. */
export function firstParagraph(body: string, room: number): string {
  const first =
    body
      .trim()
      .split(/\n\s*\n|\r?\n/)[0]
      ?.trim() ?? ''
  if (first.length <= room) return first
  const cut = first.slice(0, room)
  const end = Math.max(...['。', '！', '？', '；', '. '].map((mark) => cut.lastIndexOf(mark)))
  return end > 0 ? cut.slice(0, end + 1).trim() : cut
}
