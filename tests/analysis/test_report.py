"""analysis.report: the page escapes its text, links its figures relatively, writes atomically."""

import html.parser

import pytest
from matplotlib.figure import Figure

from analysis.report import Report, format_cell, slugify

PNG = b"\x89PNG\r\n\x1a\n"


class _Tags(html.parser.HTMLParser):
    """Collects start tags with their attributes, and the text."""

    def __init__(self):
        super().__init__()
        self.tags, self.text = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def _parse(page):
    parser = _Tags()
    parser.feed(page)
    return parser


def _figure():
    fig = Figure(figsize=(2, 2))
    fig.subplots().plot([0, 1], [0, 1])
    return fig


def test_write_puts_each_figure_beside_the_page_under_a_relative_name(tmp_path):
    report = Report("Title")
    first = report.section("Backends")
    first.figure(_figure(), "one")
    first.figure(_figure(), "two")
    report.section("Filters").figure(_figure(), "three")
    index = report.write(tmp_path / "out")
    assert index == tmp_path / "out" / "index.html"
    srcs = [attrs["src"] for tag, attrs in _parse(index.read_text()).tags if tag == "img"]
    assert srcs == ["backends-1.png", "backends-2.png", "filters-1.png"]
    for src in srcs:
        assert (index.parent / src).read_bytes()[:8] == PNG
    assert sorted(p.name for p in index.parent.iterdir()) == sorted(srcs + ["index.html"])


def test_text_is_escaped_everywhere():
    hostile = "<script>alert(1)</script> & \"quoted\""
    report = Report(hostile, hostile)
    s = report.section(hostile)
    s.paragraph(hostile)
    s.table([hostile], [[hostile]], caption=hostile)
    s.preformatted(hostile, hostile)
    s.figure(_figure(), hostile, alt=hostile)
    page = report.render()
    parsed = _parse(page)
    assert "script" not in [tag for tag, _ in parsed.tags]
    assert sum(hostile in chunk for chunk in parsed.text) >= 7
    assert [a["alt"] for t, a in parsed.tags if t == "img"] == [hostile]


def test_sections_get_unique_anchors_and_a_table_of_contents():
    report = Report("T")
    anchors = [report.section(title).anchor for title in ("Same", "Same", "Other!")]
    assert anchors == ["same", "same-2", "other"]
    parsed = _parse(report.render())
    ids = [attrs["id"] for tag, attrs in parsed.tags if tag == "section"]
    links = [attrs["href"] for tag, attrs in parsed.tags if tag == "a"]
    assert ids == anchors and links == [f"#{a}" for a in anchors]


def test_tables_right_align_numbers_and_format_them():
    report = Report("T")
    report.section("S").table(["name", "ms", "count"], [["fft", 0.123456, 12345]])
    parsed = _parse(report.render())
    cells = [attrs.get("class") for tag, attrs in parsed.tags if tag == "td"]
    assert cells == [None, "num", "num"]
    assert "0.1235" in parsed.text and "12,345" in parsed.text


def test_paragraphs_split_on_blank_lines():
    report = Report("T")
    report.section("S").paragraph("first\nstill first\n\n  second  ")
    parsed = _parse(report.render())
    assert [tag for tag, _ in parsed.tags].count("p") == 2
    assert "first\nstill first" in parsed.text and "second" in parsed.text


def test_timing_shows_under_the_title():
    report = Report("T")
    report.section("S").seconds = 2.345
    assert "computed in 2.3 s" in report.render()


