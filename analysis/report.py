"""A self-contained HTML report: sections of text, tables, preformatted text and figures.

:class:`Report` collects what an analysis produced and :meth:`Report.write` puts it
on disk as one ``index.html`` (plain HTML with its own small stylesheet: no
scripts, no web fonts, nothing fetched) and one PNG per figure beside it, all
linked by relative paths, so the directory can be moved, zipped or served as is.
Every file is written to a temporary file and renamed into place
(:func:`analysis.files.write_atomic`), figures first and ``index.html`` last, so
a reader never finds a page that points at a missing image.

Examples
--------
>>> import tempfile
>>> from matplotlib.figure import Figure
>>> report = Report("Demo", "What ran, and what came out.")
>>> s = report.section("Numbers")
>>> s.table(["backend", "ms"], [["direct", 1.5], ["fft", 0.25]])
>>> fig = Figure()
>>> _ = fig.subplots().plot([0, 1], [1, 0])
>>> s.figure(fig, "A line.")
>>> with tempfile.TemporaryDirectory() as d:
...     index = report.write(d)
...     sorted(p.name for p in index.parent.iterdir())
['index.html', 'numbers-1.png']
"""

from __future__ import annotations

import html
import math
import numbers
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from fftconv.errors import bad_type, bad_value
from fftconv.optional import require

from .files import save_figure, write_atomic

__all__ = ["Report", "Section", "Table", "FigureBlock", "Paragraph", "Preformatted",
           "format_cell", "slugify"]

_CSS = """
body { font: 15px/1.5 -apple-system, "Segoe UI", "DejaVu Sans", Helvetica, Arial, sans-serif;
       color: #1d232a; max-width: 1180px; margin: 0 auto; padding: 1.5em 2em 4em; }
h1 { font-size: 1.9em; margin-bottom: 0.2em; }
h2 { font-size: 1.35em; margin-top: 2.2em; padding-bottom: 0.2em;
     border-bottom: 2px solid #d8dee4; }
p.lead { color: #57606a; margin-top: 0; }
nav.toc { background: #f6f8fa; border: 1px solid #d8dee4; border-radius: 6px;
          padding: 0.6em 1.2em; display: inline-block; }
nav.toc ol { margin: 0.3em 0; padding-left: 1.4em; }
div.table { overflow-x: auto; margin: 0.8em 0 1.2em; }
table { border-collapse: collapse; font-size: 0.92em; min-width: min(100%, 44em); }
section.environment table { min-width: 0; }
caption { caption-side: top; text-align: left; color: #3d444d; padding-bottom: 0.3em;
          max-width: 60em; }
section.environment { background: #f6f8fa; border: 1px solid #d8dee4; border-radius: 6px;
                      padding: 0.2em 1.2em 0.6em; margin: 1em 0 1.4em; }
section.environment h2 { margin-top: 0.6em; border-bottom: none; }
section.environment th { background: none; border: none; padding-left: 0; white-space: nowrap; }
section.environment td { border: none; }
th, td { border: 1px solid #d8dee4; padding: 0.25em 0.6em; vertical-align: top; }
th { background: #f6f8fa; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
pre { background: #f6f8fa; border: 1px solid #d8dee4; border-radius: 6px;
      padding: 0.8em 1em; overflow-x: auto; font-size: 0.85em; line-height: 1.35; }
figure { margin: 1em 0 1.6em; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid #eaeef2; }
figcaption { color: #3d444d; font-size: 0.95em; margin-top: 0.4em; max-width: 60em; }
figcaption strong, caption strong { color: #1d232a; }
p.timing { color: #57606a; font-size: 0.88em; }
footer { margin-top: 3em; color: #57606a; font-size: 0.85em; }
"""


def _text(func: str, param: str, value, allow_empty: bool = True) -> str:
    if not isinstance(value, str):
        raise bad_type(func, param, value, "a str")
    if not allow_empty and not value.strip():
        raise bad_value(func, param, value, "a non-empty str")
    return value


