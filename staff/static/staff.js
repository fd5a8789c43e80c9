// The staff console: 试听 buttons play a sentence (or a word with a proposed pinyin) in the
// service's own voice; a second press stops it.
"use strict";
(function () {
  const player = new Audio();
  let queue = [];
  let playing = null;
  const token = document.querySelector('input[name="csrf_token"]');

  function stop() { player.pause(); queue = []; if (playing) playing.setAttribute("aria-pressed", "false"); playing = null; }
  player.addEventListener("ended", () => { if (queue.length) { player.src = queue.shift(); player.play(); } else { stop(); } });

  document.querySelectorAll("button.play").forEach((button) => {
    button.setAttribute("aria-pressed", "false");
    button.addEventListener("click", async () => {
      if (playing === button) { stop(); return; }
      stop();
      const text = button.dataset.text || document.getElementById(button.dataset.from).value;
      const form = new FormData();
      form.append("text", text);
      if (button.dataset.pinyinFrom) form.append("pinyin", document.getElementById(button.dataset.pinyinFrom).value);
      if (token) form.append("csrf_token", token.value);
      const response = await fetch("/staff/speech", { method: "POST", body: form, headers: { Accept: "application/json" } });
      const answer = await response.json();
      if (!response.ok || !answer.audio || !answer.audio.length) { alert(answer.error || "暂时无法朗读"); return; }
      playing = button;
      button.setAttribute("aria-pressed", "true");
      queue = answer.audio.slice(1);
      player.src = answer.audio[0];
      player.play().catch(() => {});
    });
  });
  window.tingwenStaff = { player: player };
})();
