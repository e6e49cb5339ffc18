"""Issue text as safe, readable HTML for the labeling panel.

Issue bodies and comments are untrusted text from strangers. Markdown is rendered with raw HTML
disabled (so `<script>` shows as text), then the result goes through nh3 (Ammonia) with a short
list of allowed tags and only http(s)/mailto links, so nothing in it can run in the annotator's
browser. Fields we place ourselves (title, labels, logins) are escaped, never parsed.

Nothing an issue holds is hidden from the annotator without saying so: Markdown nested too deeply
to render (markdown-it silently drops everything after such a block) is shown as plain text,
and a thread of more than MAX_COMMENTS comments shows the first and last ones and says how many
more there are on GitHub.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

import nh3
from markdown_it import MarkdownIt

from classifier.labeling.store import Comment, IssueView
from taxonomy import Taxonomy

ALLOWED_TAGS = {
    "a", "p", "br", "hr", "em", "strong", "del", "code", "pre", "blockquote",
    "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"style"}, "td": {"style"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}

# Past this depth markdown-it stops parsing and drops the rest of the text; below it, the
# recursion of nested blocks stays far from Python's limit.
MAX_NESTING = 100
# Beyond this many comments a thread is folded to its first and last ones: thousands of
# comments took 8 s and 1.8 MB of HTML to render.
MAX_COMMENTS = 60

_markdown = MarkdownIt(
    "commonmark", {"html": False, "breaks": True, "maxNesting": MAX_NESTING}
).enable(["table", "strikethrough"])


def _image_as_link(renderer, tokens, index, options, env) -> str:
    # Remote images would load from third-party hosts in the annotator's browser; link them.
    token = tokens[index]
    source = escape(token.attrGet("src") or "", quote=True)
    alt = escape(token.content or "image")
    return f'<a href="{source}">[image: {alt}]</a>'


_markdown.add_render_rule("image", _image_as_link)


def _plain(text: str) -> str:
    return (
        '<p class="mli-meta">nested too deeply to render as Markdown; shown as plain text</p>'
        f"<pre>{escape(text)}</pre>"
    )


def markdown_html(text: str) -> str:
    """Untrusted Markdown as sanitized HTML (as plain text when nested too deeply to render)."""
    try:
        tokens = _markdown.parse(text or "")
    except RecursionError:
        return _plain(text)
    # A token at the last level means the parser may have stopped there, dropping the rest.
    if any(token.level >= MAX_NESTING - 1 for token in tokens):
        return _plain(text)
    return nh3.clean(
        _markdown.renderer.render(tokens, _markdown.options, {}),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        set_tag_attribute_values={"a": {"target": "_blank"}},
        filter_style_properties={"text-align"},
    )


STYLE = """
<style>
.mli-issue { font-size: 14px; line-height: 1.45; max-height: 62vh; overflow-y: auto;
  border: 1px solid #d0d7de; border-radius: 6px; padding: 10px 14px; background: #fff; }
.mli-meta { color: #57606a; font-size: 12px; }
.mli-title { margin: 4px 0 6px; font-size: 18px; }
.mli-label { display: inline-block; background: #ddf4ff; color: #0550ae; border-radius: 10px;
  padding: 0 8px; margin: 0 4px 4px 0; font-size: 12px; }
.mli-issue pre { background: #f6f8fa; padding: 8px; overflow-x: auto; max-height: 22em;
  white-space: pre; font-size: 12px; border-radius: 4px; }
.mli-issue code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
.mli-issue table { border-collapse: collapse; margin: 6px 0; }
.mli-issue th, .mli-issue td { border: 1px solid #d0d7de; padding: 2px 8px; }
.mli-comment { border-top: 1px solid #d8dee4; margin-top: 8px; padding-top: 4px; }
.mli-issue details > summary { cursor: pointer; color: #0969da; margin: 8px 0; }
.mli-defs td { vertical-align: top; padding: 2px 6px; font-size: 12px; }
.mli-defs .mli-key { font-family: monospace; font-weight: bold; }
</style>
"""


def _meta(login: str | None, when) -> str:
    who = escape(login or "unknown")
    return f'<div class="mli-meta">{who} · {when:%Y-%m-%d}</div>'


def comment_html(comment: Comment) -> str:
    return (
        f'<div class="mli-comment">{_meta(comment.user_login, comment.created_at)}'
        f"{markdown_html(comment.body)}</div>"
    )


def thread_html(
    comments: Sequence[Comment],
    head: int = 2,
    tail: int = 1,
    limit: int = MAX_COMMENTS,
    url: str | None = None,
) -> str:
    """The comments, the middle of a long thread folded into <details>; of a thread longer
    than `limit`, the first and last `limit` // 2 only, with the count of the rest and a link
    (`url`) to read them."""
    if not comments:
        return '<p class="mli-meta">no comments stored</p>'
    if len(comments) <= head + tail + 1:
        return "".join(map(comment_html, comments))
    first, last = comments[:head], comments[len(comments) - tail :]
    middle = comments[head : len(comments) - tail]
    if len(comments) <= limit:
        shown, left_out, after = middle, 0, []
    else:
        shown = middle[: limit // 2 - head]
        after = middle[len(middle) - (limit - limit // 2 - tail) :]
        left_out = len(middle) - len(shown) - len(after)
    link = f'<a href="{escape(url or "", quote=True)}" target="_blank" rel="noopener noreferrer">'
    where = f" at {link}GitHub</a>" if url else ""
    note = (
        f'<p class="mli-meta"><b>{left_out:,} more comments are not shown here</b>; '
        f"read them{where}</p>"
        if left_out
        else ""
    )
    return (
        "".join(map(comment_html, first))
        + f"<details><summary>{len(middle):,} more comments</summary>"
        + "".join(map(comment_html, shown))
        + note
        + "".join(map(comment_html, after))
        + "</details>"
        + "".join(map(comment_html, last))
    )


def issue_html(issue: IssueView, head: int = 2, tail: int = 1) -> str:
    """One issue: repository, number, state, title, labels, body and comments."""
    labels = "".join(f'<span class="mli-label">{escape(name)}</span>' for name in issue.labels)
    link = escape(issue.url, quote=True)
    return (
        f'{STYLE}<div class="mli-issue">'
        f'<div class="mli-meta">{escape(issue.repository)} '
        f'<a href="{link}" target="_blank" rel="noopener noreferrer">#{issue.number}</a>'
        f" · {escape(issue.state)} · opened by {escape(issue.user_login or 'unknown')}"
        f" on {issue.created_at:%Y-%m-%d}</div>"
        f'<h3 class="mli-title">{escape(issue.title)}</h3>'
        f"<div>{labels}</div>"
        f"{markdown_html(issue.body) or '<p class=mli-meta>no description</p>'}"
        f"<h4>{len(issue.comments)} comments</h4>"
        f"{thread_html(issue.comments, head, tail, url=issue.url)}</div>"
    )


def definitions_html(taxonomy: Taxonomy, keys: Mapping[str, str]) -> str:
    """The taxonomy at hand: key, code, name, definition, what it includes and excludes."""
    rows = []
    for category in taxonomy.categories:
        notes = "".join(f"<br>+ {escape(item)}" for item in category.include) + "".join(
            f"<br>− {escape(item)}" for item in category.exclude
        )
        rows.append(
            f'<tr><td class="mli-key">{escape(keys.get(category.code, ""))}</td>'
            f"<td><b>{escape(category.code)}</b></td><td>{escape(category.name)}</td>"
            f"<td>{escape(category.definition)}{notes}</td></tr>"
        )
    rules = "".join(f"<li>{escape(rule)}</li>" for rule in taxonomy.rules)
    return (
        f"{STYLE}<ul>{rules}</ul>"
        f'<table class="mli-defs"><tr><th>key</th><th>code</th><th>name</th>'
        f"<th>definition (+ includes, − excludes)</th></tr>{''.join(rows)}</table>"
    )