def test_rewriting_replaces_files_and_leaves_no_temporaries(tmp_path):
    report = Report("T")
    report.section("S").paragraph("v1")
    report.write(tmp_path)
    report.sections[0].blocks.clear()
    report.sections[0].paragraph("v2")
    report.write(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["index.html"]
    assert "v2" in (tmp_path / "index.html").read_text() and \
        "v1" not in (tmp_path / "index.html").read_text()


@pytest.mark.parametrize("value, text", [(7, "7"), (-1234, "-1,234"), (0.5, "0.5"),
                                         (123456.7, "1.235e+05"), (float("nan"), "-"),
                                         (None, "-"), (True, "True"), ("auto", "auto")])
def test_format_cell(value, text):
    assert format_cell(value) == text


def test_slugify_falls_back_for_titles_without_letters():
    assert slugify("Über — 3×3!") == "ber-3-3"
    assert slugify("???") == "section"


def test_errors_name_the_function_parameter_and_value(tmp_path):
    report = Report("T")
    s = report.section("S")
    with pytest.raises(TypeError, match=r"Report: parameter 'title' must be a str; got 3"):
        Report(3)
    with pytest.raises(ValueError, match=r"Report: parameter 'title' must be a non-empty str"):
        Report("  ")
    with pytest.raises(TypeError, match=r"Section.figure: parameter 'fig' must be a "
                                        r"matplotlib.figure.Figure; got 'x'"):
        s.figure("x", "caption")
    with pytest.raises(ValueError, match=r"Section.figure: parameter 'caption' must be a "
                                         r"non-empty str"):
        s.figure(_figure(), "")
    with pytest.raises(ValueError, match=r"Section.table: parameter 'rows\[1\]' must be a row "
                                         r"of 2 cells, one per column; got \(3,\)"):
        s.table(["a", "b"], [[1, 2], [3]])
    with pytest.raises(TypeError, match=r"Section.table: parameter 'header' must be a sequence"):
        s.table("ab", [])
    with pytest.raises(TypeError, match=r"Section.paragraph: parameter 'text' must be a str"):
        s.paragraph(None)
    with pytest.raises(TypeError, match=r"Report.write: parameter 'directory' must be a str or "
                                        r"os.PathLike path; got 5"):
        report.write(5)
    with pytest.raises(TypeError, match=r"Report.section: parameter 'title' must be a str"):
        report.section(["x"])


def test_column_formats_apply_to_numbers_only():
    report = Report("T")
    report.section("S").table(["name", "ratio", "acc"], [["fft", 1.0, 0.98329], ["-", None, "n/a"]],
                              formats=[None, ".2f", ".1%"])
    text = _parse(report.render()).text
    assert "1.00" in text and "98.3%" in text and "n/a" in text


@pytest.mark.parametrize("formats", [".2f", [".2f"], [None, 3], [None, ".2q"]])
def test_bad_column_formats(formats):
    s = Report("T").section("S")
    with pytest.raises(ValueError, match=r"Section.table: parameter 'formats' must be "):
        s.table(["a", "b"], [[1, 2]], formats=formats)


def test_measured_on_is_the_first_block_above_the_contents():
    report = Report("T", "lead")
    report.section("Backends").paragraph("x")
    report.measured_on([("CPU", "Example <CPU>"), ("cores", 2)], "Where it ran.")
    page = report.render()
    assert page.index("lead") < page.index('id="measured-on"') < page.index('class="toc"')
    parsed = _parse(page)
    ids = [attrs["id"] for tag, attrs in parsed.tags if tag == "section"]
    assert ids == ["measured-on", "backends"]
    links = [attrs["href"] for tag, attrs in parsed.tags if tag == "a"]
    assert links == ["#backends"]                       # the contents list the sections
    assert "Measured on" in parsed.text and "Where it ran." in parsed.text
    assert "Example <CPU>" in parsed.text and "2" in parsed.text       # escaped, formatted
    assert [attrs.get("scope") for tag, attrs in parsed.tags if tag == "th"] == ["row"] * 2


def test_a_report_without_environment_has_no_such_block():
    assert 'id="measured-on"' not in Report("T").render()


def test_measured_on_checks_its_rows():
    report = Report("T")
    with pytest.raises(TypeError, match=r"Report.measured_on: parameter 'rows' must be a "
                                        r"sequence of \(label, value\) pairs"):
        report.measured_on("CPU")
    with pytest.raises(ValueError, match=r"Report.measured_on: parameter 'rows\[1\]' must be "
                                         r"a \(label, value\) pair"):
        report.measured_on([("CPU", "x"), ("cores",)])
    with pytest.raises(ValueError, match=r"Report.measured_on: parameter 'rows' must be at "
                                         r"least one"):
        report.measured_on([])


def test_tables_scroll_inside_their_own_box():
    report = Report("T")
    report.section("S").table(["a"], [[1]], caption="c")
    page = report.render()
    assert '<div class="table"><table>' in page and "overflow-x: auto" in page
