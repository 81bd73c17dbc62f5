// The agent-assist sidebar: conversation queue, customer card, drafts, articles, actions.
(() => {
  const keyInput = document.getElementById("agent-key");
  const list = document.getElementById("queue-list");
  const status = document.getElementById("queue-status");
  const detail = document.getElementById("detail");
  let key = sessionStorage.getItem("rapport-agent-key") || "";

  const el = (tag, props = {}, ...children) => {
    const node = Object.assign(document.createElement(tag), props);
    for (const c of children) node.append(c);
    return node;
  };
  const api = async (path, init = {}) => {
    const res = await fetch(path, { ...init, headers: { "X-API-Key": key, "Content-Type": "application/json", ...(init.headers || {}) } });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(body.error || res.statusText);
    return body;
  };

  async function loadQueue() {
    status.textContent = "Loading…";
    try {
      const items = await api("/v1/agent/conversations");
      list.replaceChildren();
      for (const it of items) {
        const b = el("button", { type: "button" },
          el("span", { className: "who", textContent: it.customer_name || it.customer_id }),
          el("span", { className: "last", textContent: it.last_message }));
        if (it.handoff) b.querySelector(".who").append(el("span", { className: "badge", textContent: "handoff" }));
        b.addEventListener("click", () => select(it, b));
        list.append(el("li", {}, b));
      }
      status.textContent = items.length ? `${items.length} conversations` : "No conversations yet.";
    } catch (e) { status.textContent = `Error: ${e.message}`; }
  }

  function section(title, ...children) {
    return el("section", { className: "card" }, el("h2", { textContent: title }), ...children);
  }
  function bullets(items, fmt) {
    const ul = el("ul");
    for (const it of items) ul.append(el("li", {}, fmt(it)));
    if (!items.length) ul.append(el("li", { className: "muted", textContent: "None" }));
    return ul;
  }

  async function select(item, button) {
    list.querySelectorAll("button").forEach(b => b.removeAttribute("aria-current"));
    button.setAttribute("aria-current", "true");
    detail.replaceChildren(el("p", { className: "muted", textContent: "Loading assist…" }));
    try {
      const a = await api("/v1/assist", { method: "POST", body: JSON.stringify({ conversation_id: item.conversation_id }) });
      const c = a.customer;
      const consents = Object.entries(c.consents).map(([k, v]) => `${k}: ${v ? "yes" : "no"}`).join(", ");
      const replyBox = el("textarea", { id: "reply-box" });
      const replyLabel = el("label", { htmlFor: "reply-box", textContent: "Reply to the customer" });
      const drafts = a.suggested_replies.map((d, i) => {
        const use = el("button", { type: "button", textContent: `Use draft ${i + 1}` });
        use.addEventListener("click", () => { replyBox.value = d; replyBox.focus(); });
        return el("div", { className: "draft" }, el("div", { textContent: d }), use);
      });
      detail.replaceChildren(
        section("Customer",
          el("p", {}, el("strong", { textContent: c.name || c.id }), ` (${c.id})`),
          el("p", { className: "muted", textContent: [c.email, [c.city, c.region, c.country].filter(Boolean).join(", "), c.locale].filter(Boolean).join(" · ") }),
          el("p", { className: "muted", textContent: `Consent — ${consents}` }),
          el("p", { className: "segments", ariaLabel: "Segments" },
            ...(a.segments.length
              ? a.segments.map(sg => el("span", { className: "badge segment", textContent: sg }))
              : [el("span", { className: "muted", textContent: c.consents.personalization ? "No segments" : "Segments not computed (no personalization consent)" })])),
          a.variant ? el("p", { className: "muted", textContent: `Experiment: ${a.variant}` }) : "",
          el("h3", { textContent: "Recent orders" }),
          bullets(a.overview.orders, o => `${o.id} — ${o.status}: ${o.items.join(", ")}`)),
        section("Summary", el("p", { textContent: a.summary }),
          el("p", { className: "muted", textContent: `Latest message: ${a.message}` })),
        section("Suggested replies", ...drafts, replyLabel, replyBox),
        section("Next best actions", bullets(a.next_best_actions, n => `${n.action}${n.target ? " " + n.target : ""} — ${n.reason}`),
          el("details", { className: "needs" }, el("summary", { textContent: "Predicted needs" }),
            bullets(a.predicted_needs.filter(n => n.score > 0), n =>
              `${n.action} (${n.score.toFixed(1)}${n.eligible ? "" : ", not eligible"})${n.reasons.length ? " — " + n.reasons.join("; ") : ""}`))),
        section("Relevant articles", bullets(a.articles, ar => el("details", {}, el("summary", { textContent: ar.title || ar.id }), ar.snippet))),
        section("Risk flags", (() => { const u = bullets(a.risk_flags, f => f); u.className = "flags"; return u; })(),
          el("details", { className: "trace" }, el("summary", { textContent: "Decision trace" }),
            bullets(a.decision_trace, h => {
              const inputs = Object.entries(h.inputs).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ");
              return `${h.rule}${inputs ? " (" + inputs + ")" : ""}`;
            }))),
      );
    } catch (e) {
      detail.replaceChildren(el("p", { textContent: `Error: ${e.message}` }));
    }
  }

  document.getElementById("key-form").addEventListener("submit", e => {
    e.preventDefault();
    key = keyInput.value.trim();
    sessionStorage.setItem("rapport-agent-key", key);
    loadQueue();
  });

  (async () => {
    if (!key) {
      const res = await fetch("/demo/agent-key").catch(() => null);
      if (res && res.ok) key = (await res.json()).key;
    }
    if (key) { keyInput.value = key; loadQueue(); }
    else status.textContent = "Enter your agent API key.";
  })();
})();
