"""`zhsearch serve` as a person uses it (issue 15): headless Chromium driven by Selenium against a
real `zhsearch serve` process on the demo corpus. One browser for the module.

Skips, saying why, where selenium (the test extras), `chromium` or `chromedriver` (Debian's
packages, which .ci/run installs) are missing; a browser that is there but does not start fails.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from .test_serve import XSS, XSS_URL, Server, _installed, xss_index  # noqa: F401 (a fixture)

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
QUERY = "美国"  # in the demo corpus: 340 VOA articles and the RFI seed


def _missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not path.exists():
            return f"{path} is missing (apt-get install {package}; .ci/run installs it)"
    return None


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    reason = _missing()
    if reason:
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1280,900",
                f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def server(corpus_index):
    _installed()
    with Server(corpus_index) as srv:
        yield srv
        srv.stop()


def _total(driver) -> int:
    return int(driver.find_element("id", "total").text.replace(",", ""))


def _args(driver) -> dict:
    return parse_qs(urlsplit(driver.current_url).query)


def _no_alert(driver) -> None:
    from selenium.common.exceptions import NoAlertPresentException

    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text


def test_a_person_searches_filters_pages_reads_and_follows_the_timeline(browser, server):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    d = browser
    d.get(server.url)
    # "/" puts the cursor in the box; typing and Enter search
    # a person's page has the keyboard's focus; a headless window may not have it at first
    d.find_element("css selector", ".home-stats h1").click()
    ActionChains(d).send_keys("/").perform()
    WebDriverWait(d, 5).until(lambda d: d.switch_to.active_element.get_attribute("id") == "q",
                              "/ did not put the cursor in the search box")
    d.switch_to.active_element.send_keys(QUERY + Keys.ENTER)
    hits = d.find_elements("css selector", "li.hit")
    assert len(hits) == 10 and _args(d)["q"] == [QUERY]
    assert any(m.text == QUERY for m in d.find_elements("css selector", "li.hit mark"))
    everything = _total(d)

    # an outlet filter: the total becomes that outlet's count
    voa = d.find_element("css selector", 'a.outlet[data-source="VOA"]')
    voa_count = int(voa.find_element("css selector", ".count").text.replace(",", ""))
    voa.click()
    assert _args(d)["source"] == ["VOA"]
    assert _total(d) == voa_count < everything
    assert d.find_element("css selector", 'a.outlet[data-source="VOA"]').get_attribute("aria-pressed") == "true"

    # page 2
    d.find_element("css selector", "nav.pager").find_element("link text", "2").click()
    assert _args(d)["offset"] == ["10"] and _total(d) == voa_count
    assert d.find_element("css selector", "ol.hits").get_attribute("start") == "11"
    first_title = d.find_element("css selector", "li.hit h3").text

    # an article, the query's words marked in its text
    d.find_element("css selector", "li.hit a.read").click()
    assert d.find_element("css selector", "article h1").text == first_title
    assert [m.text for m in d.find_elements("css selector", "article p mark")][:1] == [QUERY]
    d.back()

    # a bar of the timeline narrows the search to its period
    bar = d.find_elements("css selector", "#timeline a.bar")[0]
    since, until = bar.get_attribute("data-since"), bar.get_attribute("data-until")
    expected = server.json("/api/search?" + urlencode({"q": QUERY, "source": "VOA", "since": since, "until": until}))[1]
    bar.click()
    assert _args(d)["since"] == [since] and _args(d)["until"] == [until]
    assert _total(d) == expected["total"] < voa_count
    assert d.find_element("css selector", "li.hit h3").text == expected["hits"][0]["title"]
    _no_alert(d)


def test_no_script_from_an_article_or_a_query_runs(browser, xss_index):  # noqa: F811 (the fixture)
    with Server(xss_index) as srv:
        d = browser
        d.get(srv.url + "?" + urlencode({"q": f"alert {XSS}"}))
        _no_alert(d)
        titles = [h.text for h in d.find_elements("css selector", "li.hit h3")]
        assert XSS in titles  # shown as the text it is
        assert d.find_element("id", "q").get_attribute("value") == f"alert {XSS}"
        d.get(srv.url + "article?" + urlencode({"url": XSS_URL, "q": "alert"}))
        _no_alert(d)
        assert d.find_element("css selector", "article h1").text == XSS
        assert re.search(r"<script>alert\(1\)</script>", d.find_element("css selector", "article").text)
        srv.stop()


def test_the_page_fits_a_phone(browser, server):
    d = browser
    d.set_window_size(375, 800)
    try:
        d.get(server.url + "?" + urlencode({"q": QUERY}))
        width = d.execute_script("return document.documentElement.scrollWidth")
        assert width <= 375, f"the page is {width} px wide on a 375 px screen"
        assert d.find_element("id", "q").is_displayed() and d.find_elements("css selector", "li.hit mark")
    finally:
        d.set_window_size(1280, 900)
