"""`fftconv demo --quick` writes a complete report: every section, every image a real PNG."""

import contextlib
import html.parser
import io
import re

import numpy as np
import pytest
from PIL import Image

from analysis import demo
from fftconv.cli import main

SECTIONS = ["measured-on", "run", "benchmark", "training", "spectrum", "diffusion", "matching",
            "cost", "frequency-learning"]


class _Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.imgs, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.ids.append(attrs["id"])
        if tag == "img":
            self.imgs.append(attrs)

    def handle_data(self, data):
        self.text.append(data)


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "report"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        status = main(["demo", "--quick", "--out", str(out)])
    assert status == 0
    page = _Page()
    page.feed((out / "index.html").read_text(encoding="utf-8"))
    return out, page, printed.getvalue()


def test_every_section_is_present_and_timed(quick_report):
    out, page, printed = quick_report
    assert page.ids == SECTIONS
    text = " ".join(page.text)
    assert text.count("computed in") >= len(SECTIONS) - 2
    assert f"wrote {out / 'index.html'}" in printed


def test_every_image_is_a_valid_png_next_to_the_page(quick_report):
    out, page, _ = quick_report
    assert len(page.imgs) >= 5
    for attrs in page.imgs:
        src = attrs["src"]
        assert "/" not in src and not src.startswith(("http", "file:")), src
        assert attrs.get("alt")
        with Image.open(out / src) as image:
            assert image.format == "PNG"
            image.verify()
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [a["src"] for a in page.imgs] + ["index.html", "sweep.json"])


def test_the_tables_come_from_the_run(quick_report):
    _, page, _ = quick_report
    text = " ".join(page.text)
    for backend in ("direct", "im2col", "fft"):
        assert f"{backend} (ms)" in text
    assert re.search(r"Test accuracy \d+\.\d\d% \(\d+ of 359 digits\)", text)
    assert "lenet-c1" in text and "c1[5]" in text
    assert "parameters: 60,840" in text                # fftconv cost lenet5
    assert "quick (smoke test)" in text


def test_the_matching_section_finds_every_copy(quick_report):
    _, page, _ = quick_report
    text = " ".join(page.text)
    assert "3 of 3 copies found within one pixel" in text
    assert "recovered by phase correlation" in text


def test_scene_holds_the_template_where_it_says():
    scene, template, truth = demo.make_scene(seed=4)
    assert demo.make_scene(seed=4)[0].tobytes() == scene.tobytes()      # seeded
    h, w = template.shape
    for r, c in truth:
        window = scene[r:r + h, c:c + w]
        assert np.corrcoef(window.ravel(), template.ravel())[0, 1] > 0.9
    boxes = [(r, c) for r, c in truth]
    for i, (r0, c0) in enumerate(boxes):                # copies never overlap
        for r1, c1 in boxes[i + 1:]:
            assert abs(r0 - r1) >= h or abs(c0 - c1) >= w


def test_make_scene_checks_its_arguments():
    with pytest.raises(ValueError, match=r"make_scene: parameter 'size' must be an int >= 100; "
                                         r"got 50"):
        demo.make_scene(size=50)
    with pytest.raises(TypeError, match=r"make_scene: parameter 'seed' must be an int >= 0"):
        demo.make_scene(seed=1.5)
    with pytest.raises(ValueError, match=r"make_scene: parameter 'distractors' must be small "
                                         r"enough that 3 \+ distractors digits fit"):
        demo.make_scene(distractors=40)


def test_the_environment_is_the_first_block(quick_report):
    out, page, _ = quick_report
    source = (out / "index.html").read_text(encoding="utf-8")
    assert page.ids[0] == "measured-on"
    assert source.index('id="measured-on"') < source.index('<nav class="toc">')
    block = source[source.index('id="measured-on"'):source.index("</section>")]
    for label in ("CPU", "cores", "BLAS", "FFT engine", "Python", "numpy", "scipy",
                  "fftconv", "torch", "date (UTC)", "command"):
        assert f'<th scope="row">{label}</th>' in block, label
    # the CLI ran in-process: the command is this process's command line
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", block)


