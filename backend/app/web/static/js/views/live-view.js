// The login page of a server-side browser, streamed over a WebSocket; clicks and keys go back.

import { auth } from "../api.js";
import { h } from "../dom.js";
import { t } from "../i18n.js";

const NAMED_KEYS = new Set([
  "Enter", "Tab", "Backspace", "Delete", "Escape", "ArrowLeft", "ArrowUp", "ArrowRight",
  "ArrowDown", "Home", "End", "PageUp", "PageDown",
]);

/** The browser login `state`, live over its WebSocket. Returns {element, close}. */
export function liveView(state) {
  const image = h("img", { class: "live-frame", alt: t("live.alt") });
  const status = h("p", { class: "muted", role: "status" }, t("live.connecting"));
  const surface = h(
    "div",
    { class: "live-surface", tabindex: "0", role: "application", "aria-label": t("live.label") },
    image,
  );
  const element = h("section", { class: "live" }, h("h3", {}, t("live.title")), h("p", { class: "hint" }, t("live.help")), surface, status);
  let frameWidth = 0;
  let objectUrl = null;
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(`${scheme}//${location.host}/api/v1/oauth/sessions/${encodeURIComponent(state)}/live`);
  socket.binaryType = "blob";

  const sendInput = (event) => socket.readyState === WebSocket.OPEN && socket.send(JSON.stringify(event));

  socket.addEventListener("open", () => {
    socket.send(JSON.stringify({ type: "auth", token: auth.token }));
    status.textContent = t("live.connected");
  });
  socket.addEventListener("close", () => {
    status.textContent = t("live.closed");
  });
  socket.addEventListener("message", (message) => {
    if (message.data instanceof Blob) {
      if (objectUrl) URL.revokeObjectURL(objectUrl);
      objectUrl = URL.createObjectURL(message.data);
      image.src = objectUrl;
      return;
    }
    const data = JSON.parse(message.data);
    if (data.type === "frame") {
      frameWidth = data.width || 0;
      image.src = `data:image/jpeg;base64,${data.jpeg || data.data}`;
    }
  });

  // Coordinates are the remote page's CSS pixels: scale from the size the frame is shown at.
  const point = (event) => {
    const box = image.getBoundingClientRect();
    const scale = (frameWidth || image.naturalWidth || box.width) / box.width;
    return { x: Math.max(0, (event.clientX - box.left) * scale), y: Math.max(0, (event.clientY - box.top) * scale) };
  };
  image.addEventListener("click", (event) => {
    surface.focus();
    sendInput({ type: "click", ...point(event) });
  });
  surface.addEventListener(
    "wheel",
    (event) => {
      event.preventDefault();
      sendInput({ type: "scroll", ...point(event), dx: event.deltaX, dy: event.deltaY });
    },
    { passive: false },
  );
  surface.addEventListener("keydown", (event) => {
    if (event.key === "Tab" || event.ctrlKey || event.metaKey || event.altKey) return;
    if (NAMED_KEYS.has(event.key)) sendInput({ type: "key", key: event.key });
    else if (event.key.length === 1) sendInput({ type: "key", text: event.key });
    else return;
    event.preventDefault();
  });
  surface.addEventListener("paste", (event) => {
    const text = event.clipboardData?.getData("text");
    if (text) sendInput({ type: "text", text });
    event.preventDefault();
  });

  return {
    element,
    close() {
      socket.close();
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    },
  };
}
