"""Check the Chinese catalogues: ``python tools/po_check.py [--fix-glue] [--fix-percent] [FILE.po ...]``.

Each problem is printed with its file and message; the exit status is 1 if there is any.
``tests/test_translations.py`` runs the same checks. A message fails when

- it is untranslated or fuzzy;
- its markup differs from the English: every role (``{doc}`...```, ``{cite:p}`...```),
  inline code, inline math and link target must come back unchanged, except that
  ``{glue:text}`` takes the cross-document form (below) and ``{term}`` names the Chinese
  glossary entry;
- a glued number is not in the cross-document form ``{glue:text}`PAGE.ipynb::key:fmt```
  (MyST-NB looks up a translated role's plain key in no document; ``fmt`` is the English
  format, or ``s`` where it has none). ``--fix-glue`` rewrites plain keys into this form;
- the English uses a glossary term and the Chinese does not use the glossary's Chinese term;
- the English quotes a Chinese sentence of the source and the Chinese does not quote it as
  it stands (quotation marks aside);
- its emphasis would not render (a ``*`` next to Chinese punctuation stays a star);
- a glued count is followed by an English-style unit (十亿, 百万, × 10⁹): Chinese counts in
  万 and 亿 (``bigmodel.book.glue_count`` glues that form as ``KEY_zh``);
- a number (or a glued number) is followed by a space and ``%`` outside code and maths:
  Chinese sets ``25%``. ``--fix-percent`` removes those spaces, and those of the next rule;
- its Chinese emphasis is italic, spaced from the Chinese around it, or a bold lead-in keeps
  its stop inside (``**回答。** 没错``): Chinese sets ``**回答**。没错``;
- it writes ``logits`` (Chinese has no plural: ``logit``) or ``幅`` as the measure word for
  an image (the book's is ``张``). ``--fix-typesetting`` (alias ``--fix-percent``) fixes these;
- a page keeps an English word of :data:`GLOSSED_AT_FIRST_USE` (rank, world size) and
  does not gloss it in Chinese where it first uses it;
- it ends a sentence twice (``需求。”（§9.5）。``);
- a space stands between Chinese and a ``{doc}``, ``{ref}`` or ``{term}`` role whose text
  is Chinese where they meet (a page's Chinese title, from its catalogue);
- it starts like a Markdown list, quote or heading (``1. ``, ``- ``, ``> ``, ``# ``):
  parsed on its own it would change type, and Sphinx would keep the English;
- it is still English: a translation with three or more Latin words that start in lower
  case must be at least half Chinese, counting one per Chinese character and one per such
  word (outside code, math and roles; names such as PyTorch or Hinton start in upper case
  and do not count). A message that must stay English says why in a translator comment
  starting ``keep English:``.
"""

from __future__ import annotations

import argparse
import collections
import functools
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import polib
from markdown_it import MarkdownIt  # MyST's own Markdown parser

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = ROOT / "locales" / "zh_CN" / "LC_MESSAGES"
GLOSSARY = ROOT / "book" / "glossary.md"
KEEP_ENGLISH = "keep English:"

