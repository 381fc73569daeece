"""Headless Chromium driven over the DevTools protocol, for tests of what a person sees in the
Temporal Web UI. No extra package: the protocol runs over `--remote-debugging-pipe` (file
descriptors 3 and 4 of the browser, one JSON message per NUL-terminated frame).

Chromium is the Debian package `chromium`; tests that need it skip when it is missing.
"""

import base64
import contextlib
import fcntl
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Self

CHROMIUM = "chromium"


def chromium_binary() -> str | None:
    return shutil.which(CHROMIUM)


class BrowserError(Exception):
    pass


def _above_nine(fd: int) -> int:
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return moved


class Browser:
    """One headless browser with one page (tab)."""

    def __init__(self, *, width: int = 1600, height: int = 1000) -> None:
        binary = chromium_binary()
        if binary is None:
            raise BrowserError("chromium is not installed (apt-get install chromium)")
        self._profile = tempfile.mkdtemp(prefix="kurator-chromium-")
        to_browser_read, self._to_browser = os.pipe()
        self._from_browser, from_browser_write = os.pipe()
        # The browser's ends above 9, so that moving them to 3 and 4 overwrites neither.
        to_browser_read, from_browser_write = (
            _above_nine(to_browser_read),
            _above_nine(from_browser_write),
        )

        # The shell moves the pipe ends to 3 and 4, where the browser expects them.
        redirect = (
            f'exec "$0" "$@" 3<&{to_browser_read} 4>&{from_browser_write} '
            f"{to_browser_read}<&- {from_browser_write}>&-"
        )
        self._process = subprocess.Popen(
            [
                # bash: dash, Debian's sh, redirects single-digit descriptors only.
                "bash",
                "-c",
                redirect,
                binary,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--remote-debugging-pipe",
                f"--user-data-dir={self._profile}",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            pass_fds=(to_browser_read, from_browser_write),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_browser_read)
        os.close(from_browser_write)
        self._ids = itertools.count(1)
        self._buffer = b""
        # Events the browser sent while we waited for answers (console messages, log entries).
        self.events: list[dict[str, Any]] = []
        target = self._call("Target.createTarget", {"url": "about:blank"})["targetId"]
        attached = self._call("Target.attachToTarget", {"targetId": target, "flatten": True})
        self._session = attached["sessionId"]
        self.page("Page.enable")
        self.page("Runtime.enable")
        self.page("Log.enable")  # what the console shows beyond scripts: CSP refusals, 404s

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        with contextlib.suppress(BrowserError, OSError):
            self._call("Browser.close", {})
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=10)
        for fd in (self._to_browser, self._from_browser):
            with contextlib.suppress(OSError):
                os.close(fd)
        shutil.rmtree(self._profile, ignore_errors=True)

    def page(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._call(method, params or {}, session=self._session)

    def goto(self, url: str, *, within: float = 30) -> None:
        self.page("Page.navigate", {"url": url})
        self.wait_for("document.readyState === 'complete'", within=within)

    def evaluate(self, expression: str) -> Any:
        answer = self.page(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in answer:
            raise BrowserError(f"script failed: {answer['exceptionDetails'].get('text')}")
        return answer["result"].get("value")

    def wait_for(self, expression: str, *, within: float = 30) -> Any:
        """The expression's value once truthy; BrowserError if it never is."""
        deadline = time.monotonic() + within
        while True:
            try:
                value = self.evaluate(expression)
            except BrowserError:
                value = None  # a page still loading may not define what it asks for yet
            if value:
                return value
            if time.monotonic() > deadline:
                raise BrowserError(f"not true within {within}s: {expression}")
            time.sleep(0.25)

    def console_errors(self) -> list[str]:
        """Every error the page's console showed so far: exceptions, console.error calls and
        the browser's own error entries (a refused resource, a policy violation)."""
        errors = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                errors.append(str(params.get("exceptionDetails", {}).get("text")))
            elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
                errors.append(str([arg.get("value") for arg in params.get("args", [])]))
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                errors.append(str(params["entry"].get("text")))
        return errors

    def text(self) -> str:
        return str(self.evaluate("document.body ? document.body.innerText : ''"))

    def screenshot(self, path: Path) -> None:
        shot = self.page("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
        path.write_bytes(base64.b64decode(shot["data"]))

    def _call(
        self, method: str, params: dict[str, Any], *, session: str | None = None
    ) -> dict[str, Any]:
        call_id = next(self._ids)
        message: dict[str, Any] = {"id": call_id, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            answer = self._receive()
            if "method" in answer and "id" not in answer:
                self.events.append(answer)
            if answer.get("id") == call_id:
                if "error" in answer:
                    raise BrowserError(f"{method}: {answer['error'].get('message')}")
                result: dict[str, Any] = answer.get("result", {})
                return result
        raise BrowserError(f"{method}: no answer")

    def _receive(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                raise BrowserError("the browser closed the protocol pipe")
            self._buffer += chunk
        frame, self._buffer = self._buffer.split(b"\0", 1)
        received: dict[str, Any] = json.loads(frame)
        return received
