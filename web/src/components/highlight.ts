// A search highlight arrives escaped, its hits wrapped in <em>…</em> (the only markup any
// answer carries). It is split here into text pieces, never parsed as HTML: the page
// renders each piece as text, a hit inside a <mark>.
export interface Piece { text: string; hit: boolean }

const ENTITIES: Record<string, string> = {
  '&lt;': '<', '&gt;': '>', '&amp;': '&', '&quot;': '"', '&#x27;': "'", '&#39;': "'",
}

function unescape(text: string): string {
  return text.replace(/&(lt|gt|amp|quot|#x27|#39);/g, (entity) => ENTITIES[entity] ?? entity)
}

export function pieces(fragment: string): Piece[] {
  const out: Piece[] = []
  fragment.split(/(<em>.*?<\/em>)/s).forEach((part) => {
    if (!part) return
    const hit = part.startsWith('<em>') && part.endsWith('</em>')
    out.push({ text: unescape(hit ? part.slice(4, -5) : part), hit })
  })
  return out
}

/** The words a highlight marks, for finding them again on the page in the viewer. */
export function hitWords(fragment: string): string[] {
  return [...new Set(pieces(fragment).filter((p) => p.hit).map((p) => p.text))]
}
