// Remote sessions in the browser (remote/session.html): a command line in xterm.js or the device's screen
// in noVNC, over the session websocket of docs/agent-protocol.md ("Sessions"). The page holds every
// sentence shown here (#remote-messages), so this file needs no translation catalog.
import { Terminal } from "@xterm/xterm";
import { FitAddon } from "@xterm/addon-fit";
import RFB from "@novnc/novnc";

const root = document.querySelector("[data-remote-session]");
if (root) startSessionPage(root);

function startSessionPage(root) {
  const messages = new Map(
    [...root.querySelectorAll("#remote-messages [data-message]")].map((item) => [item.dataset.message, item.textContent.trim()]),
  );
  const say = (key) => messages.get(key) ?? "";
  const form = root.querySelector("#remote-connect");
  const connectButton = form.querySelector("[data-action=connect]");
  const disconnectButton = root.querySelector("[data-action=disconnect]");
  const statusLine = root.querySelector("#remote-status");

  const view = root.dataset.kind === "remote_control" ? screenView(root) : terminalView(root, say);
  let socket = null;
  // Why the session ended, as a key of #remote-messages: the server's `ended` frame, or this page's own.
  let endedWith = null;

  function show(state, text) {
    root.dataset.state = state;
    statusLine.textContent = text;
    statusLine.classList.toggle("text-success", state === "ready");
    statusLine.classList.toggle("text-danger", state === "ended");
    const live = state === "connecting" || state === "waiting" || state === "ready";
    form.hidden = live;
    disconnectButton.hidden = !live;
    view.showState(state);
  }

  function ended(text) {
    socket = null;
    view.end();
    connectButton.textContent = connectButton.dataset.again;
    show("ended", say("ended").replace("{reason}", text));
  }

  // The words after "Ended:": the server's `ended` frame says why; without one, the close code does.
  function endedBy(event) {
    if (endedWith) return say(endedWith) || say("unknown");
    if (event.code === 1006) return say("lost");
    return say(`code:${event.code}`) || say("unknown");
  }

  async function connect() {
    const fields = new URLSearchParams(new FormData(form));
    show("connecting", say("connecting"));
    endedWith = null;
    let response;
    try {
      response = await fetch(form.action, {
        method: "POST",
        body: fields,
        headers: { Accept: "application/json", "X-CSRFToken": csrfToken(form) },
        credentials: "same-origin",
      });
    } catch {
      failed(say("network"));
      return;
    }
    const answer = await response.json().catch(() => ({}));
    if (!response.ok || typeof answer.socket !== "string") {
      failed(answer.detail || say("token_failed"));
      return;
    }
    open(answer.socket, fields.get("view_only") === "1");
  }

  function failed(text) {
    socket = null;
    connectButton.textContent = connectButton.dataset.again;
    show("ended", text);
  }

  function open(path, viewOnly) {
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${scheme}//${window.location.host}${path}`);
    ws.binaryType = "arraybuffer";
    socket = ws;
    ws.addEventListener("open", () => ws === socket && show("waiting", say("waiting")));
    ws.addEventListener("message", (event) => {
      if (ws !== socket) return;
      if (typeof event.data !== "string") {
        view.receive(event.data);
        return;
      }
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      if (frame.type === "status" && frame.state === "waiting") {
        show("waiting", say("waiting"));
      } else if (frame.type === "status" && frame.state === "ready") {
        view.ready(ws, viewOnly);
        show("ready", say(viewOnly ? "connected_view_only" : "connected"));
      } else if (frame.type === "ended") {
        // A refusal by the device says which (the person declined, no one answered …) when known.
        endedWith = frame.refusal && say(`refusal:${frame.refusal}`) ? `refusal:${frame.refusal}` : `reason:${frame.reason}`;
      }
    });
    ws.addEventListener("close", (event) => {
      if (ws !== socket) return;
      view.closed(event);
      ended(endedBy(event));
    });
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    connect();
  });
  disconnectButton.addEventListener("click", () => {
    if (!socket) return;
    endedWith = "reason:closed_by_user";
    socket.close(1000);
  });
  view.onFailure = (messageKey) => {
    if (socket?.readyState !== WebSocket.OPEN) return;
    endedWith = messageKey;
    socket.close(1000);
  };
  window.addEventListener("pagehide", () => socket?.close(1000));
  if ("autostart" in root.dataset) connect();
}