GLUE = re.compile(r"\{glue:text\}`([^`]+)`")
# a glued number followed by an English-style unit: "174.6 十亿", "2.9 百万", "1.17 × 10⁹"
ENGLISH_UNIT_AFTER_GLUE = re.compile(r"\{glue:text\}`[^`]+`\s*(十亿|百万|×\s*10[⁰¹²³⁴⁵⁶⁷⁸⁹]+)")
# a space between a number (or a glued number's role) and "%": Chinese sets 25%, tight
SPACE_BEFORE_PERCENT = re.compile(r"(?<=[\d`])[ \u00a0]+(?=%)")
# a space between Chinese and a {doc}/{ref}/{term} role: the role renders as Chinese text
CJK_OR_PUNCT = r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff01-\uff5e]"
TEXT_ROLE = r"\{(?:doc|ref|term)\}`[^`]*`"
SPACE_BEFORE_ROLE = re.compile(rf"({CJK_OR_PUNCT})[ \u00a0]+({TEXT_ROLE})")
SPACE_AFTER_ROLE = re.compile(rf"({TEXT_ROLE})[ \u00a0]+({CJK_OR_PUNCT})")
# emphasis (in a message whose code, maths and roles are blanked out)
ITALIC = re.compile(r"(?<![*A-Za-z0-9_])\*(?![\s*])([^*\n]+?)(?<![\s*])\*(?![*A-Za-z0-9_])")
BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
LEAD_IN_STOPS = "。：；！？，"
CJK_OR_PUNCT_RE = re.compile(CJK_OR_PUNCT)
# Chinese has no plural: English words the Chinese prose keeps take their singular form
CHINESE_SINGULAR = {"logits": "logit"}
# the measure word for an image (d2l-zh's: 10,000 张图像); 幅 stays in 步幅, 降幅, 幅度, 幅值
IMAGE_MEASURE_FU = re.compile(r"(?<![步降振增涨])幅(?![度值面])")
# two sentence stops in a row, around a closing quote or a parenthesis: "需求。”（§9.5）。"
DOUBLE_STOP = re.compile(r"[。！？][”』」]?(?:（[^（）]*）)?[。！？]")
# English words the Chinese prose keeps, which a page glosses in Chinese where it first
# uses them: "world size（参与训练的进程总数）"
GLOSSED_AT_FIRST_USE = ("rank", "world size")
# roles first (their backticks are not code), then code and maths, where spaces stay
VERBATIM = re.compile(r"(\{[a-z:]+\}`[^`]*`)|``.+?``|`[^`]+`|\$\$.+?\$\$|\$[^$]+\$", re.S)
# roles, double- and single-backtick code, display and inline math, link targets
TOKEN = re.compile(
    r"\{[a-z:]+\}`[^`]*`|``.+?``|`[^`]+`|\$\$.+?\$\$|\$[^$]+\$|\]\([^)\s]+\)|<https?://[^>]+>",
    re.S,
)
_MARKDOWN = MarkdownIt("commonmark")
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# a Latin word that starts in lower case: English prose is full of them ("the", "of",
# "is"); the names that Chinese prose keeps in Latin script (PyTorch, GPT-3, Hinton) are not
LATIN_WORD = re.compile(r"(?<![A-Za-z])[a-z][A-Za-z]*")


@dataclass(frozen=True)
class Problem:
    file: str
    msgid: str
    what: str

    def __str__(self) -> str:
        short = self.msgid if len(self.msgid) < 90 else self.msgid[:87] + "..."
        return f"{self.file}: {self.what}\n    msgid: {short!r}"


def page_of(po: Path) -> str:
    """The source file of a catalogue's page, as a glue role names it (``01_x.ipynb``)."""
    stem = po.stem
    for suffix in (".ipynb", ".md"):
        if (ROOT / "book" / (stem + suffix)).exists():
            return stem + suffix
    return stem + ".md"


def split_glue(text: str) -> tuple[str | None, str, str]:
    """``(page or None, key, fmt)`` of a glue role's text; ``fmt`` is ``s`` when absent."""
    page = None
    if "::" in text:
        page, text = text.split("::", 1)
    key, fmt = text.rsplit(":", 1) if ":" in text else (text, "s")
    return page, key, fmt


def fix_glue(msgstr: str, page: str) -> str:
    """Rewrite plain glue keys in a translation into the cross-document form."""

    def repl(m: re.Match) -> str:
        found, key, fmt = split_glue(m.group(1))
        return f"{{glue:text}}`{found or page}::{key}:{fmt}`"

    return GLUE.sub(repl, msgstr)


