// Rapport chat widget: paste <script src=".../static/widget.js" data-api="https://…"></script>.
// The site identifies the customer with Rapport.identify({customerId, userHash}), where
// userHash = HMAC-SHA256(widget secret, customerId) is computed by the site's backend.
(() => {
  const script = document.currentScript;
  const api = (script && script.dataset.api) || "";
  const state = { customerId: null, userHash: null, conversationId: null };

  const css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = (script ? new URL("widget.css", script.src).href : "/static/widget.css");
  document.head.appendChild(css);

  const root = document.createElement("div");
  root.className = "rw-root";
  root.innerHTML = `
    <button type="button" class="rw-launcher" aria-expanded="false" aria-controls="rw-panel">Chat with us</button>
    <section id="rw-panel" class="rw-panel" role="dialog" aria-label="Support chat" hidden>
      <header class="rw-head"><h2>Support</h2>
        <button type="button" class="rw-close" aria-label="Close chat">×</button></header>
      <div class="rw-log" role="log" aria-live="polite" aria-label="Conversation"></div>
      <form class="rw-form">
        <label for="rw-input" class="rw-sr">Your message</label>
        <textarea id="rw-input" rows="2" placeholder="Ask about an order, a return, a policy…" required></textarea>
        <button type="submit" class="rw-send">Send</button>
      </form>
    </section>`;
  document.body.appendChild(root);
  const launcher = root.querySelector(".rw-launcher");
  const panel = root.querySelector(".rw-panel");
  const log = root.querySelector(".rw-log");
  const form = root.querySelector(".rw-form");
  const input = root.querySelector("#rw-input");

  function toggle(open) {
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    if (open) input.focus(); else launcher.focus();
  }
  launcher.addEventListener("click", () => toggle(panel.hidden));
  root.querySelector(".rw-close").addEventListener("click", () => toggle(false));
  panel.addEventListener("keydown", e => { if (e.key === "Escape") toggle(false); });
  input.addEventListener("keydown", e => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
  });

  function bubble(role, text) {
    const el = document.createElement("div");
    el.className = `rw-msg rw-${role}`;
    const body = document.createElement("div");
    body.className = "rw-text";
    body.textContent = text;
    el.appendChild(body);
    log.appendChild(el);
    log.scrollTop = log.scrollHeight;
    return el;
  }

  function renderDone(el, result) {
    const body = el.querySelector(".rw-text");
    body.textContent = "";
    // Citation markers [n] become links to the cited source shown below the reply.
    const parts = result.answer.split(/(\[\d+\])/);
    const ids = new Set(result.citations.map(c => String(c.n)));
    for (const part of parts) {
      const m = part.match(/^\[(\d+)\]$/);
      if (m && ids.has(m[1])) {
        const a = document.createElement("a");
        a.href = `#rw-src-${result.turn_id}-${m[1]}`;
        a.className = "rw-cite";
        a.textContent = part;
        body.appendChild(a);
      } else body.appendChild(document.createTextNode(part));
    }
    if (result.citations.length) {
      const list = document.createElement("ol");
      list.className = "rw-sources";
      list.setAttribute("aria-label", "Sources");
      for (const c of result.citations) {
        const li = document.createElement("li");
        li.id = `rw-src-${result.turn_id}-${c.n}`;
        li.value = c.n;
        const d = document.createElement("details");
        const s = document.createElement("summary");
        s.textContent = `${c.kind}: ${c.id}`;
        d.appendChild(s);
        d.appendChild(document.createTextNode(c.text));
        li.appendChild(d);
        list.appendChild(li);
      }
      el.appendChild(list);
    }
    if (result.handoff) {
      const h = document.createElement("button");
      h.type = "button";
      h.className = "rw-human";
      h.textContent = "Talk to a human";
      h.addEventListener("click", () => send("Please connect me with a human agent."));
      el.appendChild(h);
    }
    const fb = document.createElement("div");
    fb.className = "rw-feedback";
    fb.innerHTML = `<span>Was this helpful?</span>
      <button type="button" data-r="5" aria-label="Helpful">👍</button>
      <button type="button" data-r="1" aria-label="Not helpful">👎</button>`;
    fb.querySelectorAll("button").forEach(b => b.addEventListener("click", async () => {
      const r = await fetch(`${api}/v1/feedback`, {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ turn_id: result.turn_id, customer_id: state.customerId,
          user_hash: state.userHash, rating: Number(b.dataset.r), resolved: b.dataset.r === "5" }),
      });
      fb.textContent = r.ok ? "Thanks for your feedback." : "Could not send feedback.";
    }));
    el.appendChild(fb);
    log.scrollTop = log.scrollHeight;
  }

  async function send(message) {
    if (!state.customerId) { bubble("system", "Please sign in first."); return; }
    bubble("customer", message);
    const reply = bubble("assistant", "");
    reply.setAttribute("aria-busy", "true");
    const text = reply.querySelector(".rw-text");
    const res = await fetch(`${api}/v1/chat`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "text/event-stream" },
      body: JSON.stringify({
        customer_id: state.customerId, user_hash: state.userHash,
        conversation_id: state.conversationId, message, channel: "widget",
        context: { device: window.innerWidth < 600 ? "mobile" : "desktop",
          locale: navigator.language,
          timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
          page_url: location.href },
      }),
    });
    if (!res.ok) {
      const err = await res.json().catch(() => ({ error: res.statusText }));
      text.textContent = `Sorry: ${err.error || res.statusText}`;
      reply.removeAttribute("aria-busy");
      return;
    }
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += decoder.decode(value, { stream: true }).replace(/\r\n/g, "\n");
      let i;
      while ((i = buf.indexOf("\n\n")) >= 0) {
        const raw = buf.slice(0, i); buf = buf.slice(i + 2);
        let event = "message", data = "";
        for (const line of raw.split("\n")) {
          if (line.startsWith("event:")) event = line.slice(6).trim();
          else if (line.startsWith("data:")) data += line.slice(5).trimStart();
        }
        if (event === "token") text.textContent += JSON.parse(data).text;
        else if (event === "reset") text.textContent = "";
        else if (event === "done") {
          const result = JSON.parse(data);
          state.conversationId = result.conversation_id;
          renderDone(reply, result);
          reply.removeAttribute("aria-busy");
        }
        log.scrollTop = log.scrollHeight;
      }
    }
  }

  form.addEventListener("submit", e => {
    e.preventDefault();
    const message = input.value.trim();
    if (!message) return;
    input.value = "";
    send(message);
  });

  window.Rapport = {
    identify({ customerId, userHash }) {
      state.customerId = customerId; state.userHash = userHash; state.conversationId = null;
      log.innerHTML = "";
    },
    open() { toggle(true); },
  };
})();
