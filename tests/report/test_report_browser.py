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


def test_client_report_reads_like_a_deliverable(browser, tmp_path, model, shapley, survey,
                                                drivers):
    """Summary first, labels instead of column names, no clipped table, no e-notation."""
    import re
    import warnings

    from selenium.webdriver.common.by import By

    sim = dk.Simulator(model, survey, revenue_per_customer=250.0, customers=120_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prio = sim.priority(draws=60, seed=2)
        sens = sim.sensitivity(steps=[-1, 1], draws=60, seed=2)
        plan = dk.optimize_budget(sim, {d: dk.saturating(max_lift=1.0, scale=4e5)
                                        for d in drivers}, 1e6, objective="profit")
    labels = {"staff": "Staff friendliness", "wait_time": "Waiting time at the till"}
    files = dk.report(shapley, prio, sens, plan, model, path=tmp_path / "client.html",
                      title="Client check", labels=labels, currency="EUR", locale="de_DE")
    browser.set_window_size(1200, 900)
    browser.get(files.html.as_uri())
    sections = browser.find_elements(By.CSS_SELECTOR, "main > section")
    assert sections[0].get_attribute("id") == "dk-summary"
    first_heading = browser.find_element(By.CSS_SELECTOR, "main h2")
    assert first_heading.text == "Executive summary"
    text = browser.find_element(By.TAG_NAME, "body").text
    assert re.search(r"\d[eE][+-]\d", text) is None
    assert "Waiting time at the till" in text and "€" in text
    shown_rows = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "tbody th")]
    assert "wait_time" not in shown_rows and "Waiting time at the till" in shown_rows
    # no table is wider than the card that holds it
    widths = browser.execute_script(
        "return [...document.querySelectorAll('table.dk-table')].map(t => "
        "[t.scrollWidth, t.closest('section').clientWidth])")
    assert widths and all(w <= card for w, card in widths), widths
    browser.save_screenshot(str(tmp_path / "client.png"))