def spaced_percents(msgstr: str) -> list[re.Match]:
    """The spaces before a ``%`` that follow a number or a glued number, outside code and
    maths (``25 %`` is English typesetting; Chinese writes ``25%``)."""
    verbatim = [m.span() for m in VERBATIM.finditer(msgstr) if not m.group(1)]
    return [m for m in SPACE_BEFORE_PERCENT.finditer(msgstr)
            if not any(a <= m.start() < b for a, b in verbatim)]


def fix_percent(msgstr: str) -> str:
    """``msgstr`` with the spaces of :func:`spaced_percents` removed."""
    for m in reversed(spaced_percents(msgstr)):
        msgstr = msgstr[: m.start()] + msgstr[m.end():]
    return msgstr


@functools.cache
def chinese_titles() -> dict[str, str]:
    """``{"04_mnist_practice": "MNIST 实战", ...}``: each page's Chinese title, from its
    catalogue (the translation of the English page's first ``# `` heading)."""
    titles = {}
    for po in catalogues():
        source = next((f for f in (ROOT / "book" / "md" / f"{po.stem}.md", ROOT / "book" / f"{po.stem}.md")
                       if f.exists()), None)
        heading = next((line[2:].strip() for line in source.read_text(encoding="utf-8").splitlines()
                        if line.startswith("# ")), None) if source else None
        entry = polib.pofile(str(po)).find(heading) if heading else None
        if entry and entry.msgstr:
            titles[po.stem] = entry.msgstr
    return titles


def role_text(role: str) -> str:
    """What a ``{doc}``, ``{ref}`` or ``{term}`` role shows on the Chinese page, as far as
    the catalogues tell: an explicit title, a page's Chinese title, or the term itself."""
    kind, text = re.fullmatch(r"\{(\w+)\}`([^`]*)`", role).groups()
    if "<" in text:
        return text.split("<")[0].strip()
    if kind == "doc":
        return chinese_titles().get(text.split("/")[-1], text)
    return text


def _tighten_roles(msgstr: str) -> tuple[str, int]:
    """``msgstr`` without the spaces between Chinese and a role whose text is Chinese where
    they meet, and how many there were."""
    n = 0

    def before(m: re.Match) -> str:
        nonlocal n
        if CJK.match(role_text(m.group(2))[:1]):
            n += 1
            return m.group(1) + m.group(2)
        return m.group(0)

    def after(m: re.Match) -> str:
        nonlocal n
        if CJK.match(role_text(m.group(1))[-1:]):
            n += 1
            return m.group(1) + m.group(2)
        return m.group(0)

    return SPACE_AFTER_ROLE.sub(after, SPACE_BEFORE_ROLE.sub(before, msgstr)), n


def spaced_roles(msgstr: str) -> int:
    """How many spaces stand between Chinese and a role that shows Chinese there:
    "挑战一章 实测大模型的挑战 会" for "挑战一章 {doc}`10_challenges` 会"."""
    return _tighten_roles(msgstr)[1]


def fix_role_spaces(msgstr: str) -> str:
    """``msgstr`` without the spaces :func:`spaced_roles` counts."""
    return _tighten_roles(msgstr)[0]


def _masked(msgstr: str) -> str:
    """``msgstr`` with code, maths and roles blanked out (same length), so that a ``*`` or
    a word inside them is not read as prose."""
    return VERBATIM.sub(lambda m: "\0" * len(m.group(0)), msgstr)


