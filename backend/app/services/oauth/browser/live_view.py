"""A live view of a login page for a user whose browser runs on a server.

Frames come from CDP `Page.startScreencast` (JPEG) and go to an async sink; the user's clicks,
drags, typing and scrolling come back as small dicts and are replayed with `Input.dispatch*`.
Transport-agnostic: the API layer wires sink and `send` to a WebSocket bound to the owner.
Coordinates are page CSS pixels (0..`LiveFrame.width`, 0..`LiveFrame.height`); a client showing
the frame at another size scales them.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from playwright.async_api import BrowserContext, CDPSession, Page
from playwright.async_api import Error as PlaywrightError
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LiveFrame:
    jpeg: bytes = field(repr=False)
    width: int
    """The page's viewport in CSS pixels, the space input coordinates are in."""
    height: int
    scroll_x: float = 0.0
    scroll_y: float = 0.0
    timestamp: float | None = None


FrameSink = Callable[[LiveFrame], Awaitable[None]]


# key -> (code, Windows virtual key code, text it types)
_NAMED_KEYS: dict[str, tuple[str, int, str | None]] = {
    "Enter": ("Enter", 13, "\r"),
    "Tab": ("Tab", 9, None),
    "Backspace": ("Backspace", 8, None),
    "Delete": ("Delete", 46, None),
    "Escape": ("Escape", 27, None),
    "ArrowLeft": ("ArrowLeft", 37, None),
    "ArrowUp": ("ArrowUp", 38, None),
    "ArrowRight": ("ArrowRight", 39, None),
    "ArrowDown": ("ArrowDown", 40, None),
    "Home": ("Home", 36, None),
    "End": ("End", 35, None),
    "PageUp": ("PageUp", 33, None),
    "PageDown": ("PageDown", 34, None),
    " ": ("Space", 32, " "),
}


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Pointer(_Input):
    x: float = Field(ge=0, le=10_000)
    y: float = Field(ge=0, le=10_000)
    button: Literal["left", "middle", "right"] = "left"


class Click(_Pointer):
    type: Literal["click"]
    click_count: int = Field(default=1, ge=1, le=3)


class MouseDown(_Pointer):
    type: Literal["mousedown"]


class MouseUp(_Pointer):
    type: Literal["mouseup"]


class MouseMove(_Pointer):
    type: Literal["mousemove"]


class Key(_Input):
    """A named key (`Enter`, `Backspace`, `ArrowLeft`, ... or one character), or text to type."""

    type: Literal["key"]
    key: str | None = Field(default=None, max_length=16)
    text: str | None = Field(default=None, max_length=1_000)

    @model_validator(mode="after")
    def _check(self) -> Key:
        if not self.key and not self.text:
            raise ValueError("a key event needs key or text")
        if self.key and self.key not in _NAMED_KEYS and len(self.key) != 1:
            raise ValueError(f"unsupported key {self.key!r}")
        return self


class Text(_Input):
    type: Literal["text"]
    text: str = Field(max_length=1_000)


class Scroll(_Input):
    type: Literal["scroll"]
    x: float | None = Field(default=None, ge=0, le=10_000)
    y: float | None = Field(default=None, ge=0, le=10_000)
    dx: float = Field(default=0, ge=-10_000, le=10_000)
    dy: float = Field(default=0, ge=-10_000, le=10_000)


LiveInput = Annotated[
    Click | MouseDown | MouseUp | MouseMove | Key | Text | Scroll, Field(discriminator="type")
]
_input_adapter: TypeAdapter[LiveInput] = TypeAdapter(LiveInput)

_BUTTON_MASK = {"left": 1, "right": 2, "middle": 4}


