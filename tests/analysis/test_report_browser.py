"""The demo's report in headless Chromium: images load, nothing is fetched, it renders.

Skips only where Debian's ``chromium`` / ``chromium-driver`` binaries are absent;
``.ci/run`` installs them when it runs as root, so CI never skips.
"""

import contextlib
import io
import shutil

import pytest
from PIL import Image

from fftconv.cli import main

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER),
                                reason="the chromium and chromium-driver binaries are absent")


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,900"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=CHROMEDRIVER),
                              options=options)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def page(browser, tmp_path_factory):
    out = tmp_path_factory.mktemp("browser") / "report"
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["demo", "--quick", "--out", str(out)]) == 0
    browser.get((out / "index.html").as_uri())
    browser.execute_script("return document.readyState")
    return browser, out


def test_every_image_loads(page):
    driver, _ = page
    sizes = driver.execute_script(
        "return Array.from(document.images).map(i => [i.complete, i.naturalWidth]);")
    assert len(sizes) >= 5
    assert all(complete and width > 0 for complete, width in sizes), sizes


def test_no_request_leaves_the_directory(page):
    driver, out = page
    urls = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name);")
    urls.append(driver.current_url)
    assert urls and all(u.startswith("file://") for u in urls), urls
    html = (out / "index.html").read_text(encoding="utf-8")
    for attr in ('src="http', "src='http", 'href="http', "url(http", "@import"):
        assert attr not in html


def test_the_environment_block_is_shown_first(page):
    driver, _ = page
    from selenium.webdriver.common.by import By
    block = driver.find_element(By.ID, "measured-on")
    assert block.is_displayed()
    text = block.text
    for label in ("CPU", "cores", "BLAS", "FFT engine", "numpy", "date (UTC)", "command"):
        assert label in text
    first = driver.execute_script("return document.querySelector('section').id;")
    assert first == "measured-on"


def test_a_screenshot_is_not_blank(page, tmp_path):
    driver, _ = page
    path = tmp_path / "report.png"
    assert driver.save_screenshot(str(path))
    with Image.open(path) as image:
        grey = image.convert("L")
        low, high = grey.getextrema()
        assert image.size[0] >= 800 and high - low > 100
        assert len(grey.getcolors(maxcolors=1 << 16) or range(1 << 16)) > 20
