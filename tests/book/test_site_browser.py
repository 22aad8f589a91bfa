"""The built site as a reader sees it: the index and one chapter in headless Chromium (Debian's
``chromium`` and ``chromium-driver``, which .ci/run installs), at desktop and phone width.

Slow (a site build when the stored one is older than its sources, and a browser): marked ``slow``,
so ``pytest -m "not slow"`` leaves it out.
"""

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parents[2] / "book"
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)  # fmt: skip
SIZES = {"desktop": (1400, 900), "phone": (390, 844)}
PAGES = ("index.html", "04_visda.html")  # the scorecard, and the chapter with Table 1's wide tables

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason="needs Debian's chromium and chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver); "
        "apt-get install -y chromium chromium-driver (.ci/run does)",
    ),
]

# Every table of the article either fits its column or sits in a box that scrolls sideways,
# itself inside the window; returns the ones that do neither.
UNREADABLE_TABLES = """
const article = document.querySelector('article.bd-article');
const bad = [];
for (const table of article.querySelectorAll('table')) {
  if (table.offsetParent === null) continue;  // hidden
  const box = table.getBoundingClientRect();
  let scroller = null;
  for (let e = table.parentElement; e && e !== article.parentElement; e = e.parentElement) {
    if (['auto', 'scroll'].includes(getComputedStyle(e).overflowX)) { scroller = e; break; }
  }
  const fits = box.left >= article.getBoundingClientRect().left - 1
    && box.right <= article.getBoundingClientRect().right + 1;
  const scrolls = scroller && scroller.getBoundingClientRect().right <= window.innerWidth + 1;
  if (!fits && !scrolls) bad.push(table.id || table.className || table.outerHTML.slice(0, 80));
}
return bad;
"""


def _sources():
    skip = {"_build", ".ipynb_checkpoints", "__pycache__"}
    return [p for p in BOOK.rglob("*") if p.is_file() and not skip & set(p.relative_to(BOOK).parts)]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The built site: book/_build/html when it is newer than every source (its stylesheets the
    sources' own), else a fresh build in a temporary folder."""
    html = BOOK / "_build" / "html"
    static = [p for p in (BOOK / "_static").glob("*.css")]
    if (html / "index.html").exists():
        fresh = (html / "index.html").stat().st_mtime > max(p.stat().st_mtime for p in _sources())
        same_css = all((html / "_static" / p.name).read_bytes() == p.read_bytes() for p in static)
        if fresh and same_css:
            return html
    out = tmp_path_factory.mktemp("site")
    build = subprocess.run(
        ["jupyter-book", "build", str(BOOK), "--path-output", str(out)], capture_output=True, text=True
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    return out / "_build" / "html"


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    profile = tempfile.mkdtemp(prefix="csg-chromium-")
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def _open(browser, site: Path, page: str, size: str):
    browser.set_window_size(*SIZES[size])
    browser.get((site / page).as_uri())
    return browser


@pytest.mark.parametrize("size", SIZES)
def test_the_verdicts_open_the_index(site, browser, size):
    page = _open(browser, site, "index.html", size)
    top, limits, height, text = page.execute_script(
        "const box = document.getElementById('verdict');"
        "const limits = box && box.querySelector('.csg-limits');"
        "return box && [box.getBoundingClientRect().top, limits.getBoundingClientRect().top, window.innerHeight,"
        " box.innerText];"
    )
    assert 0 <= top < height, f"the verdict box starts at {top:.0f} px, below the first screen ({height} px)"
    assert limits < height, f"the benchmark's limits start at {limits:.0f} px, below the first screen ({height} px)"
    assert "reproduced" in text and "The benchmark" in text
    assert page.execute_script("return document.getElementById('T_scorecard') !== null")


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", PAGES)
def test_every_table_fits_or_scrolls(site, browser, name, size):
    page = _open(browser, site, name, size)
    assert page.execute_script(UNREADABLE_TABLES) == []
    width, window = page.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= window, f"the page itself is {width} px wide in a {window} px window"


@pytest.mark.parametrize("name", PAGES)
def test_no_page_shows_a_traceback_or_a_test_marker(site, browser, name):
    page = _open(browser, site, name, "desktop")
    outputs, text, errors = page.execute_script(
        "return [Array.from(document.querySelectorAll('.cell_output')).map(e => e.innerText).join('\\n'),"
        " document.body.innerText,"
        " document.querySelectorAll('.output.error, .output.traceback, .output.stderr').length];"
    )
    assert errors == 0, "an error or stderr output is shown"
    assert not [w for w in ("Traceback", "NBVAL") if w in text]
    # the prose may name the smoke profile and nbval (how to test); a result may not
    assert not [w for w in ("Traceback", "smoke", "nbval", "NBVAL", "Error") if w in outputs]


def test_the_table_check_sees_a_table_cut_off(browser):
    # a table wider than its article and in no scrolling box is reported; one in such a box is not
    browser.set_window_size(*SIZES["phone"])
    browser.get(
        "data:text/html,<article class='bd-article' style='width:300px'>"
        "<table id='cut' style='width:600px'><tr><td>x</td></tr></table>"
        "<div style='overflow-x:auto'><table id='scrolls' style='width:600px'><tr><td>x</td></tr></table></div>"
        "</article>"
    )
    assert browser.execute_script(UNREADABLE_TABLES) == ["cut"]