function csrfToken(form) {
  const field = form.querySelector("input[name=csrfmiddlewaretoken]");
  if (field) return field.value;
  const cookie = document.cookie.split("; ").find((pair) => pair.startsWith("csrftoken="));
  return cookie ? decodeURIComponent(cookie.slice("csrftoken=".length)) : "";
}

// ---- Command lines (user_cli, system_cli) ----

const encoder = new TextEncoder();
const CURSOR_KEYS = { up: "A", down: "B", right: "C", left: "D" };

function terminalView(root, say) {
  const container = root.querySelector("#remote-terminal");
  const statusLine = root.querySelector("#remote-status");
  const copyButton = root.querySelector("[data-action=copy]");
  const pasteButton = root.querySelector("[data-action=paste]");
  const ctrlButton = root.querySelector("[data-key=ctrl]");
  const styles = getComputedStyle(document.documentElement);
  const term = new Terminal({
    cursorBlink: true,
    fontFamily: styles.getPropertyValue("--bs-font-monospace").trim() || "monospace",
    fontSize: window.matchMedia("(max-width: 575.98px)").matches ? 13 : 14,
    scrollback: 5000,
    theme: { background: "#1e1e1e", foreground: "#e5e5e5" },
  });
  const fit = new FitAddon();
  term.loadAddon(fit);
  term.open(container);

  let socket = null;
  let ctrlLatched = false;

  const send = (bytes) => socket?.readyState === WebSocket.OPEN && socket.send(bytes);
  const sendSize = () => socket?.readyState === WebSocket.OPEN
    && socket.send(JSON.stringify({ type: "resize", cols: term.cols, rows: term.rows }));
  const latchCtrl = (on) => {
    ctrlLatched = on;
    ctrlButton.setAttribute("aria-pressed", String(on));
    ctrlButton.classList.toggle("active", on);
  };

  term.onData((data) => {
    if (ctrlLatched && data.length === 1) {
      data = controlCharacter(data);
      latchCtrl(false);
    }
    send(encoder.encode(data));
  });
  // Bytes that are not text (some mouse reports) come as a string of byte values.
  term.onBinary((data) => send(Uint8Array.from(data, (character) => character.charCodeAt(0) & 0xff)));
  term.onResize(sendSize);

  const refit = () => {
    if (container.offsetParent !== null) fit.fit();
  };
  new ResizeObserver(() => window.requestAnimationFrame(refit)).observe(container);
  window.addEventListener("orientationchange", () => window.setTimeout(refit, 250));
  window.visualViewport?.addEventListener("resize", () => window.requestAnimationFrame(refit));
  refit();

  // Ctrl+Shift+C copies the selection (Ctrl+C stays the terminal's interrupt); Ctrl+Shift+V is left to the
  // browser, whose paste event xterm reads.
  term.attachCustomKeyEventHandler((event) => {
    if (event.type !== "keydown" || !event.ctrlKey || !event.shiftKey || event.altKey || event.metaKey) return true;
    if (event.code === "KeyC") {
      event.preventDefault();
      copySelection();
      return false;
    }
    return event.code !== "KeyV";
  });

  async function copySelection() {
    const text = term.getSelection();
    if (!text) return;
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      statusLine.textContent = say("copy_failed");
    }
    term.focus();
  }

  copyButton.hidden = !navigator.clipboard?.writeText;
  copyButton.addEventListener("click", copySelection);
  term.onSelectionChange(() => {
    copyButton.disabled = !term.hasSelection();
  });
  copyButton.disabled = true;
  pasteButton.addEventListener("click", async () => {
    try {
      term.paste(await navigator.clipboard.readText());
    } catch {
      statusLine.textContent = say("paste_failed");
    }
    term.focus();
  });

  // The extra keys keep the focus in the terminal, so a phone's keyboard stays open.
  root.querySelectorAll("#remote-keys [data-key]").forEach((button) => {
    button.addEventListener("pointerdown", (event) => event.preventDefault());
    button.addEventListener("click", () => {
      const key = button.dataset.key;
      if (key === "ctrl") {
        latchCtrl(!ctrlLatched);
      } else if (key in CURSOR_KEYS) {
        send(encoder.encode((term.modes.applicationCursorKeysMode ? "\x1bO" : "\x1b[") + CURSOR_KEYS[key]));
      } else {
        send(encoder.encode({ esc: "\x1b", tab: "\t", "ctrl-c": "\x03" }[key]));
      }
      term.focus();
    });
  });

  return {
    ready(ws) {
      socket = ws;
      term.reset();
      refit();
      sendSize();
      term.focus();
    },
    receive(data) {
      term.write(new Uint8Array(data));
    },
    closed() {},
    end() {
      socket = null;
      latchCtrl(false);
      term.blur();
    },
    showState(state) {
      const live = state === "ready";
      pasteButton.hidden = !live || !navigator.clipboard?.readText;
      root.querySelectorAll("#remote-keys button").forEach((button) => {
        button.disabled = !live;
      });
    },
  };
}

