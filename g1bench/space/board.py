"""How the Leaderboard tab draws a table: its columns, cell formatting, links and the HTML (no data logic here).

The tab shows an HTML table rather than a data grid, for what a visitor needs in the first minute: a compact
default (rank, model, overall with its 95% interval, one column per game) with a column picker for the rest;
the rank and model columns pinned while the table scrolls sideways (CSS ``position: sticky``, so the mouse
wheel, a trackpad and a finger all keep them); sorting by a click on a column's header (in the browser, see
:data:`SORT_JS`); model names linking to their Hub page when they are Hub ids and entries to their folder in
the results repo; and, below 640 px, three columns (rank, model, overall) with the other figures on a line
under the model's name.

Every text from an entry is escaped (:func:`g1bench.space.text.h`); links are built here, from a model name
that is a valid Hub id or an entry URL of the Hub store, never taken from an entry as they are.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from .text import h

#: optional columns, as the picker lists them: (key, label)
OPTIONAL_COLUMNS: tuple[tuple[str, str], ...] = (
    ("ci", "95% CI per game"), ("norm", "Normalised per game (0 random, 100 oracle)"),
    ("p_acc", "Perception accuracy"), ("r_acc", "Reasoning accuracy"), ("parse", "Parse failures"),
    ("invalid", "Invalid actions"), ("tokens", "Output tokens per step"), ("latency", "Latency per step"),
    ("cost", "Cost"), ("type", "Model type"), ("date", "Date"), ("entry", "Entry (its files)"),
)
OPTIONAL_KEYS = tuple(k for k, _ in OPTIONAL_COLUMNS)


@dataclass(frozen=True)
class Column:
    """A column of the table: ``key`` names it (``data-col``), ``title`` heads it, ``short`` labels it on the
    line under a model's name on a phone; ``numeric`` columns sort as numbers, the rest as text."""

    key: str
    title: str
    short: str
    numeric: bool = True
    help: str = ""


@dataclass
class Cell:
    """One cell: what it shows (``text``, already HTML), what it sorts by, and a title (hover text)."""

    text: str
    sort: Any = None
    title: str = ""


@dataclass
class Row:
    """One row: its kind (``measured``, ``baseline``, ``reported in the paper`` or any other kind the leaderboard
    lists), the pinned rank and model cells and the other cells by column key."""

    kind: str
    rank: Cell
    model: Cell
    cells: dict[str, Cell] = field(default_factory=dict)


def num(x: Any) -> float | None:
    """A figure rounded for display (None when missing or not finite)."""
    if x is None or isinstance(x, bool):
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(v):
        return None
    return float(round(v)) if abs(v) >= 100 else round(v, 1)


def fmt(x: Any) -> str:
    v = num(x)
    return "–" if v is None else f"{v:g}"


def ci_text(lo: Any, hi: Any) -> str:
    a, b = num(lo), num(hi)
    return "" if a is None or b is None else f"[{a:g}, {b:g}]"


def number_cell(value: Any, lo: Any = None, hi: Any = None, show_ci: bool = False, prefix: str = "",
                title: str = "") -> Cell:
    """A numeric cell: the value, its 95% interval under it when ``show_ci`` (else as the hover text)."""
    ci = ci_text(lo, hi)
    text = f"{prefix}{h(fmt(value))}"
    if ci and show_ci:
        text += f'<span class="g1-ci">{h(ci)}</span>'
    hover = title or (f"95% CI {ci}" if ci else "")
    return Cell(text, num(value), hover)


def pct_cell(x: Any) -> Cell:
    v = None if x is None else num(100 * float(x))
    return Cell("–" if v is None else f"{v:g}%", v)


def text_cell(value: Any, limit: int = 200) -> Cell:
    s = "" if value is None else str(value)
    return Cell(h(s, limit) if s else "–", s.lower())


def link(url: str, text: str) -> str:
    """An external link (``url`` must be built by this module or checked by the caller)."""
    return f'<a href="{h(url, 2000)}" target="_blank" rel="noopener noreferrer nofollow">{text}</a>'


def hub_url(model: str) -> str | None:
    """The model's page on the Hub when ``model`` is a Hub id ``ORG/NAME`` (the Hub this Space talks to)."""
    from ..leaderboard.identity import is_repo_id

    if not isinstance(model, str) or not is_repo_id(model):
        return None
    from huggingface_hub import constants

    return f"{constants.ENDPOINT.rstrip('/')}/{model}"