def fix_emphasis(msgstr: str) -> str:
    """Chinese emphasis as a Chinese typesetter sets it: bold, not italic (``*温度*`` becomes
    ``**温度**``; Latin titles such as ``*Deep Learning with Python*`` stay italic); no
    spaces between the bold and the Chinese around it; a lead-in's stop outside the bold
    (``**回答。** 没错`` becomes ``**回答**。没错``)."""
    masked = _masked(msgstr)
    for m in reversed(list(ITALIC.finditer(masked))):
        if CJK.search(m.group(1)):
            a, b = m.span()
            msgstr = msgstr[:a] + "**" + msgstr[a + 1:b - 1] + "**" + msgstr[b:]
    masked = _masked(msgstr)
    for m in reversed(list(BOLD.finditer(masked))):
        inner = msgstr[m.start(1):m.end(1)]
        if not CJK.search(inner) and inner[-1:] not in LEAD_IN_STOPS:
            continue
        tail = ""
        while inner and inner[-1] in LEAD_IN_STOPS:
            tail, inner = inner[-1] + tail, inner[:-1]
        after = msgstr[m.end():]
        if tail or CJK_OR_PUNCT_RE.match(after.lstrip(" ")[:1]):
            after = after.lstrip(" ")
        before = msgstr[:m.start()]
        if CJK_OR_PUNCT_RE.match(before.rstrip(" ")[-1:]) and CJK.match(inner[:1]):
            before = before.rstrip(" ")
        msgstr = f"{before}**{inner}**{tail}{after}"
    return msgstr


def fix_words(msgstr: str) -> str:
    """``msgstr`` with the words :data:`CHINESE_SINGULAR` names in their singular and the
    measure word 幅 for images set as 张, in prose (code and maths keep theirs)."""
    out, last = [], 0
    for m in list(VERBATIM.finditer(msgstr)) + [None]:
        a, b = m.span() if m else (len(msgstr), len(msgstr))
        text = IMAGE_MEASURE_FU.sub("张", msgstr[last:a])
        for plural, singular in CHINESE_SINGULAR.items():
            text = re.sub(rf"(?<![\w-]){plural}(?![\w-])", singular, text)
        out += [text, msgstr[a:b]]
        last = b
    return "".join(out)


def glossary_terms(path: Path = GLOSSARY) -> list[tuple[str, str]]:
    """``(english, chinese)`` for every glossary entry that has a Chinese term."""
    text = path.read_text(encoding="utf-8")
    block = text.split("```{glossary}", 1)[1].split("```", 1)[0]
    terms = []
    for line in block.splitlines():
        m = re.fullmatch(r"(\S.*?) \((.+)\)", line.rstrip())
        if m and not line.startswith(" "):
            terms.append((m.group(1), m.group(2)))
    return terms


def term_pattern(english: str) -> re.Pattern:
    """The English term, its plural, and British -ise spellings, as whole words."""
    body = re.escape(english).replace("iz", "i[sz]")
    return re.compile(rf"(?<![\w-]){body}(s|es)?(?![\w-])", re.I)


def tokens(text: str) -> collections.Counter:
    """The markup a translation must keep: roles, code, math and link targets."""
    out = collections.Counter()
    for tok in TOKEN.findall(text):
        if tok.startswith("{glue:text}"):
            _, key, fmt = split_glue(tok[len("{glue:text}`"):-1])
            tok = f"glue {key}:{fmt}"
        elif tok.startswith("{term}"):
            tok = "{term}"
        out[tok] += 1
    return out


def zh_variants(got: collections.Counter, want: collections.Counter) -> collections.Counter:
    """``got`` with each glued ``KEY_zh`` (the Chinese-unit form of a count,
    :func:`bigmodel.book.glue_count`) counted as the English role of ``KEY`` it stands for."""
    out = collections.Counter()
    for tok, n in got.items():
        m = re.fullmatch(r"glue (\w+)_zh:s", tok)
        partner = [w for w in want if m and w.startswith(f"glue {m.group(1)}:")]
        out[partner[0] if partner else tok] += n
    return out


def source_quotes(msgid: str) -> list[str]:
    """The Chinese sentences the English quotes (in ASCII double quotes) from the source."""
    out = []
    for q in re.findall(r'"([^"]+)"', msgid):
        if len(CJK.findall(q)) >= 4 and chinese_share(q)[0] >= 0.8:
            out.append(q)
    return out


def _quote_marks(text: str) -> str:
    """Quotation marks made alike: a nested quote may be “...” or ‘...’ or "..."."""
    return re.sub("[\"“”‘’「」『』]", '"', text)