// Ctrl with a key, as a terminal sends it: Ctrl-A is 0x01 … Ctrl-_ is 0x1f, Ctrl-? is DEL.
function controlCharacter(character) {
  const code = character.toUpperCase().charCodeAt(0);
  if (code >= 0x40 && code <= 0x5f) return String.fromCharCode(code - 0x40);
  if (character === " ") return "\x00";
  if (character === "?") return "\x7f";
  return character;
}

// ---- Remote control (remote_control) ----

// What noVNC's Websock needs of a raw channel (core/websock.js attach()): our socket also carries the
// server's text frames, so noVNC gets this stand-in, which hands it only the session's binary frames.
class SessionChannel {
  constructor(socket) {
    this._socket = socket;
    this.binaryType = "arraybuffer";
    this.onopen = null;
    this.onmessage = null;
    this.onclose = null;
    this.onerror = null;
  }

  get protocol() {
    return this._socket.protocol;
  }

  get readyState() {
    return this._socket.readyState;
  }

  send(data) {
    this._socket.send(data);
  }

  close() {
    this._socket.close(1000);
  }

  deliver(data) {
    this.onmessage?.({ data });
  }

  closed(event) {
    this.onclose?.(event);
  }
}

const XK = {
  BackSpace: 0xff08, Tab: 0xff09, Return: 0xff0d, Escape: 0xff1b, Delete: 0xffff, Home: 0xff50, End: 0xff57,
  Left: 0xff51, Up: 0xff52, Right: 0xff53, Down: 0xff54, PageUp: 0xff55, PageDown: 0xff56, Control_L: 0xffe3,
};
const NAMED_KEYS = {
  Backspace: XK.BackSpace, Tab: XK.Tab, Enter: XK.Return, Escape: XK.Escape, Delete: XK.Delete, Home: XK.Home,
  End: XK.End, ArrowLeft: XK.Left, ArrowUp: XK.Up, ArrowRight: XK.Right, ArrowDown: XK.Down,
  PageUp: XK.PageUp, PageDown: XK.PageDown,
};

// X11's keysym for a character: Latin-1 is its own code, the rest of Unicode is 0x01000000 + the code point.
function keysymOf(character) {
  if (character === "\n") return XK.Return;
  const code = character.codePointAt(0);
  if ((code >= 0x20 && code <= 0x7e) || (code >= 0xa0 && code <= 0xff)) return code;
  return 0x01000000 + code;
}

