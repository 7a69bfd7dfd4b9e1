"""Finding English sentences in what a page shows (used by tests/browser/conftest.py's `page`)."""

from __future__ import annotations

import re

__all__ = ["ALLOWED", "READ_TEXTS", "SKIP_URLS", "latin_sentences"]

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
WORD = r"[A-Za-z][A-Za-z'’-]*[A-Za-z]"
LATIN_RUN = re.compile(rf"\b{WORD}(?:[ \t]+{WORD})+\b")
# Latin runs that are names, not sentences: products, standards, file types, the test users' own names.
ALLOWED = {"Regwatch", "GraphiQL", "GraphQL", "ECharts", "XGBoost", "ROC-AUC", "PR-AUC", "Excel", "CSV", "JSONL",
           "Internet", "Asia/Shanghai", "UTF-8", "GBK", "GB18030"}
SKIP_URLS = ("/graphql",)

READ_TEXTS = """() => {
  const skip = el => !el || el.closest('code, pre, kbd, samp, script, style, noscript, textarea, svg, canvas, '
                                       + '[data-latin-ok], .graphiql-container, [hidden]');
  const out = [];
  if (!document.body) return out;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let node;
  while ((node = walker.nextNode())) {
    const text = node.textContent.trim();
    if (text && !skip(node.parentElement)) out.push(text);
  }
  for (const el of document.querySelectorAll('[placeholder], [title], [aria-label], [alt]')) {
    if (skip(el)) continue;
    for (const name of ['placeholder', 'title', 'aria-label', 'alt']) {
      const value = el.getAttribute(name);
      if (value) out.push(value.trim());
    }
  }
  if (document.title) out.push(document.title);
  return out;
}"""


def latin_sentences(texts: list[str]) -> list[str]:
    """The texts that carry a run of 2+ Latin words (one of them a lowercase word of 3+ letters) and no Chinese."""
    found = []
    for text in texts:
        for segment in re.split(r"[\n\r]+", text):
            if CJK.search(segment):
                continue
            for run in LATIN_RUN.findall(segment):
                words = run.split()
                if run in ALLOWED or all(w in ALLOWED for w in words):
                    continue
                if any(re.fullmatch(r"[a-z]{3,}", w) for w in words):
                    found.append(segment.strip())
                    break
    return found