def entry_link(url: Any, entry_id: Any) -> Cell:
    """The entry's short id, linking to its folder in the results repo when the store is on the Hub (a local
    store's entries have no address a visitor could open: no link, and never its path)."""
    short = str(entry_id or "").rsplit("--", 1)[-1] or "–"
    if isinstance(url, str) and url.startswith(("https://", "http://")) and len(url) < 2000:
        return Cell(link(url, h(short)), short, title=h(str(entry_id), 300))
    return Cell(h(short), short, title=h(str(entry_id), 300))


def model_cell(model: Any, note: str = "") -> Cell:
    name = str(model)
    url = hub_url(name)
    text = link(url, h(name, 200)) if url else h(name, 200)
    return Cell(f'<span class="g1-name">{text}</span>', name.lower(), title=h(note, 400) if note else "")


def render_table(elem: str, columns: list[Column], rows: list[Row], caption: str, empty: str = "",
                 footnote: str = "") -> str:
    """The HTML of a table (or of its empty state, ``empty``, when it has no rows), ``footnote`` under it.

    The rank and model columns are pinned (``g1-pin``); every other column is ``g1-opt`` (hidden below 640 px,
    where the line ``g1-sub`` under the model's name shows its figures instead).
    """
    out = [f'<div class="g1-board" data-table="{h(elem)}">',
           f'<p class="g1-caption" data-count="{len(rows)}">{caption}</p>']
    if not rows:
        out.append(f'<div class="g1-empty" role="status">{empty}</div></div>')
        return "".join(out)
    head = ['<th class="g1-pin g1-rank" scope="col" data-col="rank" aria-sort="none">'
            '<button type="button" data-sort="rank">rank</button></th>',
            '<th class="g1-pin g1-model" scope="col" data-col="model" aria-sort="none">'
            '<button type="button" data-sort="model">model</button></th>']
    for c in columns:
        tip = f' title="{h(c.help, 600)}"' if c.help else ""
        head.append(f'<th class="g1-opt{" g1-lead" if c.key == "overall" else ""}" scope="col" data-col="{h(c.key)}" '
                    f'aria-sort="none"{tip}><button type="button" data-sort="{h(c.key)}">{h(c.title)}</button></th>')
    body = []
    for r in rows:
        sub = " · ".join(f"{h(c.short)} {r.cells[c.key].text}" for c in columns
                         if c.key != "overall" and c.key in r.cells)
        tds = [_td("rank", r.rank, "g1-pin g1-rank", numeric=True),
               _td("model", Cell(r.model.text + (f'<div class="g1-sub">{sub}</div>' if sub else ""), r.model.sort,
                                 r.model.title), "g1-pin g1-model", numeric=False)]
        for c in columns:
            cls = "g1-opt g1-lead" if c.key == "overall" else "g1-opt"
            tds.append(_td(c.key, r.cells.get(c.key, Cell("–")), cls, c.numeric))
        body.append(f'<tr data-kind="{h(r.kind)}">' + "".join(tds) + "</tr>")
    out.append(f'<div class="g1-scroll" tabindex="0"><table id="{h(elem)}-grid"><thead><tr>{"".join(head)}</tr></thead>'
               f'<tbody>{"".join(body)}</tbody></table></div>')
    if footnote:
        out.append(f'<p class="g1-footnote">{footnote}</p>')
    out.append("</div>")
    return "".join(out)


def _td(key: str, cell: Cell, cls: str, numeric: bool) -> str:
    if numeric:
        sort = "" if cell.sort is None else f"{float(cell.sort):.6g}"
    else:
        sort = h(str(cell.sort if cell.sort is not None else ""), 300)
    title = f' title="{cell.title}"' if cell.title else ""
    return f'<td class="{cls}" data-col="{h(key)}" data-v="{sort}"{title}>{cell.text}</td>'