def rendered_text(text: str) -> str:
    """The text CommonMark shows for ``text`` (code and maths left out)."""
    # maths becomes one "$": a punctuation character, as the "$" beside a "*" is to MyST
    html = _MARKDOWN.renderInline(re.sub(r"\$\$.+?\$\$|\$[^$]+\$", "$", text, flags=re.S))
    return re.sub(r"<[^>]+>", "", re.sub(r"<code>.*?</code>", "", html))


def prose(text: str) -> str:
    return TOKEN.sub(" ", text)


def chinese_share(text: str) -> tuple[float, int]:
    """``(share, words)``: Chinese characters / (Chinese characters + lower-case Latin words)."""
    plain = prose(text)
    cjk, words = len(CJK.findall(plain)), len(LATIN_WORD.findall(plain))
    return (cjk / (cjk + words) if cjk + words else 1.0), words


def check_entry(entry: polib.POEntry, page: str,
                terms: list[tuple[str, str]]) -> list[str]:
    """What is wrong with one translated message (empty if nothing)."""
    if not entry.msgstr:
        return ["untranslated"]
    if entry.fuzzy:
        return ["fuzzy: the English changed; check the translation and remove the flag"]
    problems = []
    for m in GLUE.finditer(entry.msgstr):
        found, key, fmt = split_glue(m.group(1))
        if found != page:
            problems.append(f"glue role {m.group(0)} must read "
                            f"{{glue:text}}`{page}::{key}:{fmt}` (run --fix-glue)")
    if re.match(r"(\d+\.|[-*+>]|#+) ", entry.msgstr):
        # parsed on its own, it would become a list, quote or heading, and Sphinx would
        # silently keep the English: escape it (1\. ...)
        problems.append(f"starts like a Markdown block: escape it ({entry.msgstr[:12]!r})")
    if "*" in rendered_text(entry.msgstr) and "*" not in rendered_text(entry.msgid):
        # CommonMark closes `*` or `**` only where the delimiter "flanks" its text: after a
        # Chinese full stop or quote and before a Chinese character it stays a star
        problems.append("emphasis that does not render: a `*` would show (move it inside "
                        "the Chinese punctuation, e.g. “*原文*”)")
    for quote in source_quotes(entry.msgid):
        if _quote_marks(quote) not in _quote_marks(entry.msgstr):
            problems.append(f"the source's sentence is not quoted as it stands: {quote[:40]!r}")
    want, got = tokens(entry.msgid), zh_variants(tokens(entry.msgstr), tokens(entry.msgid))
    if want != got:
        missing, extra = want - got, got - want
        problems.append(f"markup differs from the English: missing {sorted(missing)}, "
                        f"extra {sorted(extra)}")
    if spaced_roles(entry.msgstr):
        problems.append("a space between Chinese and a {doc}/{ref}/{term} role that renders "
                        "Chinese (run --fix-percent)")
    if fix_emphasis(entry.msgstr) != entry.msgstr:
        problems.append("emphasis set the English way: Chinese emphasis is bold, not italic, "
                        "with no spaces around it and a lead-in's stop outside it "
                        "(**回答**。没错; run --fix-typesetting)")
    if fix_words(entry.msgstr) != entry.msgstr:
        problems.append("a plural the Chinese does not use (logits: logit) or 幅 for an image "
                        "(the book's measure word is 张; run --fix-typesetting)")
    for m in DOUBLE_STOP.finditer(prose(entry.msgstr)):
        problems.append(f"two stops in a row ({m.group(0)!r}): end the sentence once")
    if spaced_percents(entry.msgstr):
        problems.append("a space before % (Chinese sets 25%, tight; run --fix-percent)")
    for m in ENGLISH_UNIT_AFTER_GLUE.finditer(entry.msgstr):
        problems.append(f"a glued count in English units ({m.group(0)!r}): Chinese counts in 万 "
                        "and 亿; glue the count with bigmodel.book.glue_count and use KEY_zh")
    english = prose(entry.msgid)
    for en, zh in terms:
        if term_pattern(en).search(english) and zh not in entry.msgstr:
            if not (en.isupper() and en in entry.msgstr):  # acronyms may stay: GPU
                problems.append(f"glossary: the English says {en!r}; use {zh!r}")
    keep = KEEP_ENGLISH.lower() in (entry.tcomment or "").lower()
    share, words = chinese_share(entry.msgstr)
    if words >= 3 and share < 0.5 and not keep:
        problems.append(f"still English? Chinese share {share:.2f} over {words} lower-case words "
                        f"(a translator comment '{KEEP_ENGLISH} why' allows it)")
    return problems


