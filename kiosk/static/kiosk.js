// The kiosk page: read-aloud toggles (off by default; one press reads the region, a second
// press stops at once), the phone's key map, reading settings, and the idle reset.
"use strict";
(function () {
  const player = new Audio();
  player.preload = "auto";
  const status = document.getElementById("status");
  const body = document.body;
  let active = null; // {button, region, sentences, index, part, queue}
  let reading = 0; // a counter: a stale fetch or ended event of an older reading is ignored

  function say(text) { status.textContent = text; }
  // The pace is made by the voice itself (the server renders at slow, normal or fast), never by
  // speeding up playback, which would distort the voice.
  function withPace(url) {
    const speed = document.getElementById("speed").value;
    return url + (url.includes("?") ? "&" : "?") + "speed=" + encodeURIComponent(speed);
  }
  function regions() { return Array.from(document.querySelectorAll(".region")); }
  function toggleOf(region) { return region.querySelector(".read-toggle"); }

  function clearHighlight() {
    document.querySelectorAll(".sentence.reading").forEach((s) => s.classList.remove("reading"));
  }
  function highlight(region, index) {
    clearHighlight();
    const span = region.querySelector('.sentence[data-i="' + index + '"]');
    if (span) { span.classList.add("reading"); span.scrollIntoView({ block: "center" }); }
  }

  function stop(announce) {
    reading += 1;
    player.pause();
    player.removeAttribute("src");
    if (active) {
      active.button.setAttribute("aria-pressed", "false");
      if (active.pageButton) active.pageButton.setAttribute("aria-pressed", "false");
    }
    active = null;
    clearHighlight();
    if (announce) say("已停止");
  }

  async function start(region, pageButton, rest, handsFree) {
    stop(false);
    const mine = ++reading;
    const button = toggleOf(region);
    button.setAttribute("aria-pressed", "true");
    if (pageButton) pageButton.setAttribute("aria-pressed", "true");
    active = { button, region, pageButton, rest: rest || [], sentences: [], index: 0, part: 0, handsFree: !!handsFree };
    say("开始朗读");
    if (micState && micState.ws.readyState === 1) micState.ws.send("reset");
    const response = await fetch(withPace(handsFree && region.dataset.full ? region.dataset.full : region.dataset.speech));
    if (mine !== reading) return;
    if (!response.ok) { say("暂时无法朗读，请稍后再试"); stop(false); return; }
    const answer = await response.json();
    active.sentences = answer.sentences;
    active.more = answer.more || null;
    playCurrent();
  }

  // A long region comes a page of sentences at a time: the next page is asked for on arrival.
  async function fetchMore() {
    if (active.fetching) return;  // one request for the next page, however often we get here
    active.fetching = true;
    const mine = reading;
    const response = await fetch(withPace(active.more));
    if (mine !== reading || !active) return;
    active.fetching = false;
    if (!response.ok) { say("暂时无法朗读，请稍后再试"); stop(false); return; }
    const answer = await response.json();
    active.sentences = active.sentences.concat(answer.sentences);
    active.more = answer.more || null;
    playCurrent();
  }

  function playCurrent() {
    if (!active) return;
    const sentence = active.sentences[active.index];
    if (!sentence && active.more) { fetchMore(); return; }
    if (!sentence) { finished(); return; }
    highlight(active.region, active.index);
    player.src = sentence.audio[active.part];
    player.volume = parseFloat(document.getElementById("volume").value);
    player.play().catch(() => {});
  }

  function finished() {
    const next = active && active.rest.length ? active.rest[0] : null;
    const pageButton = active && active.pageButton;
    const rest = active ? active.rest.slice(1) : [];
    if (next) { start(next, pageButton, rest, active.handsFree); return; }
    stop(false);
    say("朗读完毕");
  }

  player.addEventListener("ended", () => {
    if (!active || menuMode) return;
    const sentence = active.sentences[active.index];
    if (sentence && active.part + 1 < sentence.audio.length) { active.part += 1; }
    else { active.index += 1; active.part = 0; }
    playCurrent();
  });

  function press(region) {
    if (active && active.region === region && !active.pageButton) { stop(true); return; }
    start(region, null, []);
  }

  document.querySelectorAll(".region .read-toggle").forEach((button) => {
    button.addEventListener("click", () => press(button.closest(".region")));
  });
  document.querySelectorAll(".page-toggle").forEach((button) => {
    button.addEventListener("click", () => {
      if (active && active.pageButton === button) { stop(true); return; }
      const all = regions();
      const handsFree = button.dataset.handsFree === "1";
      if (all.length) start(all[0], button, all.slice(1), handsFree);
      if (handsFree && mic && !micState) micOn();  // hands-free: read on, and listen for 下一条/上一条/停止
    });
  });

  // Settings: remembered for this visitor only, and forgotten by the idle reset.
  function setting(id, cls) {
    const button = document.getElementById(id);
    const on = sessionStorage.getItem(id) === "1";
    body.classList.toggle(cls, on);
    button.setAttribute("aria-pressed", on ? "true" : "false");
    button.addEventListener("click", () => {
      const now = button.getAttribute("aria-pressed") !== "true";
      button.setAttribute("aria-pressed", now ? "true" : "false");
      body.classList.toggle(cls, now);
      sessionStorage.setItem(id, now ? "1" : "0");
    });
  }
  setting("large-type", "large");
  setting("contrast", "contrast");
  ["speed", "volume"].forEach((id) => {
    const input = document.getElementById(id);
    if (sessionStorage.getItem(id)) input.value = sessionStorage.getItem(id);
    input.addEventListener("change", () => {
      sessionStorage.setItem(id, input.value);
        player.volume = parseFloat(document.getElementById("volume").value);
    });
  });

  // Keys and spoken commands both become intents, from the one key map (content/keys.py): the
  // page's keys arrive in data-keys, the microphone's words as intents from the server.
  // choose N opens or reads item N, read_all reads the page from the top, cancel stops and goes
  // back, repeat (or help) repeats, next and previous move on or back.
  const pageIntents = JSON.parse(body.dataset.keys || "{}");
  function onKey(key) {
    const intent = pageIntents[key];
    if (!intent) return false;
    if (menuMode) { player.pause(); menuQueue = []; menuSend({ kind: "key", key: key }); return true; }
    return act(intent, intent === "choose" ? parseInt(key, 10) : null);
  }
  function onSpoken(intent, number) {
    if (menuMode) { player.pause(); menuQueue = []; menuSend({ kind: "intent", intent: intent, number: number }); return; }
    act(intent, number);
  }
  function act(intent, number) {
    if (active && active.pageButton && (intent === "next" || intent === "previous")) {
      // hands-free or 连读: move through the page's regions
      const all = regions();
      const at = all.indexOf(active.region);
      const to = intent === "next" ? at + 1 : Math.max(0, at - 1);
      if (to < all.length) start(all[to], active.pageButton, all.slice(to + 1), active.handsFree);
      return true;
    }
    if (intent === "previous") {
      const all = regions();
      const from = active ? all.indexOf(active.region) : 0;
      if (from > 0) start(all[from - 1], null, []);
    } else if (intent === "read_all") {  // as on the phone: read the whole page (at home: every notice, hands-free)
      const toggle = document.querySelector(".page-toggle");
      if (toggle) toggle.click();
    } else if (intent === "choose") {
      const region = regions().find((r) => r.dataset.key === String(number));
      if (!region) { say("没有这个选项"); return true; }
      if (region.dataset.href) { window.location.href = region.dataset.href; } else { start(region, null, []); }
    } else if (intent === "cancel") {
      if (active) { stop(true); } else if (body.dataset.home && window.location.pathname !== body.dataset.home) { window.location.href = body.dataset.home; }
    } else if (intent === "repeat" || intent === "help") {
      if (active) { active.part = 0; player.pause(); playCurrent(); }
    } else if (intent === "next") {
      const all = regions();
      const from = active ? all.indexOf(active.region) : -1;
      if (from + 1 < all.length) start(all[from + 1], null, []);
    } else if (intent === "slower" || intent === "faster") {  // 慢一点 / 快一点: the page's own speed choice
      const speed = document.getElementById("speed");
      const to = speed.selectedIndex + (intent === "faster" ? 1 : -1);
      if (to < 0 || to >= speed.options.length) return false;
      speed.selectedIndex = to;
      speed.dispatchEvent(new Event("change"));
    } else if (intent === "louder" || intent === "softer") {  // 大声一点 / 小声一点: the page's volume
      const volume = document.getElementById("volume");
      const to = Math.min(1, Math.max(0.2, parseFloat(volume.value) + (intent === "louder" ? 0.2 : -0.2)));
      volume.value = to.toFixed(1);
      volume.dispatchEvent(new Event("change"));
    } else {
      return false;  // yes/no only answer the voice menu's question; a page asks none
    }
    return true;
  }

  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if (target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT" || target.isContentEditable)) return;
    if (onKey(event.key)) event.preventDefault();
  });

  // Voice: off by default; when on, 16 kHz PCM from an AudioWorklet streams to the recogniser.
  const mic = document.getElementById("mic");
  let micState = null;
  const heard = [];
  async function micOn() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const ws = new WebSocket(scheme + location.host + mic.dataset.listen);
    ws.binaryType = "arraybuffer";
    let stream, context;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true } });
      context = new AudioContext({ sampleRate: 16000 });
      await context.audioWorklet.addModule(mic.dataset.worklet);
    } catch (error) {
      say("无法打开麦克风，请使用按键");
      ws.close();
      return;
    }
    const source = context.createMediaStreamSource(stream);
    const node = new AudioWorkletNode(context, "mic-forwarder");
    const mute = context.createGain();
    mute.gain.value = 0;
    source.connect(node).connect(mute).connect(context.destination);
    node.port.onmessage = (event) => {
      if (ws.readyState !== 1) return;
      const samples = event.data;
      const pcm = new Int16Array(samples.length);
      for (let i = 0; i < samples.length; i++) pcm[i] = Math.max(-32768, Math.min(32767, Math.round(samples[i] * 32767)));
      ws.send(pcm.buffer);
    };
    ws.onmessage = (event) => {
      const message = JSON.parse(event.data);
      heard.push(message);
      if (message.error) { say(message.error); micOff(); return; }
      if (message.intent) { touched(); onSpoken(message.intent, message.number); return; }
      if (message.check) {  // 四/十: the menu asks first; on the page, ask for a key instead
        if (menuMode) { player.pause(); menuQueue = []; menuSend({ kind: "check", number: message.check }); }
        else { say("没有听清，请再说一遍，或者按键选择"); }
      }
    };
    micState = { ws, stream, context };
    mic.setAttribute("aria-pressed", "true");
    say("正在听，请说出编号或“停止”");
  }
  function micOff() {
    if (!micState) return;
    micState.stream.getTracks().forEach((t) => t.stop());
    micState.context.close();
    micState.ws.close();
    micState = null;
    mic.setAttribute("aria-pressed", "false");
  }
  if (mic) mic.addEventListener("click", () => (micState ? micOff() : micOn()));

  // Idle: a warning with a countdown, then reading stops, settings reset, and home returns.
  const idleBox = document.getElementById("idle");
  const idleCount = document.getElementById("idle-count");
  const idleSeconds = parseFloat(body.dataset.idleSeconds || "120");
  const countdownSeconds = parseFloat(body.dataset.countdownSeconds || "30");
  let lastInput = Date.now();
  let countdownUntil = null;
  function touched() { lastInput = Date.now(); if (countdownUntil) { countdownUntil = null; idleBox.hidden = true; } }
  ["keydown", "pointerdown", "touchstart", "click"].forEach((type) => document.addEventListener(type, touched, true));
  document.getElementById("idle-continue").addEventListener("click", touched);
  setInterval(() => {
    const now = Date.now();
    if ((active || menuMode) && !player.paused) { lastInput = now; return; }
    if (!countdownUntil && now - lastInput >= idleSeconds * 1000) {
      countdownUntil = now + countdownSeconds * 1000;
      idleBox.hidden = false;
      document.getElementById("idle-continue").focus();
    }
    if (countdownUntil) {
      const left = Math.max(0, Math.ceil((countdownUntil - now) / 1000));
      idleCount.textContent = String(left);
      if (left <= 0) {
        stop(false);
        micOff();
        if (menuMode) menuOff();
        sessionStorage.clear();
        window.location.href = body.dataset.home || "/";
      }
    }
  }, 250);

  // The voice menu: the phone's conversation (content/menu.py), spoken by the kiosk. The page
  // keeps the menu state; each key, spoken command, silence or end of audio is one turn.
  const caption = document.getElementById("caption");
  const gatherSeconds = parseFloat(body.dataset.gatherSeconds || "8");
  let menuMode = false;
  let menuState = null;
  let menuReading = false;
  let menuQueue = [];
  let menuTimer = null;
  let menuTurn = 0;
  const menuButton = document.getElementById("voice-menu");

  async function menuSend(event) {
    clearTimeout(menuTimer);
    const mine = ++menuTurn;
    const response = await fetch(withPace("/kiosk/menu"), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ state: menuState, event: event }),
    });
    if (!response.ok || mine !== menuTurn || !menuMode) return;
    const turn = await response.json();
    menuState = turn.state;
    menuReading = turn.reading;
    for (const action of turn.actions) {
      if (action.type === "stop") { player.pause(); menuQueue = []; }
      else if (action.type === "say") {
        if (!action.audio.length) { caption.hidden = false; caption.textContent = action.text; say("暂时无法朗读，请看屏幕上的文字"); }
        action.audio.forEach((url) => menuQueue.push({ url: url, text: action.text }));
      }
      else if (action.type === "end") { menuQueue.push({ end: true }); }
    }
    menuNext();
  }
  function menuNext() {
    const item = menuQueue.shift();
    if (!item) {  // all heard: reading goes on; a menu waits for an answer, then asks again
      if (menuReading) { menuSend({ kind: "finished" }); }
      else { menuTimer = setTimeout(() => menuSend({ kind: "timeout" }), gatherSeconds * 1000); }
      return;
    }
    if (item.end) { menuOff(); sessionStorage.clear(); window.location.href = body.dataset.home || "/"; return; }
    caption.hidden = false;
    caption.textContent = item.text;
    player.src = item.url;
    player.volume = parseFloat(document.getElementById("volume").value);
    player.play().catch(() => {});
  }
  player.addEventListener("ended", () => { if (menuMode) menuNext(); });
  function menuOn() {
    stop(false);
    menuMode = true;
    menuState = null;
    menuButton.setAttribute("aria-pressed", "true");
    say("语音菜单已开启：按数字选择，按 * 返回");
    menuSend({ kind: "start" });
  }
  function menuOff() {
    menuMode = false;
    menuTurn += 1;
    clearTimeout(menuTimer);
    menuQueue = [];
    player.pause();
    caption.hidden = true;
    menuButton.setAttribute("aria-pressed", "false");
    say("已停止");
  }
  menuButton.addEventListener("click", () => (menuMode ? menuOff() : menuOn()));

  window.tingwen = { player: player, heard: heard, listening: () => !!micState, menu: () => menuMode && { state: JSON.parse(menuState || "null"), reading: menuReading }, state: () => active && { index: active.index, region: regions().indexOf(active.region) } };
})();
