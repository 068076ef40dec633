"""Open the HTML report in a real headless Chromium (Debian's package) with selenium.

Skipped cleanly when chromium, chromedriver or selenium are missing.
"""

from __future__ import annotations

import shutil
import tempfile

import pytest

import driverkit as dk

XSS = "<script>alert(1)</script>"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1200,900"]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver")
    import os

    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.skip("chromium / chromedriver not installed (apt-get install chromium "
                    "chromium-driver)")
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="dk-chromium-")
    opts = Options()
    opts.binary_location = CHROMIUM
    for flag in [*FLAGS, f"--user-data-dir={profile}"]:
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def test_report_in_headless_browser(browser, tmp_path, model, shapley, dominance,
                                    frontier_table):
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    files = dk.report(model, shapley, dominance, ("Frontier", frontier_table),
                      path=tmp_path / "report.html", title="Browser check")
    browser.get(files.html.as_uri())
    # nothing was executed: no alert is open and the page holds no script element
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert
    assert browser.execute_script("return document.scripts.length") == 0
    assert browser.title == "Browser check"

    # every chart is an image the browser decoded
    images = browser.find_elements(By.CSS_SELECTOR, "img.dk-chart-img")
    assert len(images) == 5  # model, shapley, dominance bars + conditional lines, frontier
    for img in images:
        assert browser.execute_script(
            "return arguments[0].complete && arguments[0].naturalWidth", img) > 100
        assert img.is_displayed()

    # every table is there, with the driver names and formatted numbers
    tables = browser.find_elements(By.CSS_SELECTOR, "table.dk-table")
    assert len(tables) == len(files.sheets)
    row_heads = [th.text for th in tables[1].find_elements(By.CSS_SELECTOR, "tbody th")]
    assert row_heads == [str(i) for i in shapley.table.index]
    # the malicious driver name is visible as text, in the model table and the importance table
    shown = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "tbody th")]
    assert shown.count(XSS) >= 3
    assert f"{shapley.table.loc['staff', 'share']:.1f}%" in tables[1].text
    assert "Method notes" in browser.find_element(By.ID, "dk-methods").text