def read_table(html: str) -> dict[str, Any]:
    """What :func:`render_table` drew, read back (for API clients and tests): ``{"count": int from the caption,
    "caption": text, "empty": text or None, "columns": [keys], "rows": [{"kind", <key>: {"text", "ci", "sort",
    "href", "title"}}]}``; a cell's ``text`` leaves out its interval (``ci``) and, for the model, the phone line."""
    from html.parser import HTMLParser

    out: dict[str, Any] = {"count": None, "caption": "", "empty": None, "columns": [], "rows": []}

    class Reader(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.stack: list[str] = []   # what the text being read belongs to: caption, empty, th, cell, ci, sub
            self.cell: dict[str, Any] | None = None

        def handle_starttag(self, tag: str, attrs: list) -> None:
            a = dict(attrs)
            cls = (a.get("class") or "").split()
            if tag == "p" and "g1-caption" in cls:
                out["count"] = int(a.get("data-count", "0"))
                self.stack.append("caption")
            elif tag == "div" and "g1-empty" in cls:
                out["empty"] = ""
                self.stack.append("empty")
            elif tag == "th":
                out["columns"].append(a.get("data-col"))
            elif tag == "tr" and "data-kind" in a:
                out["rows"].append({"kind": a["data-kind"]})
            elif tag == "td":
                self.cell = {"text": "", "ci": "", "sort": a.get("data-v", ""), "href": None, "title": a.get("title", "")}
                out["rows"][-1][a.get("data-col")] = self.cell
                self.stack.append("cell")
            elif tag == "span" and "g1-ci" in cls:
                self.stack.append("ci")
            elif tag == "div" and "g1-sub" in cls:
                self.stack.append("sub")
            elif tag == "a" and self.cell is not None and self.cell["href"] is None and "sub" not in self.stack:
                self.cell["href"] = a.get("href")

        def handle_endtag(self, tag: str) -> None:
            if not self.stack:
                return
            top = self.stack[-1]
            if (tag == "p" and top == "caption") or (tag == "div" and top in ("empty", "sub")) \
                    or (tag == "span" and top == "ci") or (tag == "td" and top == "cell"):
                self.stack.pop()
                if tag == "td":
                    self.cell = None

        def handle_data(self, data: str) -> None:
            if not self.stack:
                return
            top = self.stack[-1]
            if top == "caption":
                out["caption"] += data
            elif top == "empty":
                out["empty"] += data
            elif top == "cell" and self.cell is not None:
                self.cell["text"] += data
            elif top == "ci" and self.cell is not None:
                self.cell["ci"] += data

    Reader().feed(html or "")
    for row in out["rows"]:
        for v in row.values():
            if isinstance(v, dict):
                v["text"] = " ".join(v["text"].split())
    return out


#: sorting by a click on a header (an ``element`` is the gr.HTML component, ``watch`` re-applies the visitor's
#: sort when the server sends a new table; missing values always sort last), and the pinned model column's offset
SORT_JS = """
const state = {};
function sortTable(table, col, dir) {
  const body = table.tBodies[0];
  if (!body) return;
  const numeric = col !== 'model' && [...body.rows].every(r => {
    const v = r.querySelector(`td[data-col="${col}"]`)?.dataset.v ?? '';
    return v === '' || !isNaN(Number(v));
  });
  const key = r => r.querySelector(`td[data-col="${col}"]`)?.dataset.v ?? '';
  const rows = [...body.rows];
  rows.forEach((r, i) => { if (r.dataset.pos === undefined) r.dataset.pos = i; });
  rows.sort((a, b) => {
    const x = key(a), y = key(b);
    if (x === '' || y === '') return (x === '') - (y === '') || a.dataset.pos - b.dataset.pos;
    const c = numeric ? Number(x) - Number(y) : x.localeCompare(y);
    return (dir === 'ascending' ? c : -c) || a.dataset.pos - b.dataset.pos;
  });
  rows.forEach(r => body.appendChild(r));
  table.querySelectorAll('th[data-col]').forEach(th => th.setAttribute('aria-sort', th.dataset.col === col ? dir : 'none'));
}
element.addEventListener('click', (event) => {
  const button = event.target.closest('button[data-sort]');
  if (!button || !element.contains(button)) return;
  const table = button.closest('table');
  const th = button.closest('th');
  const col = button.dataset.sort;
  const lowFirst = col === 'rank' || col === 'model';
  const dir = th.getAttribute('aria-sort') === 'none'
    ? (lowFirst ? 'ascending' : 'descending')
    : (th.getAttribute('aria-sort') === 'descending' ? 'ascending' : 'descending');
  state[table.id] = [col, dir];
  sortTable(table, col, dir);
  pin();   // the header's arrow may widen the rank column
});
// the model column is pinned just right of the rank column, whatever width the rank column takes
function pin() {
  element.querySelectorAll('table').forEach(table => {
    const rank = table.querySelector('th[data-col="rank"]');
    if (rank) table.style.setProperty('--g1-rank-w', rank.getBoundingClientRect().width + 'px');
  });
}
pin();
window.addEventListener('resize', pin);
watch('value', () => {
  pin();
  element.querySelectorAll('table').forEach(table => {
    table.querySelectorAll('tbody tr').forEach(r => { delete r.dataset.pos; });
    const s = state[table.id];
    if (s && table.querySelector(`th[data-col="${s[0]}"]`)) sortTable(table, s[0], s[1]);
  });
});
"""


__all__ = ["Column", "Cell", "Row", "OPTIONAL_COLUMNS", "OPTIONAL_KEYS", "render_table", "read_table", "number_cell", "pct_cell",
           "text_cell", "entry_link", "model_cell", "hub_url", "link", "num", "fmt", "ci_text", "SORT_JS"]