def check_file(po_path: Path, terms: list[tuple[str, str]] | None = None) -> list[Problem]:
    terms = glossary_terms() if terms is None else terms
    po = polib.pofile(str(po_path))
    name = str(po_path.relative_to(ROOT)) if po_path.is_relative_to(ROOT) else str(po_path)
    page = page_of(po_path)
    out = []
    for entry in po:
        if entry.obsolete:
            continue
        out += [Problem(name, entry.msgid, w) for w in check_entry(entry, page, terms)]
    entries = [e for e in po if not e.obsolete and e.msgstr]
    for word in unglossed([e.msgstr for e in entries]):
        first = next(e for e in entries if re.search(rf"(?<![\w-]){word}(?![\w-])", prose(e.msgstr)))
        out.append(Problem(name, first.msgid, f"{word!r} stays English on this page: gloss it "
                           f"where it is first used, {word}（…）"))
    return out


def unglossed(messages: list[str]) -> list[str]:
    """The words of :data:`GLOSSED_AT_FIRST_USE` that the first of ``messages`` (a page's
    translations, in page order) to use them does not gloss: the word must be followed,
    within three characters, by a Chinese parenthesis ``（…）``."""
    out = []
    for word in GLOSSED_AT_FIRST_USE:
        use = re.compile(rf"(?<![\w-]){word}(?![\w-])")
        first = next((prose(m) for m in messages if use.search(prose(m))), None)
        gloss = re.compile(rf"(?<![\w-]){word}[^（\n]{{0,3}}（[^）]*{CJK.pattern}[^）]*）")
        if first is not None and not gloss.search(first):
            out.append(word)
    return out


def catalogues() -> list[Path]:
    return sorted(CATALOGUES.rglob("*.po"))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="tools/po_check.py", description=__doc__.splitlines()[0])
    p.add_argument("files", nargs="*", type=Path, help="default: every catalogue")
    p.add_argument("--fix-glue", action="store_true",
                   help="first rewrite plain glue keys into the cross-document form")
    p.add_argument("--fix-percent", "--fix-typesetting", action="store_true",
                   help="first remove the spaces before %% after numbers, and between "
                   "Chinese and a role that renders Chinese; set emphasis bold and tight; "
                   "logits as logit, 幅 for images as 张")
    args = p.parse_args(argv)
    files = [f.resolve() for f in args.files] or catalogues()
    terms = glossary_terms()
    problems = []
    for f in files:
        if args.fix_glue or args.fix_percent:
            po = polib.pofile(str(f), wrapwidth=0)
            page = page_of(f)
            for entry in po:
                if entry.msgstr and args.fix_glue:
                    entry.msgstr = fix_glue(entry.msgstr, page)
                if entry.msgstr and args.fix_percent:
                    entry.msgstr = fix_words(fix_emphasis(
                        fix_role_spaces(fix_percent(entry.msgstr))))
            po.save()
        problems += check_file(f, terms)
    for problem in problems:
        print(problem)
    n = sum(len([e for e in polib.pofile(str(f)) if not e.obsolete]) for f in files)
    print(f"{len(files)} files, {n} messages, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