class LiveView:
    """Screencast of one page to a sink, and the user's input relayed back to it.

    One frame is in flight at a time: the next is acknowledged only after the sink took the
    last, so a slow client gets fewer frames rather than a backlog.
    """

    def __init__(self, page: Page, cdp: CDPSession, sink: FrameSink) -> None:
        self._page = page
        self._cdp = cdp
        self._sink = sink
        self._frames: asyncio.Queue[tuple[LiveFrame, int]] = asyncio.Queue(maxsize=1)
        self._pump: asyncio.Task[None] | None = None
        self._buttons = 0
        self._closed = asyncio.Event()
        self._background: set[asyncio.Task[None]] = set()

    @classmethod
    async def start(
        cls, context: BrowserContext, page: Page, sink: FrameSink, *, quality: int = 70
    ) -> LiveView:
        cdp = await context.new_cdp_session(page)
        view = cls(page, cdp, sink)
        cdp.on("Page.screencastFrame", view._on_frame)
        view._pump = asyncio.get_running_loop().create_task(view._deliver())
        size = page.viewport_size or {"width": 1280, "height": 800}
        await cdp.send(
            "Page.startScreencast",
            {
                "format": "jpeg",
                "quality": quality,
                "maxWidth": size["width"],
                "maxHeight": size["height"],
                "everyNthFrame": 1,
            },
        )
        return view

    @property
    def viewport(self) -> tuple[int, int]:
        """The page's size in CSS pixels: the space of input coordinates."""
        size = self._page.viewport_size or {"width": 1280, "height": 800}
        return size["width"], size["height"]

    def _soon(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    async def wait_closed(self) -> None:
        await self._closed.wait()

    def _on_frame(self, params: dict[str, Any]) -> None:
        meta = params.get("metadata", {})
        frame = LiveFrame(
            jpeg=base64.b64decode(params["data"]),
            width=round(meta.get("deviceWidth", 0)),
            height=round(meta.get("deviceHeight", 0)),
            scroll_x=meta.get("scrollOffsetX", 0.0),
            scroll_y=meta.get("scrollOffsetY", 0.0),
            timestamp=meta.get("timestamp"),
        )
        if self._frames.full():
            _stale, stale_id = self._frames.get_nowait()
            self._soon(self._ack(stale_id))
        self._frames.put_nowait((frame, params["sessionId"]))

    async def _deliver(self) -> None:
        while True:
            frame, session_id = await self._frames.get()
            try:
                await self._sink(frame)
            except Exception:
                logger.info("live view sink failed; closing the live view", exc_info=True)
                self._soon(self.close())
                return
            await self._ack(session_id)

    async def _ack(self, session_id: int) -> None:
        with suppress(PlaywrightError):  # the page is gone
            await self._cdp.send("Page.screencastFrameAck", {"sessionId": session_id})

    async def send(self, event: Mapping[str, Any] | LiveInput) -> None:
        """Replay one input event on the page.

        Raises `pydantic.ValidationError` for a malformed event; ignored once closed.
        """
        parsed = _input_adapter.validate_python(event)
        if self.closed:
            return
        try:
            await self._dispatch(parsed)
        except PlaywrightError:
            logger.info("live view input not delivered: the page is gone")

    async def _dispatch(self, event: LiveInput) -> None:
        if isinstance(event, Click):
            await self._mouse("mouseMoved", event.x, event.y, "none")
            for kind in ("mousePressed", "mouseReleased"):
                await self._mouse(kind, event.x, event.y, event.button, event.click_count)
        elif isinstance(event, MouseDown):
            await self._mouse("mousePressed", event.x, event.y, event.button, 1)
        elif isinstance(event, MouseUp):
            await self._mouse("mouseReleased", event.x, event.y, event.button, 1)
        elif isinstance(event, MouseMove):
            await self._mouse("mouseMoved", event.x, event.y, "none")
        elif isinstance(event, Text):
            await self._cdp.send("Input.insertText", {"text": event.text})
        elif isinstance(event, Key):
            if event.key:
                await self._key(event.key)
            if event.text:
                await self._cdp.send("Input.insertText", {"text": event.text})
        elif isinstance(event, Scroll):
            size = self._page.viewport_size or {"width": 1280, "height": 800}
            await self._cdp.send(
                "Input.dispatchMouseEvent",
                {
                    "type": "mouseWheel",
                    "x": event.x if event.x is not None else size["width"] / 2,
                    "y": event.y if event.y is not None else size["height"] / 2,
                    "deltaX": event.dx,
                    "deltaY": event.dy,
                },
            )

    async def _mouse(
        self, kind: str, x: float, y: float, button: str, click_count: int = 0
    ) -> None:
        if kind == "mousePressed":
            self._buttons |= _BUTTON_MASK[button]
        elif kind == "mouseReleased":
            self._buttons &= ~_BUTTON_MASK[button]
        params: dict[str, Any] = {"type": kind, "x": x, "y": y, "buttons": self._buttons}
        if kind == "mouseMoved":
            pressed = [name for name, bit in _BUTTON_MASK.items() if self._buttons & bit]
            params["button"] = pressed[0] if pressed else "none"
        else:
            params.update(button=button, clickCount=click_count)
        await self._cdp.send("Input.dispatchMouseEvent", params)

    async def _key(self, key: str) -> None:
        if key in _NAMED_KEYS:
            code, key_code, text = _NAMED_KEYS[key]
        elif len(key) == 1:
            code, key_code, text = "", ord(key.upper()) if key.isalnum() else 0, key
        else:  # unreachable: Key validates the name
            return
        down: dict[str, Any] = {
            "type": "keyDown" if text else "rawKeyDown",
            "key": key,
            "code": code,
            "windowsVirtualKeyCode": key_code,
            "nativeVirtualKeyCode": key_code,
        }
        if text:
            down.update(text=text, unmodifiedText=text)
        await self._cdp.send("Input.dispatchKeyEvent", down)
        await self._cdp.send(
            "Input.dispatchKeyEvent",
            {
                "type": "keyUp",
                "key": key,
                "code": code,
                "windowsVirtualKeyCode": key_code,
                "nativeVirtualKeyCode": key_code,
            },
        )

    async def close(self) -> None:
        """Stop the screencast and detach; safe to call more than once."""
        if self._closed.is_set():
            return
        self._closed.set()
        if self._pump is not None and self._pump is not asyncio.current_task():
            self._pump.cancel()
            await asyncio.gather(self._pump, return_exceptions=True)
        try:
            await self._cdp.send("Page.stopScreencast")
            await self._cdp.detach()
        except PlaywrightError:
            pass  # the page or the context is gone already