def test_every_figure_and_table_has_a_caption_from_the_data(quick_report):
    out, _, _ = quick_report
    source = (out / "index.html").read_text(encoding="utf-8")
    figures = re.findall(r"<figure>.*?</figure>", source, flags=re.S)
    assert figures and all("<figcaption>" in f for f in figures)
    tables = re.findall(r"<table>(.*?)</table>", source, flags=re.S)
    assert tables and all(t.lstrip().startswith("<caption>") for t in tables)
    captions = " ".join(re.findall(r"<figcaption>(.*?)</figcaption>", source, flags=re.S))
    # computed, not boilerplate: numbers and names of this run's results
    assert re.search(r"fastest is [a-z0-9 =,×]+ at 1×1", captions)
    assert re.search(r"within 1\.2× of the fastest at \d of 3 sizes", captions)
    assert re.search(r"3 of 3 copies found, scores 0\.\d{3} to 0\.\d{3}", captions)
    assert re.search(r"Most selective: c1\[\d\] \(sel 0\.\d\d", captions)
    assert re.search(r"spread after n = 4 steps, √\(4·D·n\), ranges from \d+\.\d px", captions)
    assert "One epoch, so each curve is one point" in captions


def test_same_code_backends_make_no_crossover():
    from fftconv.bench import Layer, SweepRow

    rows = [SweepRow(Layer("x", 1, 1, 8, 8, 1, k), seconds, "direct", borrowed=borrowed)
            for k, seconds, borrowed in [
                (1, {"direct": 1.0, "im2col": 1.0, "fft": 3.0}, ("im2col",)),
                (3, {"direct": 2.0, "im2col": 1.5, "fft": 2.5}, ()),
                (5, {"direct": 4.0, "im2col": 3.0, "fft": 2.0}, ()),
                (7, {"direct": 8.0, "im2col": 6.0, "fft": 2.2}, ())]]
    cross = demo._pair_crossovers(rows)
    # direct and im2col tie at 1×1 by construction (one timing, both columns): no swap
    assert [c[0] for c in cross] == ["direct / fft", "im2col / fft"]
    pair, k, below, above = cross[0]
    assert 3 < k < cross[1][1] < 5 and (below, above) == ("direct", "fft")
    assert demo._fastest(rows[0]) == "direct = im2col"
    assert demo._fastest_by_kernel(rows) == ("direct = im2col at 1×1, im2col at 3×3, "
                                             "fft from 5×5 up")
    assert demo._auto_misses(rows, lambda r: demo._kk(r.layer.k)) == [
        "3×3 (auto chose direct, 1.33× im2col)", "5×5 (auto chose direct, 2.00× fft)",
        "7×7 (auto chose direct, 3.64× fft)"]


def test_the_report_writes_its_timings_and_reads_the_propagators_at_the_auto_temperature(
        quick_report):
    from fftconv.bench import read_sweep

    out, page, _ = quick_report
    sweep = read_sweep(out / "sweep.json")
    assert len(sweep["rows"]) == len(demo.QUICK.layers)
    ((family, curve),) = sweep["curves"]
    assert family == demo.QUICK.crossover_family
    assert [row.layer.k for row in curve] == list(demo.QUICK.crossover_kernels)
    assert all(set(row.quartiles) == set(row.seconds) for row in sweep["rows"] + curve)
    text = " ".join(" ".join(page.text).split())
    assert re.search(r"T = std\(w\) / 2 per filter, from 0\.\d+ to 0\.\d+", text)
    assert "g₀ = DC/peak (rule)" in text and "K(0) = Σw" in text
    assert "(s)" not in text


def test_run_demo_checks_its_arguments(tmp_path):
    with pytest.raises(TypeError, match=r"run_demo: parameter 'out' must be a str or "
                                        r"os.PathLike path; got 3"):
        demo.run_demo(3)
    with pytest.raises(TypeError, match=r"run_demo: parameter 'config' must be a DemoConfig"):
        demo.run_demo(tmp_path, config={"epochs": 1})
    with pytest.raises(ValueError, match=r"run_demo: parameter 'epochs' must be an int >= 1; "
                                         r"got 0"):
        demo.run_demo(tmp_path, demo.QUICK, epochs=0)
    with pytest.raises(ValueError, match=r"run_demo: parameter 'temperature' must be a finite "
                                         r"real number > 0"):
        demo.run_demo(tmp_path, demo.QUICK, temperature=-1.0)
    with pytest.raises(TypeError, match=r"run_demo: parameter 'changes' must be field names of "
                                        r"DemoConfig; got \['colour'\]"):
        demo.run_demo(tmp_path, demo.QUICK, colour=1)
    assert list(tmp_path.iterdir()) == []


def test_cli_reports_bad_options(tmp_path, capsys):
    """Out-of-range values are refused while parsing, naming the option, once (status 2)."""
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--quick", "--epochs", "0", "--out", str(tmp_path / "r")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "argument --epochs: must be an int >= 1; got '0'" in err
    assert err.count("fftconv demo: error:") == 1