function screenView(root) {
  const target = root.querySelector("#remote-screen");
  const badge = root.querySelector("#remote-view-only-badge");
  const ctrlAltDel = root.querySelector("[data-action=ctrl-alt-del]");
  const fullscreen = root.querySelector("[data-action=fullscreen]");
  const keyboardButton = root.querySelector("[data-action=keyboard]");
  const keyboardInput = root.querySelector("#remote-keyboard-input");
  const credentials = root.querySelector("#remote-credentials");
  const touch = window.matchMedia("(any-pointer: coarse)").matches;
  let rfb = null;
  let channel = null;
  let viewOnly = false;
  const view = { onFailure: null };

  // The screen's box takes the remote desktop's proportions, so on a phone it fills the width without bands.
  const fitToDesktop = () => {
    const canvas = target.querySelector("canvas");
    if (canvas?.width && canvas?.height) target.style.setProperty("--portico-screen-ratio", `${canvas.width} / ${canvas.height}`);
  };
  const sizeObserver = new MutationObserver(fitToDesktop);

  function connected(ws, asViewOnly) {
    viewOnly = asViewOnly;
    channel = new SessionChannel(ws);
    rfb = new RFB(target, channel, { shared: true });
    rfb.scaleViewport = true;
    rfb.resizeSession = false;
    rfb.clipViewport = false;
    rfb.viewOnly = viewOnly;
    rfb.addEventListener("connect", () => {
      const canvas = target.querySelector("canvas");
      if (canvas) sizeObserver.observe(canvas, { attributes: true, attributeFilter: ["width", "height"] });
      fitToDesktop();
      if (!viewOnly) rfb.focus();
    });
    rfb.addEventListener("disconnect", (event) => {
      if (!event.detail.clean) view.onFailure?.("screen_failed");
    });
    rfb.addEventListener("securityfailure", () => view.onFailure?.("screen_failed"));
    rfb.addEventListener("credentialsrequired", () => {
      credentials.hidden = false;
      credentials.querySelector("input").focus();
    });
  }

  credentials.addEventListener("submit", (event) => {
    event.preventDefault();
    const password = credentials.querySelector("input");
    rfb?.sendCredentials({ password: password.value });
    password.value = "";
    credentials.hidden = true;
  });

  ctrlAltDel.addEventListener("click", () => {
    rfb?.sendCtrlAltDel();
    rfb?.focus();
  });

  fullscreen.addEventListener("click", () => {
    if (document.fullscreenElement) document.exitFullscreen();
    else target.requestFullscreen().then(() => rfb?.focus(), () => {});
  });

  // A phone shows its keyboard only for a text field: keys typed into this hidden one go to the screen.
  // Keys with a name are sent on keydown; text (on-screen keyboards, which report no key, and input
  // methods) is read from what changed in the field.
  let typed = "";
  const resetField = () => {
    keyboardInput.value = "";
    typed = "";
  };
  keyboardButton.addEventListener("click", () => {
    resetField();
    keyboardInput.focus({ preventScroll: true });
  });
  keyboardInput.addEventListener("keydown", (event) => {
    if (!rfb || event.isComposing || event.keyCode === 229) return;
    if (event.key in NAMED_KEYS) {
      rfb.sendKey(NAMED_KEYS[event.key], event.code || null);
    } else if ([...event.key].length === 1 && !event.metaKey && !event.altKey) {
      if (event.ctrlKey) rfb.sendKey(XK.Control_L, "ControlLeft", true);
      rfb.sendKey(keysymOf(event.key), null);
      if (event.ctrlKey) rfb.sendKey(XK.Control_L, "ControlLeft", false);
    } else {
      return;
    }
    event.preventDefault();
  });
  keyboardInput.addEventListener("input", () => {
    if (!rfb) return;
    const now = keyboardInput.value;
    let common = 0;
    while (common < now.length && common < typed.length && now[common] === typed[common]) common += 1;
    for (let removed = [...typed.slice(common)].length; removed > 0; removed -= 1) rfb.sendKey(XK.BackSpace, "Backspace");
    for (const character of now.slice(common)) rfb.sendKey(keysymOf(character), null);
    typed = now;
  });
  keyboardInput.addEventListener("compositionend", () => window.setTimeout(() => {
    if (keyboardInput.value.length > 64) resetField();
  }));
  keyboardInput.addEventListener("blur", resetField);

  return Object.assign(view, {
    ready: connected,
    receive(data) {
      channel?.deliver(data);
    },
    closed(event) {
      channel?.closed(event);
    },
    end() {
      sizeObserver.disconnect();
      credentials.hidden = true;
      rfb = null;
      channel = null;
    },
    showState(state) {
      const live = state === "ready";
      badge.hidden = !(live && viewOnly);
      ctrlAltDel.hidden = !live || viewOnly;
      keyboardButton.parentElement.hidden = !live || viewOnly || !touch;
      fullscreen.hidden = !live || !document.fullscreenEnabled;
    },
  });
}