def slugify(text: str) -> str:
    """An HTML id (and file-name stem) from a title: lower case, ASCII letters, digits, dashes.

    Examples
    --------
    >>> slugify("Backends on a small grid (2 cores)")
    'backends-on-a-small-grid-2-cores'
    """
    slug = re.sub(r"[^a-z0-9]+", "-", _text("slugify", "text", text).lower()).strip("-")
    return slug or "section"


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def format_cell(value, format_spec=None) -> str:
    """The text of a table cell.

    Parameters
    ----------
    value : object
        ``None`` and NaN show as ``-``; numbers follow ``format_spec``; anything else
        is ``str``.
    format_spec : str, optional
        A format specification for numbers (``'.2f'``, ``'.1%'``, ...). Default:
        ints with thousands separators, floats to 4 significant digits.

    Returns
    -------
    str

    Examples
    --------
    >>> [format_cell(v) for v in (3, 1234567, 0.000123456, 12.3456, float("nan"), "fft")]
    ['3', '1,234,567', '0.0001235', '12.35', '-', 'fft']
    >>> format_cell(1.0, ".2f"), format_cell(0.98329, ".2%")
    ('1.00', '98.33%')
    """
    if value is None or (_is_number(value) and math.isnan(value)):
        return "-"
    if not _is_number(value):
        return str(value)
    if format_spec is not None:
        return format(value, format_spec)
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}"
    return f"{float(value):.4g}"


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of plain text (escaped; blank lines start new paragraphs)."""

    text: str

    def html(self, names) -> str:
        paragraphs = [p.strip() for p in re.split(r"\n\s*\n", self.text) if p.strip()]
        return "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)


@dataclass(frozen=True)
class Preformatted:
    """Text shown in a monospaced block, as printed (a console table, a log)."""

    text: str
    caption: str = ""

    def html(self, names) -> str:
        caption = f"<p>{html.escape(self.caption)}</p>\n" if self.caption else ""
        return f"{caption}<pre>{html.escape(self.text.rstrip())}</pre>"


@dataclass(frozen=True)
class Table:
    """A table: a header row and rows of cells (numbers are right-aligned)."""

    header: tuple
    rows: tuple
    caption: str = ""
    formats: tuple = ()

    def html(self, names) -> str:
        out = ['<div class="table"><table>']
        if self.caption:
            out.append(f"<caption>{html.escape(self.caption)}</caption>")
        out.append("<thead><tr>" + "".join(f"<th>{html.escape(format_cell(h))}</th>"
                                           for h in self.header) + "</tr></thead>")
        out.append("<tbody>")
        formats = self.formats or (None,) * len(self.header)
        for row in self.rows:
            cells = []
            for value, format_spec in zip(row, formats):
                cls = ' class="num"' if _is_number(value) else ""
                cells.append(f"<td{cls}>{html.escape(format_cell(value, format_spec))}</td>")
            out.append("<tr>" + "".join(cells) + "</tr>")
        out.append("</tbody></table></div>")
        return "\n".join(out)


@dataclass(frozen=True)
class FigureBlock:
    """A matplotlib figure, saved as a PNG beside the page, with a caption."""

    figure: object
    caption: str
    alt: str

    def html(self, names) -> str:
        src = html.escape(names[id(self)], quote=True)
        # the image links to itself: a figure scaled down to the page opens full size
        return (f'<figure><a href="{src}"><img src="{src}" '
                f'alt="{html.escape(self.alt, quote=True)}"></a>'
                f"<figcaption>{html.escape(self.caption)}</figcaption></figure>")


@dataclass
class Section:
    """One titled part of a :class:`Report`; add blocks in reading order.

    Attributes
    ----------
    title : str
    anchor : str
        The section's HTML id (unique within the report), also the stem of its
        figures' file names.
    blocks : list
        :class:`Paragraph`, :class:`Table`, :class:`Preformatted` and
        :class:`FigureBlock` objects.
    seconds : float or None
        Wall-clock time of the work behind the section, shown under its title.

    Examples
    --------
    >>> s = Report("T").section("Filters")
    >>> s.paragraph("Six filters.")
    >>> s.preformatted("backend  ms")
    >>> [type(block).__name__ for block in s.blocks]
    ['Paragraph', 'Preformatted']
    """

    title: str
    anchor: str
    blocks: list = field(default_factory=list)
    seconds: float | None = None

    def paragraph(self, text) -> None:
        """Add plain text; blank lines separate paragraphs."""
        self.blocks.append(Paragraph(_text("Section.paragraph", "text", text)))

    def preformatted(self, text, caption="") -> None:
        """Add monospaced text shown exactly as given (for console tables)."""
        self.blocks.append(Preformatted(_text("Section.preformatted", "text", text),
                                        _text("Section.preformatted", "caption", caption)))

    def table(self, header, rows, caption="", formats=None) -> None:
        """Add a table.

        Parameters
        ----------
        header : sequence
            Column titles.
        rows : sequence of sequence
            Each row as long as ``header``; cells are formatted by :func:`format_cell`.
        caption : str
        formats : sequence of (str or None), optional
            One number format per column (see :func:`format_cell`); ``None`` keeps
            the default.
        """
        func = "Section.table"
        if isinstance(header, str) or not hasattr(header, "__len__"):
            raise bad_type(func, "header", header, "a sequence of column titles")
        if isinstance(rows, str) or not hasattr(rows, "__iter__"):
            raise bad_type(func, "rows", rows, "a sequence of rows")
        rows = tuple(tuple(row) for row in rows)
        for i, row in enumerate(rows):
            if len(row) != len(header):
                raise bad_value(func, f"rows[{i}]", row,
                                f"a row of {len(header)} cells, one per column")
        if formats is None:
            formats = (None,) * len(header)
        elif (isinstance(formats, str) or not hasattr(formats, "__len__")
              or len(formats) != len(header)
              or not all(f is None or isinstance(f, str) for f in formats)):
            raise bad_value(func, "formats", formats,
                            f"a sequence of {len(header)} format specs (str or None)")
        for format_spec in formats:
            if format_spec is not None:
                try:
                    format(1.5, format_spec)
                except ValueError:
                    raise bad_value(func, "formats", formats,
                                    "format specs for numbers, such as '.2f' or '.1%'") from None
        self.blocks.append(Table(tuple(header), rows, _text(func, "caption", caption),
                                 tuple(formats)))

    def figure(self, fig, caption, alt=None) -> None:
        """Add a :class:`matplotlib.figure.Figure` (saved as PNG by :meth:`Report.write`).

        ``alt`` (the image's text alternative) defaults to the caption.
        """
        func = "Section.figure"
        Figure = require("matplotlib.figure", "plots", func).Figure
        if not isinstance(fig, Figure):
            raise bad_type(func, "fig", fig, "a matplotlib.figure.Figure")
        caption = _text(func, "caption", caption, allow_empty=False)
        alt = caption if alt is None else _text(func, "alt", alt, allow_empty=False)
        self.blocks.append(FigureBlock(fig, caption, alt))


class Report:
    """An HTML report built section by section, written by :meth:`write`.

    Parameters
    ----------
    title : str
        The page title.
    lead : str
        One paragraph under the title.

    Notes
    -----
    Text is always escaped: a report cannot inject markup, whatever its tables
    hold. Figure files are named ``<section anchor>-<n>.png``. The rows given to
    :meth:`measured_on` (the machine and libraries, see
    :func:`analysis.environment.environment`) are the page's first block, under
    the title and above the contents.

    Examples
    --------
    >>> report = Report("Timings")
    >>> section = report.section("Backends")
    >>> section.table(["backend", "ms"], [["im2col", 0.3269]], formats=[None, ".2f"])
    >>> section.anchor, '<td class="num">0.33</td>' in report.render()
    ('backends', True)
    """

    def __init__(self, title, lead=""):
        self.title = _text("Report", "title", title, allow_empty=False)
        self.lead = _text("Report", "lead", lead)
        self.sections: list[Section] = []
        self.environment: tuple = ()
        self.environment_caption = ""
        self.footer = ""

    def measured_on(self, rows, caption="") -> None:
        """State what the report was measured on: its first block, titled "Measured on".

        Parameters
        ----------
        rows : sequence of (str, str)
            ``(label, value)`` pairs, in display order, such as
            :func:`analysis.environment.environment` returns.
        caption : str
            A sentence under the title of the block.
        """
        func = "Report.measured_on"
        if isinstance(rows, str) or not hasattr(rows, "__iter__"):
            raise bad_type(func, "rows", rows, "a sequence of (label, value) pairs")
        rows = tuple(tuple(row) for row in rows)
        for i, row in enumerate(rows):
            if len(row) != 2 or not isinstance(row[0], str):
                raise bad_value(func, f"rows[{i}]", row, "a (label, value) pair, label a str")
        if not rows:
            raise bad_value(func, "rows", rows, "at least one (label, value) pair")
        self.environment = rows
        self.environment_caption = _text(func, "caption", caption)

    def section(self, title, anchor=None) -> Section:
        """Start a new section and return it (its anchor defaults to :func:`slugify` of the title)."""
        title = _text("Report.section", "title", title, allow_empty=False)
        anchor = slugify(title) if anchor is None else slugify(anchor)
        taken = {s.anchor for s in self.sections}
        base, k = anchor, 2
        while anchor in taken:
            anchor, k = f"{base}-{k}", k + 1
        section = Section(title, anchor)
        self.sections.append(section)
        return section

    def _figure_names(self) -> dict:
        names = {}
        for section in self.sections:
            figures = [b for b in section.blocks if isinstance(b, FigureBlock)]
            for k, block in enumerate(figures, start=1):
                names[id(block)] = f"{section.anchor}-{k}.png"
        return names

    def render(self) -> str:
        """The page as a string (figures referenced by their relative file names)."""
        names = self._figure_names()
        esc = html.escape
        out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
               '<meta name="viewport" content="width=device-width, initial-scale=1">',
               f"<title>{esc(self.title)}</title>", f"<style>{_CSS}</style>", "</head>",
               "<body>", f"<h1>{esc(self.title)}</h1>"]
        if self.lead:
            out.append(f'<p class="lead">{esc(self.lead)}</p>')
        if self.environment:
            out.append('<section id="measured-on" class="environment">')
            out.append("<h2>Measured on</h2>")
            out.append('<div class="table"><table>')
            if self.environment_caption:
                out.append(f"<caption>{esc(self.environment_caption)}</caption>")
            out.append("<tbody>")
            out += [f'<tr><th scope="row">{esc(label)}</th><td>{esc(format_cell(value))}</td>'
                    "</tr>" for label, value in self.environment]
            out.append("</tbody></table></div></section>")
        if self.sections:
            out.append('<nav class="toc"><strong>Contents</strong><ol>')
            out += [f'<li><a href="#{s.anchor}">{esc(s.title)}</a></li>' for s in self.sections]
            out.append("</ol></nav>")
        for section in self.sections:
            out.append(f'<section id="{section.anchor}">')
            out.append(f"<h2>{esc(section.title)}</h2>")
            if section.seconds is not None:
                out.append(f'<p class="timing">computed in {section.seconds:.1f} s</p>')
            out += [block.html(names) for block in section.blocks]
            out.append("</section>")
        if self.footer:
            out.append(f"<footer>{esc(self.footer)}</footer>")
        out += ["</body>", "</html>", ""]
        return "\n".join(out)

    def write(self, directory, dpi=100) -> Path:
        """Write the figures and ``index.html`` into ``directory`` (created if needed).

        Parameters
        ----------
        directory : str or os.PathLike
        dpi : float
            Resolution of the PNG figures.

        Returns
        -------
        pathlib.Path
            The path of ``index.html``.
        """
        if not isinstance(directory, (str, os.PathLike)):
            raise bad_type("Report.write", "directory", directory, "a str or os.PathLike path")
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        names = self._figure_names()
        for section in self.sections:
            for block in section.blocks:
                if isinstance(block, FigureBlock):
                    save_figure(block.figure, directory / names[id(block)], dpi=dpi)
        page = self.render().encode("utf-8")
        return write_atomic(directory / "index.html", lambda fh: fh.write(page))
